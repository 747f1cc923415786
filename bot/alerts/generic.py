"""The small JSON an IoT platform can send (a ThingsBoard rule chain's REST call node, a
vendor gateway, an MQTT publisher) → `Alarm` or `Heartbeat`.

One object or a list of them; README.md "Monitoring alarms" documents the fields:
`device` and `type` (required; type `heartbeat` is a Heartbeat), `severity`, `status`,
`message`, `time` (ISO 8601 with offset, or epoch seconds / milliseconds), `id`, `site`,
`plot`. Other text or number fields are kept as labels for people to read.

Without an `id`, the event id is a hash of device, type, status and time: a sender that
resends the same alarm with the same `time` is recognised as a replay. Without a `time`
either, every delivery is new (its time is when it arrived).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.alerts.fields import (
    MAX_ITEMS,
    SUMMARY_MAX,
    PayloadError,
    epoch_time,
    ident,
    iso_time,
    labels,
    severity,
    stable_hash,
    text_field,
)
from handlers.core.messages import SEVERITIES, Alarm, Heartbeat

FIELDS = ("device", "type", "severity", "status", "message", "time", "id", "site", "plot")
HEARTBEAT = "heartbeat"
# ThingsBoard's alarm states are ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK and CLEARED_ACK
FIRING = ("firing", "active")
CLEARED = ("cleared", "resolved")


def parse(payload: Any, now: datetime, source: str = "generic") -> list[Alarm | Heartbeat]:
    """Every item of a payload, or PayloadError for the first one that is wrong."""
    if isinstance(payload, dict):
        return [item(payload, "", now, source)]
    if not isinstance(payload, list):
        raise PayloadError("body: must be a JSON object or a list of objects")
    if not payload:
        raise PayloadError("body: the list is empty")
    if len(payload) > MAX_ITEMS:
        raise PayloadError(f"body: more than {MAX_ITEMS} items in one request")
    return [item(obj, f"[{i}].", now, source) for i, obj in enumerate(payload)]


def item(obj: Any, where: str, now: datetime, source: str) -> Alarm | Heartbeat:
    if not isinstance(obj, dict):
        raise PayloadError(f"{where[:-1] or 'body'}: must be an object")
    device = text_field(obj, "device", where, required=True)
    kind = text_field(obj, "type", where, required=True)
    firing = _firing(obj.get("status"), where)
    at = _time(obj.get("time"), f"{where}time", now)
    given = text_field(obj, "id", where, 100_000)
    event_id = ident(given) if given else stable_hash(device, kind, firing, at.isoformat())
    if kind.lower() == HEARTBEAT:
        return Heartbeat(source=source, device=device, at=at, event_id=event_id)
    return Alarm(
        source=source,
        event_id=event_id,
        device=device,
        kind=kind,
        firing=firing,
        at=at,
        severity=_severity(obj.get("severity"), where),
        summary=text_field(obj, "message", where, SUMMARY_MAX, lines=True),
        site=text_field(obj, "site", where),
        plot=text_field(obj, "plot", where),
        labels=labels(obj.items(), skip=FIELDS),
    )


def _firing(value: Any, where: str) -> bool:
    if value is None:
        return True
    word = value.strip().lower() if isinstance(value, str) else ""
    if word.startswith(FIRING):
        return True
    if word.startswith(CLEARED):
        return False
    raise PayloadError(f"{where}status: must be firing or cleared (or active / resolved)")


def _severity(value: Any, where: str) -> str:
    if value is None:
        return "warning"
    found = severity(value) if isinstance(value, str) else None
    if found is None:
        raise PayloadError(f"{where}severity: must be one of {', '.join(SEVERITIES)}")
    return found


def _time(value: Any, where: str, now: datetime) -> datetime:
    if value is None:
        return now
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_time(float(value), where)
    return iso_time(value, where)

