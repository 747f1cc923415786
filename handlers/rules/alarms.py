"""Alarm rules as data: which severity becomes which priority, how long an alarm must last
before anyone is paged, when a device is flapping, and the ticket category of a device type.

The shipped rules are handlers/policies/alarms.toml; a deployment may point
`alarm_rules_file` at its own. A bad file is refused at load with the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from handlers.core.messages import SEVERITIES
from handlers.rules.sla import PRIORITIES


@dataclass(frozen=True)
class SeverityRule:
    priority: str  # "" = recorded only, never a ticket
    grace: timedelta
    night_grace: timedelta


@dataclass(frozen=True)
class AlarmRules:
    severities: dict[str, SeverityRule]
    flaps: int = 3
    flap_window: timedelta = timedelta(minutes=30)
    reopen_within: timedelta = timedelta(minutes=30)
    categories: dict[str, str] = field(default_factory=dict)

    def rule(self, severity: str) -> SeverityRule:
        return self.severities.get(severity) or self.severities["warning"]

    def priority(self, severity: str) -> str:
        return self.rule(severity).priority

    def grace(self, severity: str, *, night: bool) -> timedelta:
        rule = self.rule(severity)
        return rule.night_grace if night else rule.grace

    def category(self, device_type: str, registered: str = "") -> str:
        """The registry's own category, else the one for the device type, else general."""
        return registered or self.categories.get(device_type.lower(), "general")

    @classmethod
    def load(cls, path: Path | None = None) -> AlarmRules:
        if path is None:
            text = resources.files("handlers").joinpath("policies/alarms.toml").read_text("utf-8")
            return cls.from_toml(text, "alarms.toml")
        return cls.from_toml(path.read_text("utf-8"), str(path))

    @classmethod
    def from_toml(cls, text: str, name: str) -> AlarmRules:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{name}: {exc}") from None
        return cls(
            severities=_severities(data.get("severity", {}), name),
            flaps=_int(data, "flapping", "flaps", 3, name),
            flap_window=timedelta(minutes=_int(data, "flapping", "window", 30, name)),
            reopen_within=timedelta(minutes=_int(data, "flapping", "reopen_within", 30, name)),
            categories={str(k).lower(): str(v) for k, v in data.get("category", {}).items()},
        )


def _severities(table: dict[str, Any], name: str) -> dict[str, SeverityRule]:
    unknown = set(table) - set(SEVERITIES)
    if unknown:
        raise ValueError(f"{name}: unknown severity {sorted(unknown)[0]!r}; "
                         f"use {', '.join(SEVERITIES)}")
    out: dict[str, SeverityRule] = {}
    for sev in SEVERITIES:
        row = table.get(sev, {})
        priority = str(row.get("priority", "P3" if sev != "info" else ""))
        if priority and priority not in PRIORITIES:
            raise ValueError(f"{name}: severity.{sev}.priority {priority!r}: use P1–P4 or \"\"")
        grace = row.get("grace", 10)
        night = row.get("night_grace", grace)
        for label, value in (("grace", grace), ("night_grace", night)):
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name}: severity.{sev}.{label} must be minutes ≥ 0")
        out[sev] = SeverityRule(priority, timedelta(minutes=grace), timedelta(minutes=night))
    return out


def _int(data: dict[str, Any], table: str, key: str, default: int, name: str) -> int:
    value = data.get(table, {}).get(key, default)
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: {table}.{key} must be a whole number ≥ 0")
    return value
