"""Weekly rota: when an engineer is on duty, e.g. "mon-fri 08:00-18:00; sat 08:00-12:00".

An empty rota means "whenever the on-duty flag is on". Times are in the site's zone; a
shift may cross midnight ("sun 20:00-08:00").
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.strip().lower().partition("-")
        a = DAYS.index(first[:3])
        b = DAYS.index(last[:3]) if last else a
        out += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return out


def parse(rota: str) -> list[tuple[int, time, time]]:
    """[(weekday, from, to)]; ValueError naming the bad part."""
    shifts = []
    for chunk in filter(None, (c.strip() for c in rota.split(";"))):
        try:
            days, hours = chunk.split()
            start, end = (time.fromisoformat(t) for t in hours.split("-"))
            shifts += [(d, start, end) for d in _days(days)]
        except ValueError as exc:
            raise ValueError(f"bad rota part {chunk!r}: use 'mon-fri 08:00-18:00'") from exc
    return shifts


def on_duty(rota: str, when: datetime, zone: ZoneInfo) -> bool:
    if not rota.strip():
        return True
    local = when.astimezone(zone)
    day, now = local.weekday(), local.time()
    for weekday, start, end in parse(rota):
        if start <= end and weekday == day and start <= now < end:
            return True
        if start > end and ((weekday == day and now >= start)
                            or ((weekday + 1) % 7 == day and now < end)):
            return True
    return False
