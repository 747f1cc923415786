"""The dashboard in headless Chromium: open tickets with clocks that count."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.dashboard import issue_token
from storage.models import Ticket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium is not installed"),
]


@pytest.fixture
async def server(app, history) -> AsyncIterator[TestServer]:
    now = app.clock.now()
    async with app.db.transaction() as tx:  # one job whose response clock still runs
        tx.add(Ticket(reporter_id=history["李明"], site="一号园区", category="pump",
                      priority="P2", description="水泵不转", status="paged", created_at=now,
                      updated_at=now, response_due=now + timedelta(hours=3, minutes=30),
                      resolve_due=now + timedelta(hours=8)))
    async with TestServer(app.web_app, host="127.0.0.1") as srv:
        yield srv


async def test_the_dashboard_shows_open_tickets_with_live_clocks(app, server):
    playwright = pytest.importorskip("playwright.async_api")
    token = issue_token(app.settings.files_dir, app.clock.now(), 15)
    url = server.make_url(f"/dashboard/login?token={token}")
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(str(url))
            open_rows = page.locator("#open tr.ticket")
            assert await open_rows.count() == 2
            await page.wait_for_function(
                "document.querySelector('#open tr.ticket td.left').textContent !== '-'")
            late, running = (await page.locator("#open td.left").all_inner_texts())
            assert late.startswith("已超时 +")  # FL-000007, never answered
            assert re.fullmatch(r"3:(29|30):\d\d", running)
            assert "FL-000012" in await open_rows.nth(1).inner_text()
            assert await page.locator("#breaches tr.ticket").count() == 1
            assert await page.locator("#charts img").count() == 4
        finally:
            await browser.close()
