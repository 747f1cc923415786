"""What a ticket carries besides words: each attachment (kind, name, size, when it came) and
the location (coordinates, when, a map link), read from the ticket and its events.

The fault report and `frontline tickets show` both list them, each in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.models import Ticket, TicketEvent

LOCATION_EVENT = "location"  # the media flow's event (handlers/flows/intake/media.py)


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo, voice, video, file
    name: str
    size: int  # bytes; 0 when unknown
    at: datetime
    seconds: int = 0  # a voice message's length, where the platform said


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    at: datetime

    @property
    def coordinates(self) -> str:
        return f"{self.lat:.5f}, {self.lon:.5f}"

    @property
    def map_link(self) -> str:
        """OpenStreetMap: opens in any browser, no account or key; chat clients make it a link."""
        return (f"https://www.openstreetmap.org/?mlat={self.lat:.5f}&mlon={self.lon:.5f}"
                f"#map=17/{self.lat:.5f}/{self.lon:.5f}")


def utc(when: datetime) -> datetime:
    """Stored times are UTC; a driver that hands them back without a zone (SQLite) gets it."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def kind_of(mime: str) -> str:
    head = mime.split("/", 1)[0]
    return {"image": "photo", "audio": "voice", "video": "video"}.get(head, "file")


def attachments(ticket: Ticket, events: Sequence[TicketEvent]) -> list[Attachment]:
    """Each stored attachment with the time it came: the event that added it to the open job
    (photo, voice: it names the file's key), its own `at` where the intake kept one, else the
    report's time (it was sent while reporting)."""
    added = {e.details["key"]: utc(e.at) for e in events if e.details.get("key")}
    out = []
    for item in ticket.attachments or []:
        key = str(item.get("key", ""))
        at = added.get(key) or _when(item.get("at")) or utc(ticket.created_at)
        out.append(Attachment(kind_of(str(item.get("mime", ""))), str(item.get("name") or key),
                              _int(item.get("size")), at, _int(item.get("seconds"))))
    return out


def place(ticket: Ticket, events: Sequence[TicketEvent]) -> Place | None:
    """The ticket's location, with the time of the event that set it (or the report's)."""
    if not ticket.location or len(ticket.location) < 2:
        return None
    at = next((utc(e.at) for e in reversed(events) if e.kind == LOCATION_EVENT),
              utc(ticket.created_at))
    return Place(float(ticket.location[0]), float(ticket.location[1]), at)


def size_text(size: int) -> str:
    if size <= 0:
        return "?"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, str):
        try:
            return utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
