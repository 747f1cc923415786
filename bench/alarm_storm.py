"""Alarm storm (issue 18): 10,000 alerts within 60 s from 1,000 devices while 50 reporters chat.

    .venv/bin/python bench/alarm_storm.py [--alerts 10000] [--devices 1000] [--duration 60]
        [--reporters 50] [--chat-rate 10] [--grace 5]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/fl_storm] [--replicas 3]
        [--alarm-replicas K [--alarm-nice N]]

The registry the bench writes: a gateway `gw-storm` with 20 % of the devices (sensors) behind
it, 5 % flapping devices, 10 % with a real fault, 20 % with a blip (fires, clears a second
later: recorded, never paged), the rest healthy (heartbeats only). In the storm phase the
gateway goes down (its sensors report unreachable from a few seconds before it to the end),
the flapping devices fire and clear every second, the faults fire and repeat, the blips blip,
the healthy devices beat; every alert is posted twice (the copy to the next replica, same
id: a replay), each device's alerts in order. Alarm rules with a grace of --grace seconds
for every severity make the pages happen within the run.

Before the storm a baseline phase of the same length has only the reporters (`/status`
through the Telegram webhook, bench/load.py's generator); in the storm phase they chat at the
same rate. Afterwards the database says what became of every alarm. Prints a table:
incidents against real faults, tickets and pages (duplicates), alarms recorded against sent,
alert→page time, the reporters' time-to-reply p99 storm / baseline, peak RSS.

One setup per run: SQLite with 1 replica, or --postgres (its public schema is dropped) with
--replicas replicas. With --alarm-replicas K the last K replicas take the alerts and the others
run with FRONTLINE_ALARM_INTAKE=false and take the chat (alarm intake in its own processes,
optionally at a lower CPU priority, --alarm-nice); without it every replica takes both.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1]))

from bench.load import Timed, cpu_seconds, fresh, load, peak_rss_mb, postgres_cpu, tally
from storage.engine import make_engine
from tests.support.cluster import Cluster, seed, wait_healthy

TOKEN = "storm-alerts-token"
GATEWAY = "gw-storm"
ENGINEERS = (7001, 7002)  # tests/support/cluster.py seed()
DEVICE_ID = re.compile(r"\b(gw-storm|sn-\d+|fl-\d+|rf-\d+|bl-\d+|ok-\d+)\b")
ALERT_CONNECTIONS = 100
FLAP_EVENTS = 8  # F C F C F C F (the 4th fire makes it flapping: paged) and one repeat
FAULT_KINDS = (("pump", "pressure_low", "出水压力低"), ("valve", "valve_stuck", "阀门卡滞"),
               ("controller", "controller_offline", "控制器离线"),
               ("camera", "video_lost", "视频丢失"),
               ("weather_station", "wind_sensor", "风速计故障"))


@dataclass
class Alert:
    device: str
    kind: str
    severity: str
    status: str  # firing | cleared | heartbeat
    offset: float  # seconds after the storm starts
    message: str = ""
    seq: int = 0
    posted: float = 0.0  # perf_counter of its first post

    def body(self) -> dict[str, Any]:
        at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if self.status == "heartbeat":
            return {"device": self.device, "type": "heartbeat", "time": at,
                    "id": f"{self.device}:{self.seq}"}
        return {"device": self.device, "type": self.kind, "severity": self.severity,
                "status": self.status, "message": self.message, "time": at,
                "id": f"{self.device}:{self.seq}", "site": "storm"}


@dataclass
class Plan:
    rows: list[dict[str, Any]]
    alerts: dict[str, list[Alert]]  # per device, in sending order
    groups: dict[str, list[str]]  # gateway, sensors, flapping, faults, blips, healthy

    @property
    def unique(self) -> int:
        return sum(len(a) for a in self.alerts.values())

    @property
    def alarms(self) -> int:
        return sum(1 for a in self.all() if a.status != "heartbeat")

    def all(self) -> list[Alert]:
        return [a for alerts in self.alerts.values() for a in alerts]


def plan(devices: int, alerts: int, duration: float, rng: random.Random) -> Plan:
    """The registry and every device's alerts; `alerts` counts both copies."""
    n = {"sensors": round(devices * 0.2), "flapping": round(devices * 0.05),
         "faults": round(devices * 0.1), "blips": round(devices * 0.2)}
    n["healthy"] = devices - 1 - sum(n.values())
    unique = alerts // 2
    fixed = n["flapping"] * FLAP_EVENTS + n["blips"] * 2
    repeating = 1 + n["sensors"] + n["faults"] + n["healthy"]
    if n["healthy"] < 0 or unique < fixed + repeating:
        raise SystemExit(f"{alerts} alerts are too few for {devices} devices "
                         f"(at least {2 * (fixed + repeating)})")
    groups = {"gateway": [GATEWAY],
              "sensors": [f"sn-{i:04d}" for i in range(n["sensors"])],
              "flapping": [f"fl-{i:03d}" for i in range(n["flapping"])],
              "faults": [f"rf-{i:04d}" for i in range(n["faults"])],
              "blips": [f"bl-{i:04d}" for i in range(n["blips"])],
              "healthy": [f"ok-{i:04d}" for i in range(n["healthy"])]}
    rows = [{"id": GATEWAY, "name": "北区网关", "type": "gateway", "plot": "北区"}]
    rows += [{"id": d, "name": f"土壤墒情 {i}", "type": "soil_sensor", "parent": GATEWAY,
              "plot": f"{i % 30 + 1}号地块"} for i, d in enumerate(groups["sensors"])]
    rows += [{"id": d, "name": f"电磁阀 {i}", "type": "valve", "plot": f"{i % 30 + 1}号地块"}
             for i, d in enumerate(groups["flapping"])]
    rows += [{"id": d, "name": f"设备 {i}", "type": FAULT_KINDS[i % len(FAULT_KINDS)][0],
              "plot": f"{i % 30 + 1}号地块"} for i, d in enumerate(groups["faults"])]
    rows += [{"id": d, "name": f"传感器 {i}", "type": "sensor", "plot": f"{i % 30 + 1}号地块"}
             for i, d in enumerate(groups["blips"])]
    rows += [{"id": d, "name": f"气象点 {i}", "type": "weather_station", "heartbeat_minutes": 60,
              "plot": f"{i % 30 + 1}号地块"} for i, d in enumerate(groups["healthy"])]

    # how many alerts each repeating device sends: one each, the rest spread in turn
    count = dict.fromkeys([GATEWAY, *groups["sensors"], *groups["faults"],
                           *groups["healthy"]], 1)
    order = list(count)
    for i in range(unique - fixed - repeating):
        count[order[i % len(order)]] += 1

    def spread(first: float, k: int) -> list[float]:
        step = (duration - 1 - first) / k
        return [first + j * step for j in range(k)]

    out: dict[str, list[Alert]] = {}
    out[GATEWAY] = [Alert(GATEWAY, "link_down", "critical", "firing", t, "网关无响应")
                    for t in spread(2.0, count[GATEWAY])]
    for d in groups["sensors"]:  # some report before the gateway's own alarm arrives
        out[d] = [Alert(d, "unreachable", "major", "firing", t, "连续 3 次轮询无应答")
                  for t in spread(rng.uniform(0, 8), count[d])]
    for d in groups["flapping"]:
        start = rng.uniform(0, duration - FLAP_EVENTS - 2)
        out[d] = [Alert(d, "link_down", "major", "firing" if j % 2 == 0 or j == 7 else "cleared",
                        start + j, "链路中断") for j in range(FLAP_EVENTS)]
    for i, d in enumerate(groups["faults"]):
        _, kind, words = FAULT_KINDS[i % len(FAULT_KINDS)]
        sev = ("major", "minor", "warning", "critical")[i % 4]
        out[d] = [Alert(d, kind, sev, "firing", t, words)
                  for t in spread(rng.uniform(0, duration * 0.7), count[d])]
    for d in groups["blips"]:
        t = rng.uniform(0, duration - 3)
        out[d] = [Alert(d, "humidity_jump", "warning", "firing", t, "湿度跳变"),
                  Alert(d, "humidity_jump", "warning", "cleared", t + 1, "湿度恢复")]
    for d in groups["healthy"]:
        out[d] = [Alert(d, "heartbeat", "", "heartbeat", t)
                  for t in spread(rng.uniform(0, duration / count[d]), count[d])]
    for alerts_of in out.values():
        for seq, a in enumerate(alerts_of):
            a.seq = seq
    return Plan(rows, out, groups)


def registry_csv(rows: list[dict[str, Any]]) -> str:
    cols = ("id", "name", "type", "site", "plot", "parent", "category", "heartbeat_minutes")
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join(str({**r, "site": "storm"}.get(c, "")) for c in cols))
    return "\n".join(lines) + "\n"


def rules_toml(grace_seconds: float) -> str:
    """handlers/policies/alarms.toml's format; grace in minutes (fractions allowed)."""
    minutes = grace_seconds / 60
    out = []
    for sev, prio in (("critical", "P1"), ("major", "P2"), ("minor", "P3"), ("warning", "P4"),
                      ("info", "")):
        g = minutes if prio else 0
        out.append(f'[severity.{sev}]\npriority = "{prio}"\ngrace = {g}\nnight_grace = {g}\n')
    out.append("[flapping]\nflaps = 3\nwindow = 30\nreopen_within = 30\n")
    return "\n".join(out)


class Storm(Timed):
    """The fake Bot API, also keeping what the engineers were sent and when."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.pages: list[tuple[int, float, str]] = []

    async def _m_sendMessage(self, p):  # type: ignore[no-untyped-def]
        chat = int(p["chat_id"])
        if chat in ENGINEERS:
            self.pages.append((chat, time.perf_counter(), str(p.get("text", ""))))
        return await super()._m_sendMessage(p)


@dataclass
class Sending:
    posted: int = 0  # alert copies posted (answered)
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0  # non-200 answers and connection failures (each retried)
    first: float = 0.0
    last: float = 0.0
    by_status: Counter[int] = field(default_factory=Counter)


async def send_storm(plan: Plan, targets: list[str], start: float, state: Sending) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=ALERT_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:

        async def post(url: str, body: dict[str, Any]) -> None:
            for _ in range(10):  # a sender retries a 503 or a lost connection
                try:
                    async with s.post(f"{url}/alerts/generic", json=body, headers=headers) as r:
                        state.by_status[r.status] += 1
                        if r.status == 200:
                            got = await r.json()
                            state.accepted += got["accepted"]
                            state.duplicates += got["duplicates"]
                            state.posted += 1
                            state.last = time.perf_counter()
                            return
                except aiohttp.ClientError:
                    pass
                state.errors += 1
                await asyncio.sleep(1)

        async def device(i: int, alerts: list[Alert]) -> None:
            here, there = targets[i % len(targets)], targets[(i + 1) % len(targets)]
            for a in alerts:  # in order: the next alert only once this one is taken
                await asyncio.sleep(max(0.0, start + a.offset - time.perf_counter()))
                body = a.body()
                a.posted = time.perf_counter()
                state.first = state.first or a.posted
                await asyncio.gather(post(here, body), post(there, body))

        await asyncio.gather(*(device(i, alerts)
                               for i, alerts in enumerate(plan.alerts.values())))


async def progress(label: str, start: float, api: Storm, state: Sending | None, total: int,
                   chat_total: int, every: float = 5.0) -> None:
    while True:
        await asyncio.sleep(every)
        elapsed = time.perf_counter() - start
        replies = sum(len(v) for c, v in api.replied.items() if c not in ENGINEERS)
        line = f"  [{label} {elapsed:5.0f}s] reporters' replies {replies}/{chat_total}"
        if state is not None:
            rate = state.posted / elapsed if elapsed else 0
            eta = (total - state.posted) / rate if rate else float("inf")
            line += (f"  alerts posted {state.posted}/{total} ({rate:.0f}/s, ~{eta:.0f}s left)"
                     f"  errors {state.errors}  pages {len(api.pages)}")
        print(line, flush=True)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(len(values) * q + 0.5) - 1))]


async def read_db(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        incidents = (await conn.execute(text(
            "SELECT id, key, device, parent_id, ticket_id, state, flapping, count FROM incident"
        ))).all()
        records = (await conn.execute(text("SELECT count(*) FROM alarmrecord"))).scalar_one()
        tickets = (await conn.execute(text(
            "SELECT id, device FROM ticket WHERE channel = 'monitoring'"))).all()
        pages = (await conn.execute(text("SELECT ticket_id, person_id FROM page"))).all()
        beats = (await conn.execute(text(
            "SELECT count(*) FROM device WHERE last_heartbeat IS NOT NULL"))).scalar_one()
        devices = (await conn.execute(text("SELECT count(*) FROM device"))).scalar_one()
    await engine.dispose()
    return {"incidents": incidents, "records": records, "tickets": tickets, "pages": pages,
            "beats": beats, "devices": devices}


def judge(plan: Plan, db: dict[str, Any], api: Storm, state: Sending) -> list[tuple[str, str,
                                                                                  str]]:
    """(figure, value, goal) rows."""
    g = plan.groups
    incidents = db["incidents"]
    by_device: dict[str, list[Any]] = {}
    for row in incidents:
        by_device.setdefault(row.device, []).append(row)
    gw = by_device.get(GATEWAY, [])
    gw_id = gw[0].id if len(gw) == 1 else None
    attached = sum(1 for d in g["sensors"] for r in by_device.get(d, [])
                   if r.parent_id is not None and r.parent_id == gw_id)
    sensors_paged = sum(1 for d in g["sensors"] for r in by_device.get(d, []) if r.ticket_id)
    faults = [GATEWAY, *g["flapping"], *g["faults"]]
    with_ticket = sum(1 for d in faults for r in by_device.get(d, []) if r.ticket_id)
    blips_paged = sum(1 for d in g["blips"] for r in by_device.get(d, []) if r.ticket_id)
    dup_incidents = sum(len(v) - 1 for v in by_device.values() if len(v) > 1)
    top = [r for r in incidents if r.parent_id is None and r.device not in g["blips"]]
    per_device_tickets = Counter(t.device for t in db["tickets"])
    dup_tickets = sum(n - 1 for n in per_device_tickets.values() if n > 1)
    page_pairs = Counter((p.ticket_id, p.person_id) for p in db["pages"])
    pages_per_ticket = Counter(p.ticket_id for p in db["pages"])

    # pages as the engineers received them, by the device they name
    first_page: dict[str, float] = {}
    received = Counter[str]()
    for _, at, words in api.pages:
        named = set(DEVICE_ID.findall(words))
        if len(named) == 1:
            dev = named.pop()
            received[dev] += 1
            first_page.setdefault(dev, at)
    dup_received = sum(n - 1 for n in received.values() if n > 1)
    grace_paged = [first_page[d] - plan.alerts[d][0].posted
                   for d in [GATEWAY, *g["faults"]] if d in first_page]
    flap_paged, flap_fire = [], Counter[int]()
    for d in g["flapping"]:
        if d not in first_page:
            continue
        fires = [a for a in plan.alerts[d] if a.status == "firing"
                 and 0 < a.posted <= first_page[d]]
        if fires:  # the fire that made it flapping: the last one posted before the page
            flap_paged.append(first_page[d] - fires[-1].posted)
            flap_fire[len(fires)] += 1
    healthy = len(g["healthy"])
    copies = 2 * plan.unique
    return [
        ("incidents created", f"{len(incidents)}",
         f"{len(faults) + len(g['sensors']) + len(g['blips'])} (one per device that alarmed)"),
        ("  top-level incidents of real faults", f"{len(top)}",
         f"{len(faults)} (gateway 1, flapping {len(g['flapping'])}, faults {len(g['faults'])})"),
        ("  sensors attached to the gateway", f"{attached}/{len(g['sensors'])}",
         f"{len(g['sensors'])}, none paged (paged: {sensors_paged})"),
        ("  blips recorded, not paged", f"{len(g['blips']) - blips_paged}/{len(g['blips'])}",
         f"{len(g['blips'])}"),
        ("  second incident for one device", f"{dup_incidents}", "0"),
        ("tickets (monitoring)", f"{len(db['tickets'])}", f"{len(faults)}"),
        ("  real faults with a ticket", f"{with_ticket}/{len(faults)}", f"{len(faults)}"),
        ("  duplicate tickets (same device)", f"{dup_tickets}", "0"),
        ("pages (database)", f"{len(db['pages'])}, max "
         f"{max(pages_per_ticket.values(), default=0)} per ticket",
         f"{len(faults)}, 1 per ticket"),
        ("  duplicate pages (ticket, engineer)",
         f"{sum(n - 1 for n in page_pairs.values() if n > 1)}", "0"),
        ("  pages received by engineers",
         f"{sum(received.values())} for {len(received)} devices", f"{len(faults)}"),
        ("  duplicate pages received", f"{dup_received}", "0"),
        ("alert → page, grace-paged (p50 / p99)",
         f"{quantile(grace_paged, .5):.1f} s / {quantile(grace_paged, .99):.1f} s "
         f"(n {len(grace_paged)})", "grace + sweep"),
        ("alert → page, flapping (p50 / p99)",
         f"{quantile(flap_paged, .5):.1f} s / {quantile(flap_paged, .99):.1f} s "
         f"(n {len(flap_paged)})", "at once"),
        ("  flapping paged at fire no. (devices)",
         ", ".join(f"{k}: {v}" for k, v in sorted(flap_fire.items())),
         "4 (flaps = 3: fired again after 3 clears)"),
        ("alerts posted (both copies)", f"{state.posted}/{copies} in "
         f"{state.last - state.first:.1f} s", f"{copies} in ≤ 60 s"),
        ("  answered accepted / duplicate", f"{state.accepted} / {state.duplicates}",
         f"{plan.unique} / {plan.unique}"),
        ("  failed posts (retried)", f"{state.errors} {dict(state.by_status)}", "0"),
        ("alarms recorded / sent", f"{db['records']}/{plan.alarms}", "all"),
        ("heartbeats: devices seen alive", f"{db['beats']}/{healthy}", f"{healthy}"),
    ]


async def run(args: argparse.Namespace, url: str, replicas: int, tmp: Path) -> None:
    rng = random.Random(18)
    storm = plan(args.devices, args.alerts, args.duration, rng)
    (tmp / "devices.csv").write_text(registry_csv(storm.rows))
    (tmp / "alarms.toml").write_text(rules_toml(args.grace))
    api = Storm()
    api_url = await api.start()
    await fresh(url)
    await seed(url, args.reporters)
    cluster = Cluster(api_url, api.token, tmp, url=url, replicas=replicas,
                      FRONTLINE_FLOOD_BURST="1000", FRONTLINE_LOG_LEVEL="WARNING",
                      FRONTLINE_SWEEP_INTERVAL_SECONDS="2",
                      FRONTLINE_ALERTS_TOKEN=TOKEN,
                      FRONTLINE_DEVICES_FILE=str(tmp / "devices.csv"),
                      FRONTLINE_ALARM_RULES_FILE=str(tmp / "alarms.toml"))
    # One first, then the rest (a rolling start): replicas starting together all write the
    # registry at once and all but one stop on the device table's primary key.
    split = 0 < args.alarm_replicas < replicas  # the last K take the alerts, the rest chat
    chat_only = {"FRONTLINE_ALARM_INTAKE": "false"} if split else {}
    cluster.start(0, **chat_only)
    await wait_healthy(cluster.backends[:1], cluster.procs[:1], tmp)
    for i in range(1, replicas):
        if split and i >= replicas - args.alarm_replicas:
            cluster.start(i, nice=args.alarm_nice)
        else:
            cluster.start(i, **chat_only)
    await wait_healthy(cluster.backends, [p for p in cluster.procs if p], tmp)
    targets = cluster.backends
    alarm_targets = targets[replicas - args.alarm_replicas:] if split else targets
    targets = targets[:replicas - args.alarm_replicas] if split else targets
    chats = int(args.chat_rate * args.duration)
    state = Sending()
    try:
        print(f"  warm-up (reporters, {args.warmup:g} s, not measured)", flush=True)
        await load(api, targets, args.reporters, int(args.chat_rate * args.warmup),
                   args.chat_rate)
        api.replied.clear()

        print(f"  baseline: {args.reporters} reporters, {chats} messages in "
              f"{args.duration:g} s", flush=True)
        pids = [p.pid for p in cluster.procs if p]
        cpu0, db0, t0 = sum(cpu_seconds(p) for p in pids), postgres_cpu(), time.perf_counter()
        ticker = asyncio.create_task(progress("baseline", t0, api, None, 0, chats))
        base_sent, base_errors = await load(api, targets, args.reporters, chats,
                                            args.chat_rate)
        ticker.cancel()
        base, base_lost, base_doubled = tally(api, base_sent)
        api.replied.clear()
        base_cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        base_db = postgres_cpu() - db0

        print(f"  storm: {2 * storm.unique} alerts ({storm.unique} distinct) from "
              f"{args.devices} devices in {args.duration:g} s, reporters as before", flush=True)
        cpu0, db0, t0 = sum(cpu_seconds(p) for p in pids), postgres_cpu(), time.perf_counter()
        ticker = asyncio.create_task(progress("storm", t0, api, state, 2 * storm.unique, chats))
        (storm_sent, storm_errors), _ = await asyncio.gather(
            load(api, targets, args.reporters, chats, args.chat_rate),
            send_storm(storm, alarm_targets, t0, state))
        expected = 1 + len(storm.groups["flapping"]) + len(storm.groups["faults"])
        try:  # the last pages come a grace period (and a sweep) after the last alert
            await api.wait_for(lambda: len(api.pages) >= expected, within=args.grace + 120)
        except AssertionError:
            print(f"  only {len(api.pages)} of {expected} pages arrived", flush=True)
        await asyncio.sleep(args.grace + 6)  # a late duplicate page would show by now
        ticker.cancel()
        stormy, storm_lost, storm_doubled = tally(api, storm_sent)
        storm_cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        storm_db, storm_wall = postgres_cpu() - db0, time.perf_counter() - t0
        rss = [peak_rss_mb(p.pid) for p in cluster.procs if p]
    finally:
        cluster.stop_all()
        await api.close()
    db = await read_db(url)
    rows = judge(storm, db, api, state)
    p99_base, p99_storm = quantile(base, .99), quantile(stormy, .99)
    rows += [
        ("reporters' reply p50 baseline / storm",
         f"{quantile(base, .5):.1f} ms / {quantile(stormy, .5):.1f} ms", ""),
        ("reporters' reply p99 baseline / storm", f"{p99_base:.1f} ms / {p99_storm:.1f} ms", ""),
        ("  p99 storm ÷ baseline", f"{p99_storm / p99_base:.2f}", "≤ 1.5"),
        ("  replies lost / doubled / failed posts",
         f"{base_lost + storm_lost} / {base_doubled + storm_doubled} / "
         f"{base_errors + storm_errors}", "0 / 0 / 0"),
        ("peak RSS per replica", " · ".join(f"{r:.0f} MB" for r in rss), ""),
        ("CPU of replicas (PostgreSQL) baseline", f"{base_cpu:.1f} s ({base_db:.1f} s)", ""),
        ("CPU of replicas (PostgreSQL) storm", f"{storm_cpu:.1f} s ({storm_db:.1f} s) in "
         f"{storm_wall:.0f} s, {storm_cpu * 1000 / max(storm.unique, 1):.1f} ms per alert", ""),
    ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"| {'figure':<{width}} | {'measured':<{vwidth}} | goal |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|------|")
    for name, value, goal in rows:
        print(f"| {name:<{width}} | {value:<{vwidth}} | {goal} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alerts", type=int, default=10_000, help="alerts posted, both copies")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=60, help="seconds of each phase")
    ap.add_argument("--reporters", type=int, default=50)
    ap.add_argument("--chat-rate", type=float, default=10, help="reporters' messages per second")
    ap.add_argument("--grace", type=float, default=5, help="seconds, every severity")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of chat before measuring")
    ap.add_argument("--postgres", default="", help="an asyncpg URL; its public schema is dropped")
    ap.add_argument("--replicas", type=int, default=3, help="with --postgres")
    ap.add_argument("--alarm-replicas", type=int, default=0,
                    help="the last K replicas take the alerts, the others the chat")
    ap.add_argument("--alarm-nice", type=int, default=0,
                    help="with --alarm-replicas: their niceness (lower CPU priority)")
    ap.add_argument("--keep-logs", default="", help="copy the replicas' logs to this folder")
    args = ap.parse_args()
    gc.disable()  # as bench/load.py: the harness's own GC passes would count as the desk's time
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            url, replicas = args.postgres, args.replicas
            name = f"{replicas} replica(s), PostgreSQL"
        else:
            url, replicas = f"sqlite+aiosqlite:///{Path(tmp) / 'storm.db'}", 1
            name = "1 replica, SQLite"
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {name}: {args.alerts} alerts from "
              f"{args.devices} devices in {args.duration:g} s, {args.reporters} reporters at "
              f"{args.chat_rate:g} msg/s, grace {args.grace:g} s", flush=True)
        try:
            asyncio.run(run(args, url, replicas, Path(tmp)))
        finally:
            if args.keep_logs:
                keep = Path(args.keep_logs)
                keep.mkdir(parents=True, exist_ok=True)
                for log in Path(tmp).glob("replica*.log"):
                    shutil.copy(log, keep / log.name)


if __name__ == "__main__":
    main()
