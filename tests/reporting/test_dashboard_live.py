"""The dashboard's boxes when they are empty, its period selector, its live-refresh endpoint
and its charts of an empty period — on the real aiohttp app."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Frontline
from bot.dashboard import COOKIE
from bot.dashboard_tokens import issue_token, revoke
from bot.dashboard_view import Snapshot, View
from handlers.core.config import DeskConfig
from handlers.core.texts import Texts
from handlers.flows.reporting import charts, figures, period, render
from handlers.flows.reporting.queries import History
from handlers.flows.reporting.rates import Targets
from storage import people
from storage.models import Role, Ticket

SH = "Asia/Shanghai"


@pytest.fixture
async def client(app) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app.web_app)) as c:
        yield c


async def sign_in(app: Frontline, client: TestClient) -> None:
    link = issue_token(app.settings.files_dir, app.clock.now(), 15)
    login = await client.get(f"/dashboard/login?token={link}", allow_redirects=False)
    assert login.status == 303
    client.session.cookie_jar.update_cookies({COOKIE: login.cookies[COOKIE].value})


async def add_open_ticket(app: Frontline, hours_left: float, site: str = "一号园区") -> None:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        me = await people.add_person(tx, name="李明", role=Role.REPORTER, now=now)
        tx.add(Ticket(reporter_id=me.id or 0, site=site, category="pump", priority="P2",
                      description="水泵不转", status="paged", created_at=now, updated_at=now,
                      response_due=now + timedelta(hours=hours_left),
                      resolve_due=now + timedelta(hours=hours_left + 4)))


def part(page: str, name: str) -> str:
    """The inside of the element marked data-part=name (elements of its kind may nest)."""
    found = re.search(rf'<(\w+)[^>]*data-part="{name}">', page)
    assert found, name
    tag, depth, at = found[1], 1, found.end()
    for m in re.finditer(rf"<(/?){tag}\b[^>]*>", page[at:]):
        depth += -1 if m[1] else 1
        if depth == 0:
            return page[at:at + m.start()]
    raise AssertionError(f"{name} is not closed")


# --- the boxes say what is true for each of them ------------------------------------------

async def test_an_empty_desk_says_what_is_empty_in_each_box(app, client):
    await sign_in(app, client)
    page = await (await client.get("/dashboard")).text()
    assert part(page, "open") == '<p class="none">目前没有未结工单。</p>'
    assert part(page, "breaches") == '<p class="none">目前没有超时的工单。</p>'
    assert part(page, "load") == '<p class="none">目前没有未结工单，工程师都没有待办。</p>'
    assert "本期没有工单、自助解决记录或投诉。" in part(page, "figures")
    assert part(page, "charts_note") == '<p class="none">所选时段没有数据，下面的图表是空的。</p>'


async def test_open_tickets_that_are_on_time_leave_the_breach_box_saying_none_are_late(
        app, client):
    await add_open_ticket(app, hours_left=3)
    await sign_in(app, client)
    page = await (await client.get("/dashboard")).text()
    assert part(page, "h_open") == "未结工单 (1)" and "FL-000001" in part(page, "open")
    assert part(page, "h_breaches") == "已超时 (0)"
    assert part(page, "breaches") == '<p class="none">目前没有超时的工单。</p>'
    assert "目前没有未结工单" not in page  # the old wording of every empty box
    assert "未分配</td><td class=\"num\">1</td>" in part(page, "load")


def test_the_empty_boxes_speak_english_from_the_catalog():
    texts = Texts.load("en", SH)
    lb = render.Labels(texts, "en", "Lychee Orchard")
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)
    fig = figures.of(_nothing(), period.month_to_date(now, SH), now, Targets())
    parts = View(texts, lb, SH).parts(Snapshot(fig, [], {}, now, "month"))
    assert "No open tickets right now." in parts["open"]
    assert "No ticket is past its deadline." in parts["breaches"]
    assert "No open tickets, so no engineer has any waiting." in parts["load"]
    assert parts["updated"] == "Updated 09:00"  # the site's time (Asia/Shanghai)


def _nothing() -> History:
    return History(tickets=[], events=[], attempts=[], complaints=0, names={}, onsite_ids=set())


# --- charts of nothing ---------------------------------------------------------------------

def _labels(lang: str = "en") -> render.Labels:
    return render.Labels(Texts.for_config(DeskConfig()), lang, "Lychee Orchard")


def _empty_figures() -> figures.Figures:
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)
    return figures.of(_nothing(), period.parse("2025-01", SH), now, Targets())


@pytest.mark.parametrize(("name", "axis"), [("weekly", "y"), ("satisfaction", "y"),
                                            ("fault_types", "x")])
def test_an_empty_count_chart_runs_from_0_to_1_with_whole_ticks(name, axis):
    ax = charts.draw(_empty_figures(), _labels(), name).axes[0]
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    assert (low, high) == (0, 1)  # not −0.045…0.045
    ticks = (ax.get_yticks() if axis == "y" else ax.get_xticks())
    shown = [t for t in ticks if low <= t <= high]
    assert shown == [0, 1]
    assert [t.get_text() for t in ax.texts] == ["No data in this period"]


def test_an_empty_sla_chart_keeps_its_percent_axis_and_every_week_and_says_no_data():
    fig = _empty_figures()
    ax = charts.draw(fig, _labels("zh"), "sla").axes[0]
    assert ax.get_ylim() == (0, 105)
    assert ax.get_xlim() == (-0.5, len(fig.weeks) - 0.5)
    assert [t.get_text() for t in ax.texts] == ["本期没有数据"]


def test_counts_with_data_get_whole_ticks_from_zero_and_no_empty_note(october):
    for name in ("weekly", "satisfaction", "fault_types"):
        ax = charts.draw(october, _labels(), name).axes[0]
        axis = ax.xaxis if name == "fault_types" else ax.yaxis
        low, high = axis.get_view_interval()
        shown = [t for t in axis.get_ticklocs() if low <= t <= high]
        assert low == 0 and high >= 1 and all(float(t).is_integer() for t in shown), name
        assert len(ax.texts) == 0, name


async def test_a_narrow_chart_is_drawn_for_phones(october):
    wide = charts.draw(october, _labels(), "weekly").get_size_inches()
    narrow = charts.draw(october, _labels(), "weekly", narrow=True).get_size_inches()
    assert narrow[0] < wide[0]
    assert (await charts.png_async(october, _labels(), "sla", narrow=True)).startswith(b"\x89PNG")


# --- the period selector -------------------------------------------------------------------

async def test_the_period_selector_links_every_preset_and_marks_the_chosen_one(app, history,
                                                                              client):
    await sign_in(app, client)
    page = await (await client.get("/dashboard?period=last-month")).text()
    links = dict(re.findall(r'<a href="/dashboard\?period=([\w-]+)"( aria-current=page)?', page))
    assert links == {"month": "", "last-month": " aria-current=page", "7d": "", "30d": ""}
    assert part(page, "h_figures") == "本期指标 2026-10"  # last month, seen on 2026-11-23
    assert "2026-10-01 至 2026-10-31" in part(page, "range")
    assert 'data-source="/dashboard/data.json?period=last-month"' in page
    assert page.count("/dashboard/chart/weekly.png?period=last-month&amp;v=") == 2
    assert re.search(r'<input type="month" name="period" value="2026-11"', page)


async def test_a_chosen_month_is_in_the_url_and_fills_the_month_field(app, history, client):
    await sign_in(app, client)
    page = await (await client.get("/dashboard?period=2026-10")).text()
    assert 'value="2026-10"' in page and "aria-current" not in page
    assert "服务及时率（按时响应）</th><td>75%（6/8" in page  # October's known answer
    default = await (await client.get("/dashboard")).text()
    assert part(default, "h_figures") == "本期指标 2026-11"
    assert re.search(r'period=month" aria-current=page', default)


@pytest.mark.parametrize("bad", ["bogus", "2026-13", "0000-01", "9999-12", "2026-W60",
                                 "x" * 300])
async def test_a_bad_period_is_a_400_that_says_which_forms_work(app, client, bad):
    await sign_in(app, client)
    page = await client.get("/dashboard", params={"period": bad})
    text = await page.text()
    assert page.status == 400 and "2026-Q3" in text and '<a href="/dashboard">' in text
    assert bad[:40] in text and "x" * 41 not in text  # quoted, but not at any length
    data = await client.get("/dashboard/data.json", params={"period": bad})
    assert data.status == 400 and "2026-W47" in (await data.json())["error"]
    chart = await client.get("/dashboard/chart/sla.png", params={"period": bad})
    assert chart.status == 400


async def test_people_supplied_periods_are_escaped_in_the_refusal(app, client):
    await sign_in(app, client)
    text = await (await client.get("/dashboard", params={"period": "<b>x</b>"})).text()
    assert "<b>x" not in text and "&lt;b&gt;x&lt;/b&gt;" in text


def test_presets_are_the_periods_report_knows():
    now = datetime(2027, 1, 5, 1, tzinfo=UTC)
    assert period.chosen("", now, SH) == period.parse("2027-01", SH)
    assert period.chosen("last-month", now, SH) == period.parse("2026-12", SH)
    seven = period.chosen("7D", now, SH)
    assert (seven.first_day.isoformat(), seven.last_day.isoformat()) == ("2026-12-30",
                                                                          "2027-01-05")
    assert period.chosen("30d", now, SH).first_day.isoformat() == "2026-12-07"
    assert period.chosen("2026-Q3", now, SH).label == "2026-Q3"
    with pytest.raises(period.PeriodError):
        period.chosen("0000-01", now, SH)


# --- the live refresh ----------------------------------------------------------------------

async def test_the_refresh_endpoint_wants_the_same_session_as_the_page(app, client):
    answer = await client.get("/dashboard/data.json")
    assert answer.status == 401 and "frontline dashboard token" in (await answer.json())["error"]
    client.session.cookie_jar.update_cookies({COOKIE: "guess"})
    assert (await client.get("/dashboard/data.json")).status == 403
    await sign_in(app, client)
    assert (await client.get("/dashboard/data.json")).status == 200
    app.clock.advance(hours=13)  # past FRONTLINE_DASHBOARD_SESSION_HOURS (12)
    late = await client.get("/dashboard/data.json")
    assert late.status == 403 and "重新生成登录链接" in (await late.json())["error"]


async def test_a_revoked_sign_in_stops_the_refresh(app, client):
    await sign_in(app, client)
    revoke(app.settings.files_dir, None, app.clock.now())
    assert (await client.get("/dashboard/data.json")).status == 403


async def test_the_refresh_sends_fresh_figures_for_the_chosen_period(app, history, client):
    await sign_in(app, client)
    first = await (await client.get("/dashboard/data.json?period=2026-10")).json()
    assert first["period"] == "2026-10" and first["now"] == app.clock.now().isoformat()
    assert first["parts"]["h_figures"] == "本期指标 2026-10"
    assert first["parts"]["updated"] == "更新于 09:00"
    assert set(first["charts"]) == set(charts.NAMES)
    assert first["charts"]["sla"].startswith("/dashboard/chart/sla.png?period=2026-10&v=")

    await add_open_ticket(app, hours_left=-1, site="<b>三号园区</b>")
    app.clock.advance(minutes=5)
    now = await (await client.get("/dashboard/data.json")).json()
    assert now["period"] == "month" and now["parts"]["updated"] == "更新于 09:05"
    assert now["parts"]["h_breaches"] == "已超时 (2)"  # T6 and the new one
    assert "&lt;b&gt;三号园区&lt;/b&gt;" in now["parts"]["open"]
    assert "<b>" not in now["parts"]["open"]


async def test_the_chart_addresses_change_only_when_the_figures_do(app, client):
    await sign_in(app, client)
    before = (await (await client.get("/dashboard/data.json")).json())["charts"]
    same = (await (await client.get("/dashboard/data.json")).json())["charts"]
    assert before == same
    await add_open_ticket(app, hours_left=3)
    after = (await (await client.get("/dashboard/data.json")).json())["charts"]
    assert after["weekly"] != before["weekly"]
    chart = await client.get(after["weekly"] + "&size=narrow")
    assert chart.status == 200 and chart.content_type == "image/png"


async def test_the_page_loads_its_script_and_no_inline_code(app, client):
    await sign_in(app, client)
    page = await client.get("/dashboard")
    html = await page.text()
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js">']
    assert not re.search(r"\son\w+=", html)  # no inline handlers either (the CSP forbids them)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'data-refresh="30"' in html and 'data-ended="登录已失效' in html
    script = await (await client.get("/dashboard/static/dashboard.js")).text()
    assert "data-part" in script and "dataset.source" in script


def test_weeks_and_scores_are_labelled_places_not_guessed_numbers(october, caplog):
    with caplog.at_level(logging.INFO, logger="matplotlib"):
        for name in ("weekly", "sla", "satisfaction"):
            ax = charts.draw(october, _labels(), name).axes[0]
            expected = ([str(s) for s in october.scores] if name == "satisfaction"
                        else [f"{w.start:%m-%d}" for w in october.weeks])
            assert [t.get_text() for t in ax.get_xticklabels()] == expected, name
    assert not [r for r in caplog.records if "categorical units" in r.getMessage()]
