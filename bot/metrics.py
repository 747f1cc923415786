"""Prometheus `/metrics` for one app, read from the database at scrape time.

The desk's state lives in the database (several replicas may serve it), so the series are
counted there rather than kept in process memory: every replica reports the same numbers.
Each app gets its own `CollectorRegistry`, never the global one, so tests and several apps
in one process do not collide. The database figures are counted at most once every
`cache_seconds` (a scrape in between gets the last figures: scrapes cannot load the
database); `frontline_sweep_age_seconds` is always fresh. With a token
(FRONTLINE_METRICS_TOKEN) a scrape must send `Authorization: Bearer <token>`, else 401.

    frontline_messages_in_total{channel}          updates handled (idempotency records, and
                                                  those pruned since: storage/pruning.py)
    frontline_messages_out_total{channel,state}   outbox messages by state (sent, dead, pending)
    frontline_tickets{status,priority}            tickets now in each status and priority
    frontline_sla_breaches_total{clock}           response / resolve deadlines missed
    frontline_outbox_backlog                      messages waiting to be sent
    frontline_outbox_oldest_age_seconds           age of the oldest waiting message
    frontline_timer_lag_seconds                   how overdue the most overdue pending timer is
    frontline_sweep_age_seconds                   time since the scheduler's last sweep
    frontline_database_up                         1 when the queries above worked
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from bot.security import bearer_ok
from handlers.core.clock import Clock
from scheduler.sweep import Sweeper
from storage import outbox, pruning
from storage.models import Outbox, SeenUpdate, Ticket, TicketEvent, Timer, TimerState
from storage.uow import Database, Tx

log = logging.getLogger(__name__)


class Snapshot(Collector):
    """Yields the metrics computed by the last scrape (collect() itself cannot await)."""

    def __init__(self) -> None:
        self.metrics: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


def _counts(rows: Any) -> list[tuple[list[str], float]]:
    return [([str(v) for v in row[:-1]], float(row[-1])) for row in rows]


def _by_first(rows: list[tuple[list[str], float]]) -> dict[str, float]:
    return {values[0]: count for values, count in rows}


async def _grouped(tx: Tx, *columns: Any) -> list[tuple[list[str], float]]:
    stmt = select(*columns, func.count()).group_by(*columns)
    return _counts((await tx.execute(stmt)).all())


def family(kind: type[Any], name: str, doc: str, labels: list[str],
           rows: list[tuple[list[str], float]]) -> Metric:
    metric = kind(name, doc, labels=labels)
    for values, count in rows:
        metric.add_metric(values, count)
    return metric


async def database_metrics(tx: Tx, now: datetime) -> list[Metric]:
    clock = TicketEvent.__table__.c.details["clock"].as_string()  # type: ignore[attr-defined]
    stmt = select(clock, func.count()).where(col(TicketEvent.kind) == "sla_breached")
    breaches = _by_first(_counts((await tx.execute(stmt.group_by(clock))).all()))
    backlog, oldest = await outbox.backlog(tx)
    seen = _by_first(await _grouped(tx, col(SeenUpdate.channel)))
    for channel, n in (await pruning.pruned_updates(tx)).items():  # pruned: still counted
        seen[channel] = seen.get(channel, 0.0) + n
    overdue = await tx.scalar(select(func.min(col(Timer.due_at))).where(
        col(Timer.state) == str(TimerState.PENDING), col(Timer.due_at) <= now))
    return [
        family(CounterMetricFamily, "frontline_messages_in", "Updates handled, by channel",
               ["channel"], [([c], n) for c, n in sorted(seen.items())]),
        family(CounterMetricFamily, "frontline_messages_out", "Outgoing messages by state",
               ["channel", "state"], await _grouped(tx, col(Outbox.channel), col(Outbox.state))),
        family(GaugeMetricFamily, "frontline_tickets", "Tickets by status and priority",
               ["status", "priority"],
               await _grouped(tx, col(Ticket.status), col(Ticket.priority))),
        family(CounterMetricFamily, "frontline_sla_breaches", "SLA deadlines missed", ["clock"],
               [([c], breaches.get(c, 0.0)) for c in ("response", "resolve")]),
        GaugeMetricFamily("frontline_outbox_backlog", "Messages waiting", value=backlog),
        GaugeMetricFamily("frontline_outbox_oldest_age_seconds", "Oldest waiting message",
                          value=_age(now, oldest)),
        GaugeMetricFamily("frontline_timer_lag_seconds", "Most overdue pending timer",
                          value=_age(now, overdue)),
    ]


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def sweep_age(clock: Clock, sweeper: Sweeper) -> Metric:
    last = sweeper.last_run
    age = (clock.now() - last).total_seconds() if last is not None else math.nan
    return GaugeMetricFamily("frontline_sweep_age_seconds", "Since the last timer sweep",
                             value=age)


async def from_database(db: Database, clock: Clock) -> list[Metric]:
    """The database's figures, and `frontline_database_up`."""
    out: list[Metric] = []
    try:
        async with db.transaction() as tx:
            out += await database_metrics(tx, clock.now())
        up = 1.0
    except Exception as exc:  # the scrape still answers: database_up says what is wrong
        log.warning("metrics: database query failed: %s", type(exc).__name__)
        out, up = [], 0.0
    out.append(GaugeMetricFamily("frontline_database_up", "Database reachable", value=up))
    return out


def attach_metrics(app: web.Application, db: Database, clock: Clock, sweeper: Sweeper, *,
                   token: str = "", cache_seconds: float = 0.0,
                   now: Callable[[], float] = time.monotonic) -> CollectorRegistry:
    """Add GET /metrics backed by a registry of this app's own; returns the registry."""
    registry = CollectorRegistry(auto_describe=False)
    snapshot = Snapshot()
    registry.register(snapshot)
    lock = asyncio.Lock()  # one scrape counts at a time; the others wait and share it
    cached: list[Metric] = []
    counted_at = -math.inf

    async def metrics(request: web.Request) -> web.Response:
        nonlocal cached, counted_at
        if token and not bearer_ok(request, token):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        async with lock:
            if now() - counted_at >= cache_seconds or not cached:
                cached, counted_at = await from_database(db, clock), now()
            snapshot.metrics = [sweep_age(clock, sweeper), *cached]
            body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/metrics", metrics)
    return registry


async def health_fields(db: Database, clock: Clock, sweeper: Sweeper) -> dict[str, Any]:
    """Extra /healthz fields: timer lag and the last sweep (bot/health.py `Health.extras`)."""
    now = clock.now()
    fields: dict[str, Any] = {
        "last_sweep": sweeper.last_run.isoformat() if sweeper.last_run else None,
    }
    try:
        async with db.transaction() as tx:
            overdue = await tx.scalar(select(func.min(col(Timer.due_at))).where(
                col(Timer.state) == str(TimerState.PENDING), col(Timer.due_at) <= now))
        fields["timer_lag_seconds"] = round(_age(now, overdue), 1)
    except Exception as exc:
        fields["timer_lag_seconds"] = f"error: {type(exc).__name__}"
    return fields
