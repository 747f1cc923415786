"""Load: many reporters writing through webhooks to 1 or 3 replicas; nothing lost or doubled.

    .venv/bin/python bench/load.py [--reporters 1000] [--messages 20000] [--rate 200]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/frontline_bench]

For each setup (1 replica on SQLite; 1 and 3 on PostgreSQL when --postgres is given — its
public schema is dropped), `frontline run` processes take Telegram webhook traffic from a
load generator that spreads its posts over them in turn (or, with --via-forwarder, through
the tests' round-robin forwarder process-in-the-middle, which costs the shared CPU more) and
answer through a fake Bot API server. Messages (`/status`, a full desk step each) are posted
at --rate per second; time-to-reply is from the webhook POST to the reply reaching the fake
server. Prints throughput, p50/p99, errors, lost and doubled replies, peak RSS, and CPU time
per message of the replicas, of the harness (generator + fake server) and of PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1]))

from storage.engine import make_engine
from tests.fakes.telegram_api import FakeBotApi
from tests.support.cluster import SECRET, Cluster, forwarder, seed, wait_healthy

WEBHOOK_CONNECTIONS = 100


class Timed(FakeBotApi):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.replied: dict[int, list[float]] = {}

    async def _m_sendMessage(self, p):  # type: ignore[no-untyped-def,override]
        self.replied.setdefault(int(p["chat_id"]), []).append(time.perf_counter())
        return await super()._m_sendMessage(p)


async def fresh(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def cpu_seconds(pid: int, *, system_only: bool = False) -> float:
    """User + system (or only system) CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user = 0 if system_only else int(fields[11])
    return (user + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU time of the PostgreSQL server processes alive now (backends of the replicas)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("postgres"):
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def post_all(api: Timed, targets: list[str], reporters: int, messages: int, rate: float,
                   sent: dict[int, list[float]]) -> int:
    errors = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    # Telegram opens at most `max_connections` (1-100, default 40) to a webhook at once
    connector = aiohttp.TCPConnector(limit=WEBHOOK_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as s:
        turn = itertools.cycle(targets)

        async def post(chat: int) -> None:
            nonlocal errors
            update = api.say(chat, "r", "/status")
            api.updates.clear()  # webhook mode: nobody polls
            sent.setdefault(chat, []).append(time.perf_counter())
            try:
                async with s.post(f"{next(turn)}/telegram/webhook", json=update,
                                  headers=headers) as r:
                    errors += r.status != 200
            except aiohttp.ClientError:
                errors += 1

        start, tasks = time.perf_counter(), []
        for i in range(messages):
            tasks.append(asyncio.create_task(post(5000 + i % reporters)))
            await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    return errors


def reference_ms() -> float:
    """CPU time of a fixed pure-Python loop: how fast the shared machine is right now (it
    drifts by up to 2x); the same loop as bench/desk_step.py's."""
    start = time.process_time()
    sum(i * i for i in range(100_000))
    return (time.process_time() - start) * 1000


def timeline(api: Timed, sent: dict[int, list[float]]) -> str:
    """Time-to-reply second by second of sending: a steady queue and stalls look different."""
    pairs = sorted((at, (reply - at) * 1000) for chat, times in sent.items()
                   for at, reply in zip(times, api.replied.get(chat, []), strict=False))
    if not pairs:
        return ""
    start, seconds = pairs[0][0], dict[int, list[float]]()
    for at, ms in pairs:
        seconds.setdefault(int(at - start), []).append(ms)
    lines = []
    for second, values in sorted(seconds.items()):
        values.sort()
        lines.append(f"  {second:4d}s  n {len(values):4d}  p50 {values[len(values) // 2]:7.1f}"
                     f"  p99 {values[int(len(values) * 0.99) - 1]:7.1f}  max {values[-1]:7.1f}")
    return "\n".join(lines)


def tally(api: Timed, sent: dict[int, list[float]]) -> tuple[list[float], int, int]:
    """Latencies (ms), lost and doubled replies, chat by chat (a total could hide both)."""
    latencies = sorted((reply - at) * 1000 for chat, times in sent.items()
                       for at, reply in zip(times, api.replied.get(chat, []), strict=False))
    per_chat = [(len(times), len(api.replied.get(chat, []))) for chat, times in sent.items()]
    return (latencies, sum(max(0, want - got) for want, got in per_chat),
            sum(max(0, got - want) for want, got in per_chat))


async def load(api: Timed, targets: list[str], reporters: int, messages: int,
               rate: float) -> tuple[dict[int, list[float]], int]:
    """Post the messages at the rate and wait (bounded) until every reply is in."""
    sent: dict[int, list[float]] = {}
    errors = await post_all(api, targets, reporters, messages, rate, sent)

    def complete() -> bool:
        return all(len(api.replied.get(c, [])) >= len(t) for c, t in sent.items())

    try:
        await api.wait_for(complete, within=300)
    except AssertionError:
        pass  # counted as lost
    return sent, errors


async def run(url: str, replicas: int, reporters: int, messages: int, rate: float,
              tmp: Path, via_forwarder: bool = False, warmup: float = 2.0,
              show_timeline: bool = False) -> dict[str, float]:
    api = Timed()
    api_url = await api.start()
    await fresh(url)
    await seed(url, reporters)
    cluster = Cluster(api_url, api.token, tmp, url=url, replicas=replicas,
                      FRONTLINE_FLOOD_BURST="1000", FRONTLINE_LOG_LEVEL="WARNING",
                      FRONTLINE_SWEEP_INTERVAL_SECONDS="2")  # the default, not the tests' 0.5
    for i in range(replicas):
        cluster.start(i)
    await wait_healthy(cluster.backends, [p for p in cluster.procs if p], tmp)
    runner, lb = await forwarder(cluster.backends)
    targets = [lb] if via_forwarder else cluster.backends
    pids = [p.pid for p in cluster.procs if p]
    try:
        # Warm-up, not measured: pools fill, statements are prepared, connections open.
        warm, warm_errors = await load(api, targets, reporters, int(rate * warmup), rate)
        _, warm_lost, warm_doubled = tally(api, warm)
        api.replied.clear()
        ref = reference_ms()
        cpu0, db0, own0 = sum(cpu_seconds(p) for p in pids), postgres_cpu(), time.process_time()
        sys0 = sum(cpu_seconds(p, system_only=True) for p in pids)
        start = time.perf_counter()
        sent, errors = await load(api, targets, reporters, messages, rate)
        elapsed = time.perf_counter() - start
        own = time.process_time() - own0
        replicas_cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        replicas_sys = sum(cpu_seconds(p, system_only=True) for p in pids) - sys0
        db_cpu = postgres_cpu() - db0 if "postgresql" in url else 0.0
        rss = max(peak_rss_mb(p.pid) for p in cluster.procs if p)
        ref = (ref + reference_ms()) / 2
    finally:
        await runner.cleanup()
        cluster.stop_all()
        await api.close()
    latencies, lost, doubled = tally(api, sent)
    if show_timeline:
        print(timeline(api, sent), flush=True)
    return {"rate": messages / elapsed, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1],
            "errors": errors + warm_errors, "lost": lost + warm_lost,
            "doubled": doubled + warm_doubled, "rss": rss,
            "cpu": replicas_cpu * 1000 / messages, "harness": own * 1000 / messages,
            "db": db_cpu * 1000 / messages, "reference": ref,
            "sys": replicas_sys / max(replicas_cpu, 1e-9)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reporters", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--postgres", default="")
    ap.add_argument("--warmup", type=float, default=2.0,
                    help="seconds of traffic at --rate before measuring (checked, not timed)")
    ap.add_argument("--only", default="", help="run only the setups whose name has this text")
    ap.add_argument("--via-forwarder", action="store_true",
                    help="post through the tests' round-robin forwarder (costs harness CPU) "
                         "instead of spreading posts over the replicas from the generator")
    ap.add_argument("--timeline", action="store_true",
                    help="print time-to-reply second by second (where the tail comes from)")
    args = ap.parse_args()
    # The harness keeps every call it saw: its own full GC passes would stall the fake
    # server and be counted as the bot's time-to-reply.
    gc.disable()
    with tempfile.TemporaryDirectory() as tmp:
        setups = [("1 replica, SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'load.db'}", 1)]
        if args.postgres:
            setups += [("1 replica, PostgreSQL", args.postgres, 1),
                       ("3 replicas, PostgreSQL", args.postgres, 3)]
        print(f"{datetime.now(UTC):%Y-%m-%d} {args.reporters} reporters, {args.messages} "
              f"messages at {args.rate:g}/s")
        setups = [s for s in setups if args.only in s[0]]
        for i, (name, url, n) in enumerate(setups):
            work = Path(tmp) / f"run{i}"
            work.mkdir()
            r = asyncio.run(run(url, n, args.reporters, args.messages, args.rate, work,
                                args.via_forwarder, args.warmup, args.timeline))
            print(f"{name:<24} {r['rate']:6.1f} msg/s  p50 {r['p50']:7.1f} ms  "
                  f"p99 {r['p99']:8.1f} ms  errors {r['errors']:.0f}  lost {r['lost']:.0f}  "
                  f"doubled {r['doubled']:.0f}  peak RSS {r['rss']:.0f} MB  CPU/msg replicas "
                  f"{r['cpu']:.1f} ms ({r['sys']:.0%} in the kernel), "
                  f"harness {r['harness']:.1f} ms, PostgreSQL {r['db']:.1f} ms"
                  f"  (reference loop {r['reference']:.1f} ms)",
                  flush=True)


if __name__ == "__main__":
    main()
