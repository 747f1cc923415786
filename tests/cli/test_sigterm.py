"""SIGTERM on a real `python -m bot.cli run` (Telegram webhook mode, the fake Bot API).

Shows: the process exits 0 within a bound; every update it answered 200 was handled and its
reply reached the platform (nothing left unsent in the outbox); a webhook post made once
shutdown has begun is refused (not accepted and dropped).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import make_engine
from storage.models import Outbox
from storage.uow import Database
from tests.conftest import BACKENDS, PG_URL
from tests.fakes.telegram_api import FakeBotApi
from tests.support.cluster import SECRET, Cluster, seed, wait_healthy

REPORTERS = 60  # one update each, all at once: SIGTERM lands while many are in hand
EXIT_WITHIN = 30.0  # seconds from SIGTERM to exit
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


async def own_postgres_database() -> str:
    """A database of this test's own on the test server: other test runs may be using (and
    dropping the schema of) the shared one meanwhile."""
    base, _, _ = PG_URL.rpartition("/")
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("DROP DATABASE IF EXISTS frontline_sigterm WITH (FORCE)"))
        await conn.execute(text("CREATE DATABASE frontline_sigterm"))
    await engine.dispose()
    return f"{base}/frontline_sigterm"


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return await own_postgres_database()
    return f"sqlite+aiosqlite:///{tmp_path / 'sigterm.db'}"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(delay=0.2)  # a slow platform: replies are still queued at SIGTERM
    fake.url = await fake.start()  # type: ignore[attr-defined]
    yield fake
    await fake.close()


async def outbox_rows(url: str) -> list[Outbox]:
    db = Database(make_engine(url))
    try:
        async with db.transaction() as tx:
            return list(await tx.scalars(select(Outbox)))
    finally:
        await db.dispose()


async def shutting_down(log: Path, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while "shutting down" not in log.read_text():  # noqa: ASYNC240 (a small log file)
        assert time.monotonic() < deadline, log.read_text()  # noqa: ASYNC240
        await asyncio.sleep(0.02)


async def test_sigterm_finishes_what_was_accepted_and_refuses_the_rest(
    api: FakeBotApi, database: str, tmp_path: Path
) -> None:
    await seed(database, REPORTERS)
    cluster = Cluster(api.url, api.token, tmp_path, url=database, replicas=1,  # type: ignore[attr-defined]
                      FRONTLINE_SWEEP_INTERVAL_SECONDS="0.1")  # a sweep is nearly always on
    cluster.start(0)
    proc = cluster.procs[0]
    assert proc is not None
    log = tmp_path / "replica0.log"
    try:
        await wait_healthy(cluster.backends, [proc], tmp_path)
        webhook = f"{cluster.backends[0]}/telegram/webhook"
        answers: dict[int, int | str] = {}
        under_way = asyncio.Event()  # a few answered 200: the process is well into the work

        async def post(session: aiohttp.ClientSession, chat: int) -> None:
            update = api.say(chat, f"r{chat}", "/help")
            try:
                async with session.post(webhook, json=update, headers=HEADERS) as r:
                    answers[chat] = r.status
                    if sum(a == 200 for a in answers.values()) >= 5:
                        under_way.set()
            except (aiohttp.ClientError, OSError) as exc:  # refused, reset: never accepted
                answers[chat] = type(exc).__name__

        chats = [5000 + r for r in range(REPORTERS)]
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            posts = [asyncio.create_task(post(session, c)) for c in chats]
            await asyncio.wait_for(under_way.wait(), 30)
            proc.send_signal(signal.SIGTERM)
            sent_at = time.monotonic()
            unanswered_at_sigterm = REPORTERS - len(answers)

            await shutting_down(log)
            late = [4000, 4001, 4002]  # posted once shutdown has begun
            await asyncio.gather(*(post(session, c) for c in late))
            await asyncio.gather(*posts)

        rc = await asyncio.to_thread(proc.wait, EXIT_WITHIN)
        took = time.monotonic() - sent_at
    except BaseException:
        cluster.stop_all()
        raise
    output = log.read_text()
    assert rc == 0, output
    assert took < EXIT_WITHIN
    assert unanswered_at_sigterm > 0  # SIGTERM did land while updates were in hand

    accepted = [c for c in chats if answers[c] == 200]
    assert len(accepted) >= 5
    for chat in accepted:  # answered 200: handled, and its reply reached the platform
        replies = api.texts_to(chat)
        assert len(replies) == 1 and "热线" in replies[0], (chat, replies)
    for chat in chats:  # the refused ones: not half-done either (the platform would resend)
        assert len(api.texts_to(chat)) <= 1
    assert all(answers[c] != 200 for c in late), {c: answers[c] for c in late}
    assert not any(api.texts_to(c) for c in late)

    rows = await outbox_rows(database)
    assert rows and all(r.state == "sent" for r in rows), [
        (r.chat_id, r.state, r.last_error) for r in rows if r.state != "sent"]
    assert "Traceback" not in output, output
    assert not [line for line in output.splitlines() if " ERROR " in line], output

