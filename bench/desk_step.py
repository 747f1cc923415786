"""The desk step alone: CPU time and SQL statements per message, in one process.

    .venv/bin/python bench/desk_step.py [--messages 2000] [--concurrency 20]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/frontline_bench]

Each message (`/status` from one of 200 reporters) goes through `Frontline.receive` with a
fake channel: the desk step and the outbox delivery, as in production, without HTTP. Prints
messages/s, CPU ms per message and statements per message (desk and delivery together), for
SQLite and, when --postgres is given (its public schema is dropped), PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parents[1]))

from bot.bootstrap import build
from bot.settings import Settings
from handlers.core.messages import Incoming, Kind
from tests.support.cluster import seed
from tests.support.fakes import FakeChannel

sys.path.insert(0, str(Path(__file__).parent))
from load import fresh

ROUND = 10  # messages per worker between two reference loops
REFERENCE_LOOP = 100_000  # about 10-20 ms of CPU


async def run(url: str, messages: int, concurrency: int, tmp: Path) -> dict[str, float]:
    await fresh(url)
    await seed(url, 200)
    channel = FakeChannel("telegram")
    s = Settings(database_url=url, channels="", files_dir=tmp / "files", flood_burst=100_000)
    fl = await build(s, channels={"telegram": channel}, kb=None)
    await fl.start(schedule=False)
    gc.collect()
    gc.freeze()  # as `frontline run` does after start: the start-up heap is not rescanned
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(fl.db.engine.sync_engine, "before_cursor_execute", count)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(i)

    async def worker(count: int) -> None:
        for _ in range(count):
            if queue.empty():
                return
            i = queue.get_nowait()
            chat = str(5000 + i % 200)
            await fl.receive(Incoming("telegram", chat, chat, f"u{i}", Kind.COMMAND,
                                      text="/status"))

    # The machine is shared and its speed drifts by up to 2x within a minute: rounds of
    # messages alternate with a fixed pure-Python reference loop, and the figure to compare
    # across runs is the ratio of the two CPU times.
    cpu = reference = wall = 0.0
    while not queue.empty():
        ref = time.process_time()
        sum(i * i for i in range(REFERENCE_LOOP))
        reference += time.process_time() - ref
        c, w = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(ROUND) for _ in range(concurrency)))
        cpu, wall = cpu + time.process_time() - c, wall + time.perf_counter() - w
    c, w = time.process_time(), time.perf_counter()
    await fl.delivery.drain()
    await fl.delivery.run_once()
    cpu, wall = cpu + time.process_time() - c, wall + time.perf_counter() - w
    sent = len(channel.sent)
    await fl.stop()
    return {"rate": messages / wall, "cpu_ms": cpu * 1000 / messages,
            "relative": cpu / reference * ROUND * concurrency / messages,
            "statements": statements / messages, "sent": sent}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--postgres", default="")
    ap.add_argument("--only", default="", help="run only the setups whose name has this text")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setups = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'step.db'}")]
        if args.postgres:
            setups.append(("PostgreSQL", args.postgres))
        print(f"{datetime.now(UTC):%Y-%m-%d} {args.messages} messages, {args.concurrency} at once")
        for name, url in setups:
            if args.only not in name:
                continue
            r = asyncio.run(run(url, args.messages, args.concurrency, Path(tmp)))
            print(f"{name:<11} {r['rate']:6.1f} msg/s  CPU {r['cpu_ms']:5.2f} ms/msg  "
                  f"(x{r['relative']:.3f} of the reference loop)  "
                  f"{r['statements']:4.1f} statements/msg  sent {r['sent']:.0f}", flush=True)


if __name__ == "__main__":
    main()
