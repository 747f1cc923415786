"""The web chat in headless Chromium against the real `frontline demo`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "FRONTLINE_FILES_DIR": str(tmp_path / "files")}
    env.pop("FRONTLINE_DATABASE_URL", None)
    # Output goes to a file, not a pipe: nobody reads a pipe while the test runs, and a full
    # one would freeze the demo mid-test.
    log_path = tmp_path / "demo.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--host", "127.0.0.1", "--port", str(port),
         "--db", str(tmp_path / "demo.db")],
        cwd=Path(__file__).parents[2], env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(log_path.read_text()[-3000:]) from None
                time.sleep(0.3)
        else:
            raise AssertionError("the demo did not answer /healthz within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log_file.close()


def report_a_valve_fault(reporter) -> None:  # type: ignore[no-untyped-def]
    """The reporter's pane: describe, not solved, one device, submit."""
    reporter.locator("[data-testid=input]").fill("3号地块电磁阀打不开，不出水")
    reporter.locator("[data-testid=send]").click()
    reporter.get_by_role("button", name="没解决，报修").click()
    reporter.get_by_role("button", name="单个设备").click()
    reporter.get_by_role("button", name="确认提交").click()


def test_a_reporter_reports_a_fault_and_the_engineer_accepts_it(browser, demo_server):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=pane] >> nth=2")
    reporter, engineer = page.locator("[data-testid=pane]").nth(0), \
        page.locator("[data-testid=pane]").nth(1)

    reporter.locator("[data-testid=input]").fill("3号地块电磁阀打不开，不出水")
    reporter.locator("[data-testid=send]").click()
    reporter.locator("[data-testid=bot-message]", has_text="《电磁阀打不开").first.wait_for(
        timeout=15000)
    reporter.get_by_role("button", name="没解决，报修").click()
    reporter.get_by_role("button", name="单个设备").click()
    reporter.get_by_role("button", name="确认提交").click()
    reporter.locator("[data-testid=bot-message]", has_text="FL-000001").first.wait_for()

    engineer.get_by_role("button", name="接单").first.click()
    reporter.locator("[data-testid=bot-message]", has_text="已接下").first.wait_for()
    page.screenshot(path="/tmp/webchat.png")
    page.close()


def test_messages_sent_while_away_are_there_after_a_reload(browser, demo_server):
    page = browser.new_page()
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=pane] >> nth=0")
    reporter = page.locator("[data-testid=pane]").nth(0)
    reporter.locator("[data-testid=input]").fill("/help")
    reporter.locator("[data-testid=input]").press("Enter")
    reporter.locator("[data-testid=bot-message]", has_text="热线").first.wait_for()
    page.reload()
    page.locator("[data-testid=pane]").nth(0).locator(
        "[data-testid=bot-message]", has_text="热线").first.wait_for()
    page.close()


def test_markup_typed_by_a_person_shows_as_text_and_never_runs(browser, demo_server):
    hostile = '电磁阀打不开 <img src=x onerror="window.__pwned=1"><b>粗体</b>'
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=pane] >> nth=2")
    reporter = page.locator("[data-testid=pane]").nth(0)
    reporter.locator("[data-testid=input]").fill(hostile)
    reporter.locator("[data-testid=send]").click()
    reporter.locator("[data-testid=bot-message]", has_text="《电磁阀打不开").first.wait_for(
        timeout=15000)
    reporter.get_by_role("button", name="没解决，报修").click()
    reporter.get_by_role("button", name="单个设备").click()
    summary = reporter.locator("[data-testid=bot-message]", has_text="<b>粗体</b>").first
    summary.wait_for()  # the bot's summary quotes the description, tags and all, as text
    assert hostile in reporter.locator("[data-testid=my-message]").first.inner_text()
    assert page.locator("[data-testid=messages] img, [data-testid=messages] b").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.close()


def test_on_a_phone_one_pane_shows_with_tabs_to_switch_person(browser, demo_server):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=tab] >> nth=2")
    tabs = page.locator("[data-testid=tab]")
    names = [tabs.nth(i).inner_text().split("\n")[0] for i in range(3)]
    assert names == ["李明", "张工", "陈经理"]
    assert page.locator("[data-testid=pane]:visible").count() == 1
    reporter = page.locator("[data-testid=pane]").nth(0)
    assert reporter.is_visible()
    box = reporter.locator("[data-testid=messages]").bounding_box()
    assert box is not None and box.get("height", 0) > 400  # the phone's screen, not a third

    report_a_valve_fault(reporter)
    reporter.locator("[data-testid=bot-message]", has_text="FL-000001").first.wait_for()
    page.wait_for_selector("[data-testid=tab].unread")  # the engineer was paged meanwhile
    assert "unread" in (tabs.nth(1).get_attribute("class") or "")

    tabs.nth(1).click()
    engineer = page.locator("[data-testid=pane]").nth(1)
    assert engineer.is_visible() and not reporter.is_visible()
    assert "unread" not in (tabs.nth(1).get_attribute("class") or "")
    engineer.get_by_role("button", name="接单").first.click()
    engineer.locator("[data-testid=bot-message]", has_text="已接下").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
    page.screenshot(path="/tmp/webchat-phone.png")
    page.close()


def test_after_a_reload_the_persons_own_lines_and_used_buttons_are_as_they_were(
        browser, demo_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=pane] >> nth=2")
    reporter = page.locator("[data-testid=pane]").nth(0)
    reporter.locator("[data-testid=input]").fill("3号地块电磁阀打不开，不出水")
    reporter.locator("[data-testid=send]").click()
    reporter.get_by_role("button", name="没解决，报修").click()
    reporter.locator("[data-testid=bot-message]", has_text="影响范围").first.wait_for()

    page.reload()
    reporter = page.locator("[data-testid=pane]").nth(0)
    reporter.locator("[data-testid=bot-message]", has_text="影响范围").first.wait_for()
    mine = reporter.locator("[data-testid=my-message]")
    assert [mine.nth(i).inner_text() for i in range(mine.count())] == [
        "3号地块电磁阀打不开，不出水", "「没解决，报修」"]
    assert reporter.get_by_role("button", name="没解决，报修").is_disabled()  # used up
    assert reporter.get_by_role("button", name="单个设备").is_enabled()  # the live question
    reporter.get_by_role("button", name="单个设备").click()
    reporter.locator("[data-testid=bot-message]", has_text="请确认报修信息").first.wait_for()
    page.close()


def test_the_demo_time_control_brings_the_follow_up_question(browser, demo_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=pane] >> nth=2")
    reporter, engineer = page.locator("[data-testid=pane]").nth(0), \
        page.locator("[data-testid=pane]").nth(1)
    report_a_valve_fault(reporter)
    engineer.get_by_role("button", name="接单").first.click()
    engineer.get_by_role("button", name="已解决", exact=True).last.click()
    engineer.get_by_role("button", name="通讯线路或硬件故障").last.click()
    for prompt, answer in (("原因", "线圈老化烧坏"), ("处理方法", "更换电磁阀线圈"),
                           ("防止再次发生", "每季度检查线圈电阻")):
        engineer.locator("[data-testid=bot-message]", has_text=prompt).last.wait_for()
        engineer.locator("[data-testid=input]").fill(answer)
        engineer.locator("[data-testid=send]").click()
    engineer.get_by_role("button", name="没有用备件").last.click()  # else its timer fires first
    reporter.locator("[data-testid=bot-message]", has_text="已处理完毕").first.wait_for()
    reporter.get_by_role("button", name="已解决", exact=True).last.click()
    reporter.locator("[data-testid=bot-message]", has_text="回访").first.wait_for()

    follow_up = reporter.locator("[data-testid=bot-message]", has_text="问题有没有再出现")
    assert follow_up.count() == 0
    shown = page.locator("[data-testid=demo-now]").inner_text()
    for _ in range(2):  # a second day when the first lands in the quiet hours (21:00–08:00)
        with page.expect_response("**/webchat/demo/skip*") as skipped:
            page.locator("[data-testid=skip]").click()
        if skipped.value.json()["fired"]:
            break
    follow_up.first.wait_for()
    assert page.locator("[data-testid=demo-now]").inner_text() != shown
    assert reporter.get_by_role("button", name="没有复发").is_enabled()
    page.close()


def test_on_a_phone_a_tab_opens_on_its_newest_message(browser, demo_server):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)
    page.goto(demo_server)
    page.wait_for_selector("[data-testid=tab] >> nth=2")
    tabs = page.locator("[data-testid=tab]")
    reporter, engineer = (page.locator("[data-testid=pane]").nth(i) for i in (0, 1))
    report_a_valve_fault(reporter)
    reporter.locator("[data-testid=bot-message]", has_text="FL-000001").first.wait_for()
    tabs.nth(1).click()
    engineer.get_by_role("button", name="接单").first.click()
    page.wait_for_selector("[data-testid=tab].unread >> nth=0")  # the reporter was told
    tabs.nth(0).click()

    below = reporter.locator("[data-testid=messages]").evaluate(
        "e => e.scrollHeight - e.scrollTop - e.clientHeight")
    assert below < 2  # "张工 已接下" that came in meanwhile shows, not what was there before
    page.close()
