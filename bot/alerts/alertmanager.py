"""Prometheus Alertmanager's webhook payload (version 4) → one `Alarm` per alert.

Alertmanager posts a group: `status`, `receiver`, `groupKey`, `groupLabels`, `commonLabels`,
`commonAnnotations`, `externalURL` and `alerts[]`, each with its own `status` (firing |
resolved), `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL` and `fingerprint`.
Only `alerts[]` matters here: every alert carries its full labels. The `version` is not
checked, because Grafana's webhook (version 1) sends alerts of the same shape.

An alert is firing from `startsAt` and resolved at `endsAt`; Alertmanager resends a group
every `repeat_interval`, so the event id is (fingerprint, status, that time): a resent alert
is a replay, a new firing after a resolve is a new event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.alerts.fields import (
    MAX_ITEMS,
    SUMMARY_MAX,
    PayloadError,
    ident,
    iso_time,
    labels,
    severity,
    stable_hash,
    text_field,
)
from handlers.core.messages import Alarm

SOURCE = "alertmanager"
# labels the Alarm has fields for; `instance` stays a label when `device` names the device
USED_LABELS = ("alertname", "severity", "device", "site", "plot")


def parse(payload: Any) -> list[Alarm]:
    """Every alert of a webhook payload, or PayloadError for the first one that is wrong."""
    if not isinstance(payload, dict):
        raise PayloadError("body: must be a JSON object (an Alertmanager webhook payload)")
    alerts = payload.get("alerts")
    if alerts is None:
        raise PayloadError("alerts: missing")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: must be a list")
    if len(alerts) > MAX_ITEMS:
        raise PayloadError(f"alerts: more than {MAX_ITEMS} in one request (set max_alerts)")
    return [alarm(a, f"alerts[{i}].") for i, a in enumerate(alerts)]


def alarm(alert: Any, where: str) -> Alarm:
    if not isinstance(alert, dict):
        raise PayloadError(f"{where[:-1]}: must be an object")
    tags = _strings(alert.get("labels"), f"{where}labels")
    notes = _strings(alert.get("annotations") or {}, f"{where}annotations")
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}status: must be firing or resolved")
    firing = status == "firing"
    stamp = "startsAt" if firing else "endsAt"
    at = iso_time(alert.get(stamp), f"{where}{stamp}")
    kind = text_field(tags, "alertname", f"{where}labels.", required=True)
    device = (text_field(tags, "device", f"{where}labels.")
              or text_field(tags, "instance", f"{where}labels."))
    given = alert.get("fingerprint")
    fingerprint = ident(given) if isinstance(given, str) and given.strip() else ""
    fingerprint = fingerprint or stable_hash(sorted(tags.items()))[:16]
    summary_key = "summary" if notes.get("summary", "").strip() else "description"
    extra = [*tags.items(), *notes.items()]
    url = alert.get("generatorURL")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        extra.append(("generatorURL", url))
    return Alarm(
        source=SOURCE,
        event_id=event_id(fingerprint, status, at),
        device=device,
        kind=kind,
        firing=firing,
        at=at,
        severity=severity(tags.get("severity", "")) or "warning",
        summary=text_field(notes, summary_key, f"{where}annotations.", SUMMARY_MAX, lines=True),
        fingerprint=fingerprint,
        site=text_field(tags, "site", f"{where}labels."),
        plot=text_field(tags, "plot", f"{where}labels."),
        labels=labels(extra, skip=(*USED_LABELS, summary_key)),
    )


def event_id(fingerprint: str, status: str, at: datetime) -> str:
    return ident(f"{SOURCE}:{fingerprint}:{status}:{at.isoformat()}")


def _strings(value: Any, where: str) -> Mapping[str, str]:
    """Labels and annotations are maps of text to text in Alertmanager."""
    if value is None:
        raise PayloadError(f"{where}: missing")
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: must be an object")
    for key, v in value.items():
        if not isinstance(v, str):
            raise PayloadError(f"{where}.{ident(key, 64)}: must be text")
    return value
