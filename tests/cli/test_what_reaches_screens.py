"""People's text on its way to screens other than chats: terminals (`frontline tickets show`,
`tickets list`, `people list`, `tickets report`) and the fault report's Markdown (the period
reports' Markdown and CSV: tests/reporting/test_report_escaping.py)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build
from bot.cli import main
from bot.settings import Settings
from handlers.core import escape
from handlers.core.clock import FakeClock
from handlers.flows.records import fault_report
from storage import people
from storage.models import Role, Ticket
from tests.support.fakes import valve_kb

ESCAPES = "\x1b[2J清屏\x1b]0;pwned\x07\u202etxt.exe\r假行"
PHISH = '<a href="http://evil.example/login">点此查看</a>'


async def seed(url: str, files: Path) -> None:
    fl = await build(Settings(database_url=url, channels="", files_dir=files), clock=FakeClock(),
                     kb=valve_kb())
    await fl.start(schedule=False)
    now = fl.clock.now()
    async with fl.db.transaction() as tx:
        me = await people.add_person(tx, name=f"李明{ESCAPES}", role=Role.REPORTER, now=now,
                                     site=ESCAPES, identities={"web": f"v{ESCAPES}"})
        tx.add(Ticket(reporter_id=me.id or 0, site=ESCAPES, description=f"水泵{ESCAPES}",
                      cause="# 标题\n- [链接](http://evil.example)", status="new",
                      created_at=now, updated_at=now, response_due=now + timedelta(hours=1),
                      resolve_due=now + timedelta(hours=8)))
    await fl.stop()


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    asyncio.run(seed(url, tmp_path / "files"))


@pytest.mark.parametrize("command", [["tickets", "show", "FL-000001"], ["tickets", "list"],
                                     ["people", "list"], ["tickets", "report", "FL-000001"]])
def test_terminal_escapes_in_peoples_text_are_shown_not_obeyed(seeded, capsys, command):
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b" in out and "\\x07" in out and "\\u202e" in out  # shown, as escapes
    if command[1] != "report":  # (the report is Markdown: its brackets are escaped too)
        assert "\\x1b[2J清屏\\x1b]0;pwned\\x07\\u202etxt.exe\\r假行" in out


def test_tickets_show_keeps_a_description_on_its_line(seeded, capsys):
    assert main(["tickets", "show", "FL-000001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("description:") for line in lines) == 1
    assert "cause: # 标题\\n- [链接]" in "\n".join(lines)


async def test_the_fault_report_escapes_what_people_wrote(app, reporter, engineer):
    async with app.db.transaction() as tx:
        tx.add(Ticket(reporter_id=1, site="[一号](http://evil.example)", status="resolved",
                      description=f"{PHISH}\n# 假标题\n1. 假步骤", cause="**全部**",
                      fix="`rm`", prevention="> 引用", created_at=app.clock.now(),
                      updated_at=app.clock.now(), response_due=app.clock.now(),
                      resolve_due=app.clock.now()))
    out: list[str] = []

    async def job(ctx):  # type: ignore[no-untyped-def]
        ticket = await ctx.tx.get(Ticket, 1)
        out.append(await fault_report.markdown(ctx, ticket, "zh"))

    await app.desk.run_job("test:report", job)
    md = out[0]
    assert "\\[一号\\](http://evil.example)" in md and "\\<a href" in md
    assert re.search(r"(?<!\\)<", md) is None
    assert "\n\\# 假标题\n1\\. 假步骤" in md and "\\*\\*全部\\*\\*" in md
    assert "\\`rm\\`" in md and "\\> 引用" in md
    assert md.startswith("# 故障处理报告 FL-000001")  # the report's own markup stays


def test_escape_functions():
    assert escape.csv_cell("=1+1") == "'=1+1" and escape.csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape.csv_cell("\tx") == "'\tx" and escape.csv_cell(-5) == -5
    assert escape.csv_cell("一号园区") == "一号园区"
    assert escape.visible("a\x1b[2Jb\nc\u2028") == "a\\x1b[2Jb\\nc\\u2028"
    assert escape.visible("普通文字 text") == "普通文字 text"
    assert escape.markdown("a_b*c", inline=True) == "a\\_b\\*c"
    assert escape.markdown("第一行\n# 第二行", inline=True) == "第一行 # 第二行"
