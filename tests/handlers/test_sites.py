"""Managers scoped to sites (issue 19): two sites, a manager for each and one for all sites.

一号园区's reporter is 李明 (the `reporter` fixture), 二号园区's is 赵六. 北区经理 looks after
一号园区, 南区经理 (in English) after 二号园区, 总经理 after every site.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.dashboard import COOKIE, issue_token
from storage import people
from storage.models import Role
from tests.handlers.test_sla_and_escalation import tick
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import ChatUser, settle

P1 = "整个系统/平台不能用"


@dataclass
class Managers:
    north: ChatUser
    south: ChatUser
    chief: ChatUser


@pytest.fixture
async def reporter_b(cast) -> ChatUser:
    return await cast.add("r2", "赵六", Role.REPORTER, site="二号园区")


@pytest.fixture
async def managers(cast) -> Managers:
    return Managers(
        north=await cast.add("ma", "北区经理", Role.MANAGER, scope=["一号园区"]),
        south=await cast.add("mb", "南区经理", Role.MANAGER, scope=["二号园区"], language="en"),
        chief=await cast.add("mc", "总经理", Role.MANAGER),
    )


async def one_ticket_each(reporter, reporter_b) -> None:
    await report_valve_fault(reporter)  # FL-000001 at 一号园区
    await report_valve_fault(reporter_b)  # FL-000002 at 二号园区


async def test_a_p1_reaches_its_sites_manager_and_the_all_sites_manager_only(
        reporter, engineer, managers):
    await report_valve_fault(reporter, impact=P1)

    assert managers.north.heard("【紧急工单】FL-000001")
    assert managers.chief.heard("【紧急工单】FL-000001")
    assert managers.south.inbox() == []


async def test_a_p1_at_a_site_nobody_manages_reaches_every_manager(cast, engineer):
    north = await cast.add("ma", "北区经理", Role.MANAGER, scope=["一号园区"])
    south = await cast.add("mb", "南区经理", Role.MANAGER, scope=["二号园区"])
    stranger_site = await cast.add("r3", "孙七", Role.REPORTER, site="三号园区")

    await report_valve_fault(stranger_site, impact=P1)

    assert north.heard("【紧急工单】FL-000001") and south.heard("FL-000001")


async def test_a_site_named_in_another_width_or_case_is_the_same_site(cast, engineer):
    north = await cast.add("ma", "North Manager", Role.MANAGER, scope=["North  Block"])
    south = await cast.add("mb", "South Manager", Role.MANAGER, scope=["South Block"])
    someone = await cast.add("r3", "孙七", Role.REPORTER, site="ｎｏｒｔｈ block")

    await report_valve_fault(someone, impact=P1)

    assert north.heard("FL-000001") and south.inbox() == []


async def test_an_unanswered_page_and_an_escalation_go_to_the_sites_managers(
        app, clock, cast, reporter, engineer, managers):
    await cast.add("x1", "刘专家", Role.EXPERT, skills=["valve"])
    await report_valve_fault(reporter)  # P3: 60 min to accept
    await tick(app, clock, minutes=60)
    assert managers.north.heard("【无人接单】") and managers.chief.heard("【无人接单】")

    await engineer.presses("接单")
    await tick(app, clock, hours=24)  # the resolution deadline: up to the expert
    assert managers.north.heard("【工单升级：") and managers.chief.heard("【工单升级：")
    assert managers.south.inbox() == []


async def test_a_complaint_goes_to_the_complainants_sites_managers(reporter, managers):
    await reporter.says("/complain")
    await reporter.presses("对服务整体")
    await reporter.says("电话总是打不通")

    assert managers.north.heard("【投诉】C-00001") and managers.chief.heard("【投诉】C-00001")
    assert managers.south.inbox() == []


async def test_another_sites_manager_cannot_handle_a_complaint_with_its_button(
        reporter, managers):
    await reporter.says("/complain")
    await reporter.presses("对服务整体")
    await reporter.says("电话总是打不通")
    ack = managers.north.button("受理")

    await managers.south.presses_data(ack)  # forged: 南区经理 never got it

    assert "not at one of your sites" in managers.south.last().text
    assert not reporter.heard("南区经理")
    await managers.chief.presses_data(ack)
    assert reporter.heard("总经理 受理")


async def test_the_daily_digest_holds_only_each_managers_sites(
        app, reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)

    await app.daily_digest()
    await settle(app)

    north = [m.text for m in managers.north.inbox() if "每日SLA汇总" in m.text]
    assert len(north) == 1 and "园区：一号园区" in north[0]
    assert "FL-000001" in north[0] and "FL-000002" not in north[0]
    south = managers.south.last().text
    assert "Sites: 二号园区" in south and "FL-000002" in south and "FL-000001" not in south
    chief = managers.chief.last().text
    assert "FL-000001" in chief and "FL-000002" in chief and "园区：" not in chief


async def test_open_shows_a_managers_own_sites_and_takes_a_site(
        reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)

    await managers.north.says("/open")
    assert "园区：一号园区" in managers.north.last().text
    assert "FL-000001" in managers.north.last().text
    assert "FL-000002" not in managers.north.last().text

    await managers.chief.says("/open 二号园区")
    text = managers.chief.last().text
    assert text.startswith("园区：二号园区") and "FL-000002" in text and "FL-000001" not in text
    await managers.chief.says("/open all")
    assert "FL-000001" in managers.chief.last().text and "FL-000002" in managers.chief.last().text
    await managers.chief.says("/open ２号园区")  # no such site: the reply lists those there are
    assert managers.chief.last().text == "没有找到园区“２号园区”。已知的园区：一号园区、二号园区。"


async def test_open_refuses_a_site_or_all_to_a_manager_without_them(
        reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)

    await managers.north.says("/open 二号园区")
    assert managers.north.last().text == "“二号园区”不是您负责的园区。您负责：一号园区。"
    await managers.north.says("/open all")
    assert managers.north.last().text.startswith("您负责的园区是：一号园区，只能查看这些园区。")
    await managers.south.says("/open 一号园区")
    assert managers.south.last().text == ("“一号园区” is not one of your sites. "
                                          "Yours: 二号园区.")


async def test_an_engineer_still_sees_every_site_on_the_board(
        reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)
    await engineer.says("/open")
    assert "FL-000001" in engineer.last().text and "FL-000002" in engineer.last().text


async def test_report_defaults_to_a_managers_sites_and_takes_a_site(
        reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)

    await managers.north.says("/report")
    assert managers.north.last().text.startswith("园区：一号园区\n服务报表")
    assert "工单数：1" in managers.north.last().text
    await managers.chief.says("/report")
    assert "工单数：2" in managers.chief.last().text
    await managers.chief.says("/report 二号园区")
    assert managers.chief.last().text.startswith("园区：二号园区")
    assert "工单数：1" in managers.chief.last().text
    await managers.chief.says("/report faults 二号园区")
    assert "园区：二号园区\n季度故障分类统计" in managers.chief.last().text


async def test_report_refuses_another_managers_site_and_a_bad_period_with_a_site(
        reporter, reporter_b, managers):
    await managers.north.says("/report 二号园区")
    assert managers.north.last().text == "“二号园区”不是您负责的园区。您负责：一号园区。"
    await managers.north.says("/report 2026-13 一号园区")
    assert "看不懂这个时间段：2026-13" in managers.north.last().text


async def test_the_weekly_summary_is_computed_per_managers_sites(
        app, clock, reporter, reporter_b, engineer, managers):
    await one_ticket_each(reporter, reporter_b)
    clock.advance(days=7)

    await app.jobs.run("weekly")
    await settle(app)

    assert managers.north.last().text.startswith("园区：一号园区\n每周服务小结")
    assert managers.south.last().text.startswith("Sites: 二号园区\n")
    assert managers.chief.last().text.startswith("每周服务小结")


async def test_the_fault_report_goes_to_the_sites_managers(reporter, engineer, managers):
    from tests.handlers.test_ticket_life import resolve

    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)

    assert managers.north.heard("FL-000001") and managers.chief.heard("FL-000001")
    assert managers.south.inbox() == []


async def test_managers_for_keeps_the_reach_of_managers_without_a_scope(app, cast):
    await cast.add("m1", "陈经理", Role.MANAGER)
    await cast.add("m2", "林协调", Role.MANAGER, title="coordinator")
    async with app.db.transaction() as tx:
        names = [p.name for p in await people.managers_for(tx, "一号园区")]
    assert names == ["陈经理", "林协调"]


@pytest.fixture
async def client(app) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app.web_app)) as c:
        yield c


async def signed_in(app, client: TestClient, sites: tuple[str, ...] = ()) -> None:
    link = issue_token(app.settings.files_dir, app.clock.now(), 15, sites)
    login = await client.get(f"/dashboard/login?token={link}", allow_redirects=False)
    client.session.cookie_jar.update_cookies({COOKIE: login.cookies[COOKIE].value})


async def test_a_managers_dashboard_sign_in_shows_their_sites_only(
        app, client, reporter, reporter_b, engineer):
    await one_ticket_each(reporter, reporter_b)
    await signed_in(app, client, ("一号园区",))

    html = await (await client.get("/dashboard")).text()
    assert "FL-000001" in html and "FL-000002" not in html
    assert "我负责的园区" in html
    assert f"site={quote('一号园区')}&amp;period" in html  # the selector keeps the period
    other = await client.get("/dashboard?site=二号园区")
    assert other.status == 403 and "不是您负责的园区" in await other.text()
    assert (await client.get("/dashboard/data.json?site=all")).status == 403


async def test_an_all_sites_dashboard_takes_a_site_in_the_url(
        app, client, reporter, reporter_b, engineer):
    await one_ticket_each(reporter, reporter_b)
    await signed_in(app, client)

    html = await (await client.get("/dashboard?site=二号园区&period=7d")).text()
    assert "FL-000002" in html and "FL-000001" not in html
    assert 'href="/dashboard?period=month&amp;site=' in html  # periods keep the site
    assert 'name="site" value="二号园区"' in html
    unknown = await client.get("/dashboard?site=<b>x</b>")
    assert unknown.status == 400 and "&lt;b&gt;x&lt;/b&gt;" in await unknown.text()


async def test_report_with_neither_a_period_nor_a_site_says_both_forms(
        reporter, reporter_b, managers):
    await managers.chief.says("/report 三号园")
    text = managers.chief.last().text
    assert text.startswith("看不懂这个时间段：三号园")
    assert text.endswith("如果您写的是园区：已知的园区有 一号园区、二号园区。")
