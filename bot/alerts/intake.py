"""Handing parsed alarms to the desk, and counting what each source received.

`receive(item)` is the desk's door (True: new, False: a replay it has seen). Every source
hands items on one at a time, in the order the sender gave them, and counts the outcome in
`frontline_alerts_received_total{source, outcome}`:

    accepted, duplicate        per alarm or heartbeat handed on
    refused_auth, malformed,   per request or message refused before anything was handed on
    too_large
    unavailable, failed        per item the desk could not take (database down: the sender or
                               the MQTT loop retries; failed: a fault in the desk, logged)

Logs carry ids only (source, event id, device id), never the alarm's words.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CollectorRegistry, Counter

from handlers.core.dispatch import DB_FAILURES
from handlers.core.messages import Alarm, Heartbeat

log = logging.getLogger(__name__)

Item = Alarm | Heartbeat
Receive = Callable[[Item], Awaitable[bool]]
OUTCOMES = ("accepted", "duplicate", "refused_auth", "malformed", "too_large", "unavailable",
            "failed")


class Counters:
    """`frontline_alerts_received_total`, in the registry given (the app's /metrics one) or a
    registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.received = Counter("frontline_alerts_received", "Alarms received, by source "
                                "and outcome", ["source", "outcome"], registry=self.registry)

    def count(self, source: str, outcome: str, n: int = 1) -> None:
        self.received.labels(source=source, outcome=outcome).inc(n)

    def value(self, source: str, outcome: str) -> float:
        found = self.registry.get_sample_value(
            "frontline_alerts_received_total", {"source": source, "outcome": outcome})
        return found or 0.0


async def hand_on(item: Item, receive: Receive, source: str, counters: Counters) -> bool:
    """Give one item to the desk; True when it was new. A database failure is counted and
    raised (the caller decides who retries); so is any other fault, counted as failed."""
    device = item.device
    try:
        new = await receive(item)
    except DB_FAILURES:
        counters.count(source, "unavailable")
        log.warning("alarm %s from %s (device %s): the desk's database is unavailable",
                    item.event_id, source, device)
        raise
    except Exception as exc:
        counters.count(source, "failed")
        log.error("alarm %s from %s (device %s): the desk failed: %s", item.event_id, source,
                  device, type(exc).__name__)
        raise
    counters.count(source, "accepted" if new else "duplicate")
    # devices beat every minute or so: their heartbeats would drown the log
    level = logging.DEBUG if isinstance(item, Heartbeat) else logging.INFO
    log.log(level, "%s %s from %s (device %s): %s", type(item).__name__.lower(), item.event_id,
            source, device, "new" if new else "replay, already seen")
    return new


def tally(results: Sequence[bool]) -> dict[str, int]:
    """The JSON a sender gets back: how many were new, how many replays."""
    accepted = sum(1 for r in results if r)
    return {"accepted": accepted, "duplicates": len(results) - accepted}
