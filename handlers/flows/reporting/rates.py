"""The small value types of a report: a rate against its target, a duration summary."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from handlers.core.config import DeskConfig


def _plan(name: str) -> float:
    """The service plan's target, as the desk's settings declare it (their one default)."""
    return float(DeskConfig.model_fields[f"target_{name}"].default)


@dataclass(frozen=True)
class Targets:
    """What the service plan promises; deployments override them in settings."""

    timeliness: float = _plan("timeliness")
    resolution: float = _plan("resolution")
    satisfaction: float = _plan("satisfaction")
    remote: float = _plan("remote")
    availability: float = _plan("availability")

    @classmethod
    def of(cls, config: object) -> Targets:
        """From the desk's settings (`target_timeliness` …); a value not there: the plan's."""
        base = cls()
        return cls(**{f.name: float(getattr(config, f"target_{f.name}", getattr(base, f.name)))
                      for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class Rate:
    met: int
    total: int
    target: float | None = None

    @property
    def share(self) -> float | None:
        """None when nothing was counted: a rate of nothing is not 0 % and not 100 %."""
        return self.met / self.total if self.total else None

    @property
    def percent(self) -> float | None:
        share = self.share
        return None if share is None else round(100 * share, 1)

    @property
    def on_target(self) -> bool | None:
        share = self.share
        if share is None or self.target is None:
            return None
        return share >= self.target


@dataclass(frozen=True)
class Durations:
    count: int
    mean_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, spans: list[timedelta]) -> Durations:
        minutes = [s.total_seconds() / 60 for s in spans]
        if not minutes:
            return cls(0, None, None)
        return cls(len(minutes), round(sum(minutes) / len(minutes), 1), round(p90(minutes), 1))


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: the smallest value at or above 90 % of the values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def plain(value: Any) -> Any:
    """Dataclasses → dicts, rates with share/percent/on_target, times as ISO text."""
    if isinstance(value, Rate):
        return {"met": value.met, "total": value.total, "target": value.target,
                "share": value.share, "percent": value.percent, "on_target": value.on_target}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
