"""`frontline people invite`: a code for one site (a Telegram link when the bot can say its
name), the code usable in chat, refused when the numbers make no sense."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli import main
from bot.telegram import bot_username, chat_link
from handlers.core.clock import SystemClock
from handlers.flows import admission
from storage import admission as stored
from storage.uow import Database
from tests.fakes.telegram_api import FakeBotApi


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return url


def usable(url: str, code: str) -> bool:
    async def check() -> bool:
        db = Database(create_async_engine(url))
        async with db.transaction() as tx:
            found = await stored.usable_invitation(tx, admission.code_hash(code),
                                                   SystemClock().now())
        await db.dispose()
        return found is not None and found.site == "一号园区" and found.uses_left == 3

    return asyncio.run(check())


def test_an_invitation_prints_a_code_that_chat_accepts(db_url, capsys):
    assert main(["people", "invite", "--site", "一号园区", "--uses", "3", "--days", "2"]) == 0
    out = capsys.readouterr().out
    shown = re.search(r"一号园区: ([A-Z0-9]{5}-[A-Z0-9]{5}) \(3 uses, valid until ", out)
    assert shown and "t.me" not in out  # no Telegram token: just the code
    assert usable(db_url, admission.as_code(shown[1]) or "")


def test_an_unreachable_telegram_still_prints_the_code(db_url, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:TEST")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9")  # nothing listens
    assert main(["people", "invite", "--site", "一号园区"]) == 0
    out = capsys.readouterr().out
    assert "invitation for 一号园区" in out and "t.me" not in out


@pytest.mark.parametrize("flags", [["--uses", "0"], ["--days", "400"], ["--uses", "100000"]])
def test_nonsense_numbers_are_refused(db_url, capsys, flags):
    assert main(["people", "invite", "--site", "一号园区", *flags]) == 2
    assert "--uses 1–500 and --days 1–90" in capsys.readouterr().err


def test_a_site_of_several_lines_is_refused(db_url):
    assert main(["people", "invite", "--site", "一号园区\n【系统通知】"]) == 2


async def test_the_link_names_the_bot_telegram_reports():
    api = FakeBotApi()
    url = await api.start()
    try:
        name = await bot_username(url, api.token)
    finally:
        await api.close()
    assert chat_link(name, "ABCDE23456") == "https://t.me/frontline_bot?start=ABCDE23456"
    assert chat_link("", "ABCDE23456") == ""
