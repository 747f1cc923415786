"""The managers' dashboard in headless Chromium: fits a phone, reads on a desktop, refreshes
itself and stops when the sign-in ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import Frontline
from bot.dashboard_tokens import issue_token, revoke
from storage import people
from storage.models import Role, Ticket
from tests.browser.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

LONG_SITE = "三号园区（东坡荔枝林，很长的园区名字）" + "x" * 60  # no place to break in the x's

# The text of every shown element of these that takes more than one line (an inline one
# broken across lines has several boxes; a block one is taller than a line inside its padding).
WRAPPED = """sel => [...document.querySelectorAll(sel)]
  .filter(el => el.getClientRects().length > 0)
  .filter(el => {
    const cs = getComputedStyle(el), px = name => parseFloat(cs[name]) || 0;
    const inner = el.getBoundingClientRect().height - px("paddingTop") - px("paddingBottom")
                  - px("borderTopWidth") - px("borderBottomWidth");
    return el.getClientRects().length > 1 || inner > 1.5 * px("lineHeight");
  })
  .map(el => el.textContent)"""


async def add_ticket(fl: Frontline, hours_left: float, site: str) -> None:
    now = fl.clock.now()
    async with fl.db.transaction() as tx:
        me = await people.add_person(tx, name=f"李明{hours_left:g}", role=Role.REPORTER, now=now)
        eng = await people.add_person(tx, name=f"张工{hours_left:g}", role=Role.ENGINEER, now=now)
        tx.add(Ticket(reporter_id=me.id or 0, assignee_id=eng.id, site=site, category="pump",
                      priority="P2", description="水泵不转", status="acknowledged",
                      created_at=now - timedelta(hours=2), updated_at=now,
                      responded_at=now - timedelta(hours=1), fault_type="hardware",
                      response_due=now + timedelta(hours=2),
                      resolve_due=now + timedelta(hours=hours_left)))


@pytest.fixture
async def server(app) -> AsyncIterator[TestServer]:
    await add_ticket(app, -2, LONG_SITE)  # late
    await add_ticket(app, 5, "一号园区")
    async with TestServer(app.web_app, host="127.0.0.1") as srv:
        yield srv


@pytest.fixture
async def chromium(chromium_path: str) -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api")
    async with playwright.async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def open_dashboard(chromium: Any, app: Frontline, server: TestServer, width: int,
                         height: int, query: str = "") -> Any:
    page = await chromium.new_page(viewport={"width": width, "height": height})
    page.refused = []  # what the Content-Security-Policy blocked: must stay empty
    page.on("console", lambda m: "Content Security Policy" in m.text and page.refused.append(m))
    token = issue_token(app.settings.files_dir, app.clock.now(), 15)
    await page.goto(str(server.make_url(f"/dashboard/login?token={token}")))
    if query:
        await page.goto(str(server.make_url(f"/dashboard{query}")))
    await page.wait_for_load_state("networkidle")  # the charts are in
    return page


async def test_on_a_phone_nothing_is_wider_than_the_screen(chromium, app, server):
    page = await open_dashboard(chromium, app, server, 390, 844)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert await page.evaluate(WRAPPED, "h1, h2, .periods a, #load th") == []
    assert await page.locator("#open tr.ticket").count() == 2
    # the tickets are cards: every cell within the screen, the long site wrapped inside
    rights = await page.evaluate(
        "[...document.querySelectorAll('#open td, #charts img')]"
        ".map(el => el.getBoundingClientRect().right)")
    assert rights and max(rights) <= 390
    narrow = await page.evaluate(
        "[...document.querySelectorAll('#charts img')].map(img => img.currentSrc)")
    assert len(narrow) == 4 and all("size=narrow" in src for src in narrow)
    assert page.refused == []


async def test_on_a_desktop_the_tables_keep_their_one_line_headers(chromium, app, server):
    page = await open_dashboard(chromium, app, server, 1280, 900, "?period=30d")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert await page.evaluate(WRAPPED, "h1, h2, .periods a, thead th") == []
    assert await page.locator(".periods a[aria-current]").inner_text() == "近 30 天"
    wide = await page.evaluate(
        "[...document.querySelectorAll('#charts img')].map(img => img.currentSrc)")
    assert len(wide) == 4 and not any("size=narrow" in src for src in wide)


async def test_figures_refresh_without_a_reload_and_stop_when_signed_out(chromium, app, server):
    page = await open_dashboard(chromium, app, server, 390, 844)
    assert await page.locator("#open h2").inner_text() == "未结工单 (2)"
    assert await page.locator("#updated").inner_text() == "更新于 09:00"
    await add_ticket(app, -1, "二号园区")
    app.clock.advance(minutes=7)
    # the page refreshes on its timer and whenever it comes back into view: use the latter
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.locator("#open h2", has_text="(3)").wait_for()
    assert await page.locator("#breaches h2").inner_text() == "已超时 (2)"
    assert await page.locator("#updated").inner_text() == "更新于 09:07"
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    revoke(app.settings.files_dir, None, app.clock.now())
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.locator("body[data-live=ended]").wait_for(state="attached")
    assert "登录已失效" in await page.locator("#status").inner_text()
    assert page.refused == []
