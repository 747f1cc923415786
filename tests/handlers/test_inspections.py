"""Scheduled inspections in chat: the checklist comes due, the engineer answers item by item,
pauses and carries on; abnormal findings become tickets; an inspection left undone reminds the
engineer and then the managers. Time moves on the FakeClock (it starts Mon 09:00 site time)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import Frontline
from bot.dashboard import COOKIE, issue_token
from handlers.core.messages import FileRef
from storage import tickets as ticket_rows
from storage.models import (
    InspectionReading,
    InspectionRun,
    Role,
    Ticket,
    TicketEvent,
    Timer,
    TimerState,
)
from tests.handlers.test_sla_and_escalation import tick
from tests.support.chat import labels

# every day at 10:00 site time, first on the FakeClock's day: due an hour after the start
PLANS = """
sites = ["一号园区"]

[[plan]]
key = "irrigation"
name = { zh = "灌溉巡检", en = "Irrigation round" }
site = "一号园区"
plots = ["3号地块"]
every_days = 1
start = "2026-11-23 10:00"
skills = ["irrigation"]
start_within_hours = 2
finish_within_hours = 6
grace_hours = 2

[[plan.item]]
key = "pump"
kind = "pass_fail"
text = { zh = "水泵运行正常", en = "Pump runs normally" }
category = "pump"

[[plan.item]]
key = "pressure"
kind = "number"
text = { zh = "主管道水压", en = "Main line pressure" }
unit = "MPa"
min = 0.1
max = 0.4
limits = [0, 1.6]

[[plan.item]]
key = "filter"
kind = "photo"
text = { zh = "过滤器照片", en = "Filter photo" }

[[plan.item]]
key = "notes"
kind = "text"
text = { zh = "其他情况", en = "Anything else" }
required = false
"""
PHOTO = FileRef("f1.jpg", "filter.jpg", "image/jpeg", 2048)


@pytest.fixture
def settings(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    plans = tmp_path / "inspections.toml"
    plans.write_text(PLANS, "utf-8")
    return settings.model_copy(update={"inspections_file": plans})


async def due(app: Frontline, clock) -> None:  # type: ignore[no-untyped-def]
    """Move to 10:00 site time, when the day's round comes due."""
    await tick(app, clock, hours=1)


async def runs(app: Frontline) -> list[InspectionRun]:
    async with app.db.transaction() as tx:
        return await tx.scalars(select(InspectionRun).order_by(InspectionRun.id))


async def readings(app: Frontline) -> dict[str, InspectionReading]:
    async with app.db.transaction() as tx:
        rows = await tx.scalars(select(InspectionReading).order_by(InspectionReading.id))
    return {r.item_key: r for r in rows}


async def tickets(app: Frontline) -> list[Ticket]:
    async with app.db.transaction() as tx:
        return await tx.scalars(select(Ticket).order_by(Ticket.id))


async def answer_all_normal(engineer) -> None:  # type: ignore[no-untyped-def]
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.says("0.25")
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")


async def test_the_checklist_comes_due_and_is_answered_item_by_item(app, clock, engineer,
                                                                    manager):
    await due(app, clock)
    intro = engineer.last()
    assert intro.text.startswith("【巡检】灌溉巡检\n地点：一号园区，地块：3号地块")
    assert "共 4 项，请在 11月23日 12:00 前开始，11月23日 16:00 前完成" in intro.text
    assert labels(intro) == ["开始", "稍后"]

    await engineer.presses("开始")
    assert engineer.last().text.startswith("第 1/4 项：水泵运行正常\n请点“正常”或“异常”")
    assert labels(engineer.last()) == ["正常", "异常", "暂停"]
    await engineer.presses("正常")
    assert engineer.last().text.startswith("✓ 已记录：正常\n\n第 2/4 项：主管道水压")
    assert "正常范围 0.1–0.4 MPa" in engineer.last().text
    await engineer.says("0,25 MPa")  # a decimal comma and the unit are fine
    assert engineer.last().text.startswith("✓ 已记录：0.25 MPa\n\n第 3/4 项：过滤器照片")
    await engineer.sends_photo(PHOTO)
    assert "第 4/4 项：其他情况（选填）" in engineer.last().text
    assert labels(engineer.last()) == ["跳过", "暂停"]
    await engineer.says("过滤器有点脏，已冲洗")

    done = engineer.last().text
    assert "巡检完成：灌溉巡检（一号园区）\n共 4 项：正常 4，异常 0。\n未发现问题。" in done
    run = (await runs(app))[0]
    assert run.state == "done" and run.finished_at == clock.now()
    got = await readings(app)
    assert got["pressure"].number == 0.25 and got["pressure"].ok
    assert got["filter"].photo["key"] == "f1.jpg"
    assert got["notes"].value == "过滤器有点脏，已冲洗"
    assert await tickets(app) == [] and manager.inbox() == []


async def test_an_out_of_range_number_and_a_fault_each_open_a_linked_ticket(app, clock,
                                                                           engineer, manager):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("异常")
    assert "“水泵运行正常”哪里不正常？" in engineer.last().text
    await engineer.says("轴承有异响")
    assert engineer.last().text.startswith("⚠ 已记录为异常，巡检完成后会为此开工单")
    await engineer.says("0.05")
    assert engineer.last().text.startswith(
        "⚠ 已记录：0.05 MPa，超出正常范围 0.1–0.4 MPa，巡检完成后会为此开工单")
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")

    summary = next(m.text for m in engineer.inbox() if "巡检完成：灌溉巡检" in m.text)
    assert "共 4 项：正常 2，异常 2。" in summary
    assert "• 水泵运行正常：异常（轴承有异响） → 工单 FL-000001" in summary
    assert "• 主管道水压：0.05 MPa → 工单 FL-000002" in summary
    first, second = await tickets(app)
    assert first.description == ("巡检“灌溉巡检”（一号园区）发现异常："
                                 "水泵运行正常：异常（轴承有异响）")
    assert first.category == "pump" and first.channel == "inspection"
    assert second.description == ("巡检“灌溉巡检”（一号园区）读数超出正常范围："
                                  "主管道水压：0.05 MPa（正常范围 0.1–0.4 MPa）")
    assert second.category == "irrigation" and second.site == "一号园区"
    assert (await readings(app))["pressure"].ticket_id == second.id
    async with app.db.transaction() as tx:
        kinds = await tx.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == second.id, TicketEvent.kind == "inspection_finding"))
    assert kinds[0].details == {"run": 1, "plan": "irrigation", "item": "pressure",
                                "reading": 0.05}
    assert second.status == "paged"  # a normal ticket: the on-duty engineer is paged
    assert "【新工单】FL-000002" in engineer.transcript()


async def test_a_photo_a_word_or_an_absurd_value_where_a_number_is_asked_is_asked_again(
    app, clock, engineer
):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.says("好")  # typed words answer a pass/fail item too
    await engineer.sends_photo(PHOTO)
    assert engineer.last().text == ("这一项要输入数字（主管道水压），不是照片。请输入读数，"
                                    "例如 0.25 MPa。")
    await engineer.says("大概正常吧")
    assert engineer.last().text.startswith("“大概正常吧”不是读数")
    await engineer.says("25")
    assert engineer.last().text.startswith("25 MPa 不像是真实读数")
    await engineer.says("1e3")
    assert "不是读数" in engineer.last().text
    assert "pressure" not in await readings(app)

    await engineer.says("０．３")  # full-width digits from a Chinese keyboard
    assert engineer.last().text.startswith("✓ 已记录：0.3 MPa")
    await engineer.says("拍好了")  # text where the photo is asked
    assert engineer.last().text == "这一项需要照片：过滤器照片。请拍照发送。"
    assert (await runs(app))[0].current_item == 2


async def test_an_inspection_pauses_and_carries_on_where_it_stopped(app, clock, engineer,
                                                                   reporter):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.presses("暂停")
    assert engineer.last().text.startswith("巡检已暂停：灌溉巡检，已完成 1/4 项。")
    assert labels(engineer.last()) == ["继续"]
    assert (await runs(app))[0].state == "paused"

    await engineer.says("继续巡检")
    assert engineer.last().text.startswith("第 2/4 项：主管道水压")
    await engineer.says("暂停")  # the word pauses too
    await engineer.says("/inspect")
    assert engineer.last().text.startswith("第 2/4 项：主管道水压")
    await engineer.says("/cancel")
    assert engineer.last().text.startswith("巡检已暂停，填过的都已保存")
    await engineer.presses("继续")
    await engineer.says("0.2")
    assert "第 3/4 项" in engineer.last().text

    await reporter.says("/inspect")
    assert reporter.last().text == "抱歉，您没有权限做这个操作。"


async def test_stale_forged_and_foreign_presses_get_clear_answers(app, clock, engineer,
                                                                  engineer2, reporter):
    await due(app, clock)
    await engineer.presses("开始")
    ok_button = engineer.button("正常")
    await engineer.presses("正常")
    await engineer.presses_data(ok_button)  # the same item's button once more
    assert engineer.last().text.startswith("这一项已经记录过了。请回答当前的第 2/4 项")
    assert len(await readings(app)) == 1

    await engineer2.presses_data("v:1:start")
    assert engineer2.last().text == "这个巡检不是派给您的。"
    await reporter.presses_data("v:1:ok:1")
    assert reporter.last().text == "这个巡检不是派给您的。"
    await engineer.presses_data("v:77:start")
    assert engineer.last().text.startswith("这个巡检已经不存在了")
    await engineer.presses_data("v:1:ok:abc")
    assert engineer.last().text.startswith("这个按钮无法识别")

    await engineer.says("0.3")
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")
    await engineer.presses_data(ok_button)
    assert engineer.last().text == "巡检“灌溉巡检”已经完成了，谢谢。"


async def test_not_started_reminds_the_engineer_then_missed_tells_the_managers(
    app, clock, engineer, manager
):
    await due(app, clock)
    await tick(app, clock, hours=2)
    assert engineer.last().text.startswith("【巡检提醒】灌溉巡检（一号园区）还没有开始")
    assert labels(engineer.last()) == ["开始", "稍后"]
    assert manager.inbox() == []

    await tick(app, clock, hours=4)  # the deadline, 16:00
    assert engineer.last().text.startswith("【巡检逾期】灌溉巡检（一号园区）已过完成时限")
    assert "11月23日 18:00 前仍未完成将记为漏检" in engineer.last().text
    assert manager.inbox() == []

    await tick(app, clock, hours=2)
    assert manager.last().text.startswith("【漏检】灌溉巡检（一号园区）11月23日 10:00 的巡检")
    assert "张工，已完成 0/4 项" in manager.last().text
    assert "已记为漏检" in engineer.last().text
    assert (await runs(app))[0].state == "missed"
    await engineer.presses("开始")
    assert engineer.last().text == "巡检“灌溉巡检”已超时，记为漏检，不能再填写。"


async def test_a_round_left_half_done_is_missed_but_its_finding_still_opens_a_ticket(
    app, clock, engineer, manager
):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.says("0.9")  # outside the range
    await tick(app, clock, hours=8)

    assert "已完成 2/4 项" in manager.last().text
    assert "• 主管道水压：0.9 MPa → 工单 FL-000001" in manager.last().text
    (ticket,) = await tickets(app)
    assert ticket.description.endswith("主管道水压：0.9 MPa（正常范围 0.1–0.4 MPa）")
    await engineer.says("补一张照片")  # the dialogue of a missed round has ended
    assert engineer.last().text == "巡检“灌溉巡检”已超时，记为漏检，不能再填写。"


async def test_started_in_time_no_start_reminder_and_done_no_more_messages(app, clock,
                                                                          engineer):
    await due(app, clock)
    await answer_all_normal(engineer)
    before = len(engineer.inbox())
    await tick(app, clock, hours=12)
    assert [m.text[:6] for m in engineer.inbox()[before:]] == []
    async with app.db.transaction() as tx:
        pending = await tx.scalars(select(Timer).where(Timer.state == TimerState.PENDING))
    assert [t.key for t in pending] == ["insp_occurs:irrigation"]


async def test_each_occurrence_is_one_run_and_the_next_one_is_scheduled(app, clock, engineer):
    await due(app, clock)
    await app.schedule_inspections()  # a replica starting now changes nothing
    await app.sweeper.run_once()
    assert len(await runs(app)) == 1
    async with app.db.transaction() as tx:
        timer = (await tx.scalars(select(Timer).where(Timer.key == "insp_occurs:irrigation")))[0]
    assert timer.state == TimerState.PENDING
    assert timer.due_at == clock.now() + timedelta(days=1)

    await tick(app, clock, days=1)
    assert [r.due_at for r in await runs(app)] == [clock.now() - timedelta(days=1), clock.now()]
    assert sum("【巡检】" in m.text for m in engineer.inbox()) == 2


async def test_nobody_on_duty_tells_the_managers_and_an_engineer_takes_it_with_inspect(
    app, clock, cast, manager
):
    await due(app, clock)
    assert manager.last().text.startswith(
        "【巡检无人可派】灌溉巡检（一号园区）11月23日 10:00 到期")
    engineer = await cast.add("e9", "赵工", Role.ENGINEER, site="一号园区")
    await engineer.says("/inspect")
    assert engineer.last().text.startswith("第 1/4 项：水泵运行正常")
    assert (await runs(app))[0].assignee_id is not None


async def test_an_english_engineer_gets_the_checklist_in_english(app, clock, cast):
    engineer = await cast.add("e5", "Sam", Role.ENGINEER, site="一号园区",
                              skills=["irrigation"], language="en")
    await due(app, clock)
    assert engineer.last().text.startswith("[Inspection] Irrigation round\nSite: 一号园区, plots")
    await engineer.presses("Start")
    await engineer.presses("Fault")
    await engineer.presses("Skip")
    assert engineer.last().text.startswith("⚠ Recorded as a fault")
    await engineer.says("3.8 MPa")
    assert engineer.last().text.startswith("3.8 MPa does not look like a real reading")


async def test_the_report_counts_rounds_done_missed_and_the_faults_they_found(app, clock,
                                                                             engineer, manager):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.says("0.6")  # a finding
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")
    await tick(app, clock, hours=32)  # the next day's round is never started: missed

    await manager.says("/report 2026-11")
    assert manager.last().text.endswith(
        "\n巡检：完成 1（逾期完成 0）· 漏检 1 · 未完成 0 · 发现问题 1（开单 1）")


async def test_deleting_a_finding_s_ticket_keeps_the_reading_unlinked(app, clock, engineer):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.says("0.6")
    async with app.db.transaction() as tx:
        await ticket_rows.delete_record(tx, 1)
    assert (await readings(app))["pressure"].ticket_id is None


async def test_while_a_fault_s_note_is_asked_other_buttons_wait_and_a_pause_skips_it(
    app, clock, engineer
):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("异常")
    await engineer.presses("正常")  # the same item's other answer, pressed after 异常
    assert engineer.last().text == "请先说明“水泵运行正常”哪里不正常（文字或照片），或点“跳过”。"
    await engineer.says("暂停")
    assert engineer.last().text.startswith("巡检已暂停：灌溉巡检，已完成 0/4 项。")
    await engineer.says("/inspect")
    assert engineer.last().text.startswith("⚠ 已记录为异常，巡检完成后会为此开工单。\n\n第 2/4 项")
    assert not (await readings(app))["pump"].ok


async def test_help_tells_engineers_and_managers_about_inspections(engineer, manager):
    await engineer.says("/help")
    assert "定期巡检到时会把检查表发到这里" in engineer.last().text
    assert "/inspect" in engineer.last().text
    await manager.says("/help")
    assert "漏检（巡检超时未完成）" in manager.last().text


async def test_the_dashboard_shows_inspections_done_and_faults_found(app, clock, engineer):
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("异常")
    await engineer.says("轴承有异响")
    await engineer.says("0.25")
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")

    async with TestClient(TestServer(app.web_app)) as client:
        token = issue_token(app.settings.files_dir, app.clock.now(), 15)
        login = await client.get(f"/dashboard/login?token={token}", allow_redirects=False)
        client.session.cookie_jar.update_cookies({COOKIE: login.cookies[COOKIE].value})
        html = await (await client.get("/dashboard")).text()
        data = await (await client.get("/dashboard/data.json")).json()
    row = "完成 1（逾期完成 0）· 漏检 0 · 未完成 0 · 发现问题 1（开单 1）"
    assert "巡检" in html and row in html
    assert row in data["parts"]["figures"]  # the 30-second refresh carries it too
