"""SLA policy as data: response and resolution windows per priority, from TOML.

The default is the service plan's table (2/4/8/24 h to respond, 4/8/24/48 h to resolve,
7×24 calendar time). Working-hour calendars come with the escalation work (issue 4).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class Window:
    response_hours: float
    resolve_hours: float


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    windows: dict[str, Window]

    @classmethod
    def from_toml(cls, text: str) -> SlaPolicy:
        data = tomllib.loads(text)
        table = data.get("priority", {})
        missing = [p for p in PRIORITIES if p not in table]
        if missing:
            raise ValueError(f"SLA policy lacks priorities: {', '.join(missing)}")
        windows = {
            p: Window(float(table[p]["response_hours"]), float(table[p]["resolve_hours"]))
            for p in PRIORITIES
        }
        return cls(name=str(data.get("name", "custom")), windows=windows)

    @classmethod
    def load(cls, path: Path) -> SlaPolicy:
        return cls.from_toml(path.read_text(encoding="utf-8"))

    @classmethod
    def default(cls) -> SlaPolicy:
        text = resources.files("handlers").joinpath("policies/default.toml").read_text("utf-8")
        return cls.from_toml(text)

    def window(self, priority: str) -> Window:
        return self.windows[priority]

    def response_due(self, priority: str, start: datetime) -> datetime:
        return start + timedelta(hours=self.window(priority).response_hours)

    def resolve_due(self, priority: str, start: datetime) -> datetime:
        return start + timedelta(hours=self.window(priority).resolve_hours)
