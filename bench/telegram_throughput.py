"""Messages per second and time-to-reply through the Telegram adapter, beside a bare
python-telegram-bot echo bot against the same fake Bot API server, in one run.

    .venv/bin/python bench/telegram_throughput.py [--reporters 200] [--each 5]

Every reporter sends its messages at once (they all sit in the fake server's update queue);
time-to-reply = from the update being queued to the bot's sendMessage reaching the server.
Both bots use PTB's AIORateLimiter with the overall limit lifted (Telegram's real limit of
30 messages/s would make both measure the limiter). frontline runs on SQLite; each message
is `/status`, a full desk step (idempotency record, conversation row, a query, an outbox row,
delivery).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

sys.path.insert(0, str(Path(__file__).parents[1]))

from bot.bootstrap import build
from bot.settings import Settings
from storage import people
from storage.models import Role
from tests.fakes.telegram_api import FakeBotApi


class Timed(FakeBotApi):
    """The fake server, noting when each update was queued and each reply arrived."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.queued: dict[int, list[float]] = {}
        self.replied: dict[int, list[float]] = {}

    def say(self, user_id, name, text, **kw):  # type: ignore[no-untyped-def,override]
        self.queued.setdefault(user_id, []).append(time.perf_counter())
        return super().say(user_id, name, text, **kw)

    async def _m_sendMessage(self, p):  # type: ignore[no-untyped-def,override]
        self.replied.setdefault(int(p["chat_id"]), []).append(time.perf_counter())
        return await super()._m_sendMessage(p)


async def drive(api: Timed, reporters: int, each: int, rate: float = 0) -> dict[str, float]:
    """All at once (rate 0), or paced at `rate` messages per second across the reporters."""
    total = reporters * each
    start = time.perf_counter()
    for i in range(total):
        api.say(10_000 + i % reporters, f"r{i % reporters}", "/status")
        if rate:
            await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
    await api.wait_for(lambda: sum(map(len, api.replied.values())) >= total, within=600)
    elapsed = time.perf_counter() - start
    latencies = sorted(
        (rep - q) * 1000 for chat, qs in api.queued.items()
        for q, rep in zip(qs, api.replied.get(chat, []), strict=False)
    )
    return {"rate": total / elapsed, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1], "n": float(len(latencies))}


async def echo_bot(reporters: int, each: int, rate: float = 0) -> dict[str, float]:
    api = Timed()
    url = await api.start()

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat and update.message
        await update.get_bot().send_message(update.effective_chat.id, update.message.text or "")

    app = (ApplicationBuilder().token(api.token).base_url(f"{url}/bot")
           .rate_limiter(AIORateLimiter(overall_max_rate=100_000, max_retries=3))
           .concurrent_updates(True).build())
    app.add_handler(MessageHandler(filters.ALL, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0.0)
    try:
        return await drive(api, reporters, each, rate)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await api.close()


async def frontline_bot(reporters: int, each: int, rate: float = 0) -> dict[str, float]:
    api = Timed()
    url = await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", channels="telegram",
            telegram_api_base_url=url, telegram_bot_token=SecretStr(api.token),
            telegram_max_rate=100_000, files_dir=Path(tmp) / "files", sla_digest_time="",
            weekly_report_cron="",
        )
        fl = await build(settings, kb=object())
        fl.adapters["telegram"].poll_timeout = 1  # type: ignore[attr-defined]
        await fl.start(schedule=False)
        async with fl.db.transaction() as tx:
            for r in range(reporters):
                await people.add_person(tx, name=f"r{r}", role=Role.REPORTER, now=fl.clock.now(),
                                        identities={"telegram": str(10_000 + r)})
        try:
            return await drive(api, reporters, each, rate)
        finally:
            await fl.stop()
            await api.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reporters", type=int, default=200)
    ap.add_argument("--each", type=int, default=5)
    ap.add_argument("--paced", type=float, default=50, help="msg/s of the paced run (0: skip)")
    args = ap.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d} {args.reporters} reporters x {args.each} messages")
    for label, rate in (("all at once", 0.0), (f"paced {args.paced:g}/s", args.paced)):
        if label.startswith("paced") and not rate:
            continue
        echo = asyncio.run(echo_bot(args.reporters, args.each, rate))
        desk = asyncio.run(frontline_bot(args.reporters, args.each, rate))
        for name, r in (("echo bot (PTB only)", echo), ("frontline (SQLite)", desk)):
            print(f"{label:<12} {name:<20} {r['rate']:7.1f} msg/s  p50 {r['p50']:7.1f} ms"
                  f"  p99 {r['p99']:7.1f} ms")
        print(f"{label:<12} frontline / echo throughput: {desk['rate'] / echo['rate']:.0%}")


if __name__ == "__main__":
    main()
