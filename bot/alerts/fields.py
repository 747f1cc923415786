"""What every alarm source does to the fields it is sent: untrusted text made safe and short,
times made timezone-aware UTC, severities named the desk's way, ids made stable.

A field that cannot be used raises `PayloadError` naming it (`alerts[2].startsAt: no time
zone`): the sender gets that reason back and nothing of its request is handed on.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from handlers.core.messages import SEVERITIES

SUMMARY_MAX = 1000
ID_MAX = 200
NAME_MAX = 200  # device, alarm type, site, plot
LABEL_KEY_MAX = 64
LABEL_VALUE_MAX = 256
LABELS_MAX = 32
MAX_ITEMS = 1000  # alarms in one request or message; the body limit bounds it further

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_DROP_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # Cs: lone surrogates break UTF-8
_SPACES = re.compile(r"[ \t]+")

# Names monitoring tools use for their levels, mapped onto the desk's five. Paging levels
# and "errors" are what someone must act on now; "high" is serious but not yet an outage.
SEVERITY_WORDS: dict[str, str] = {
    **{s: s for s in SEVERITIES},
    "page": "critical", "crit": "critical", "fatal": "critical", "emergency": "critical",
    "emerg": "critical", "alert": "critical", "disaster": "critical", "p1": "critical",
    "high": "major", "error": "major", "err": "major", "p2": "major", "severe": "major",
    "medium": "minor", "moderate": "minor", "average": "minor", "low": "minor", "p3": "minor",
    "warn": "warning", "indeterminate": "warning", "p4": "warning",
    "information": "info", "informational": "info", "notice": "info", "none": "info",
    "debug": "info", "ok": "info", "p5": "info",
}


class PayloadError(ValueError):
    """A payload the desk cannot take; the message names the field and what is wrong."""


def clean(value: str, limit: int, *, lines: bool = False) -> str:
    """`value` without control or bidi-override characters, trimmed to `limit` characters.
    With `lines`, line breaks survive (an alarm's description may have several lines)."""
    if value.isprintable() and not _BIDI.intersection(value):
        return _SPACES.sub(" ", value).strip()[:limit]  # the common case, one line and clean
    value = value.replace("\r\n", "\n")
    kept = []
    for c in value:
        if c == "\n" and lines:
            kept.append(c)
        elif c == "\t":
            kept.append(" ")
        elif c not in _BIDI and unicodedata.category(c) not in _DROP_CATEGORIES:
            kept.append(c)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n"))
    return text.strip()[:limit]


def ident(value: str, limit: int = ID_MAX) -> str:
    """An id from outside, cleaned; one too long becomes a hash of itself, so two long ids
    that differ only at the end stay two ids."""
    text = clean(value, len(value))
    if len(text) <= limit:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def stable_hash(*parts: object) -> str:
    """A short id that is the same for the same parts in every process and every run."""
    data = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def text_field(obj: Mapping[str, object], key: str, where: str, limit: int = NAME_MAX, *,
               required: bool = False, lines: bool = False) -> str:
    """obj[key] as clean text; numbers are taken as written, anything else is refused."""
    value = obj.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{where}{key}: missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{where}{key}: must be text")
    text = clean(str(value), limit, lines=lines)
    if required and not text:
        raise PayloadError(f"{where}{key}: empty")
    return text


def severity(word: str) -> str | None:
    """The desk's name for a monitoring level (any case), or None when it is not one."""
    return SEVERITY_WORDS.get(word.strip().lower())


def iso_time(value: object, where: str) -> datetime:
    """An ISO 8601 time with a UTC offset (`Z` will do), as aware UTC."""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: must be an ISO 8601 time")
    text = value.strip()
    # Go writes nanoseconds; Python reads at most microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}: not an ISO 8601 time") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise PayloadError(f"{where}: no time zone (add Z or +08:00)")
    if when.year < 1971:
        raise PayloadError(f"{where}: not a real time")  # Go's zero time: "not set"
    try:
        return when.astimezone(UTC)
    except OverflowError:  # 9999-12-31 at -23:00 is past the last day Python can hold
        raise PayloadError(f"{where}: not a real time") from None


def epoch_time(value: float, where: str) -> datetime:
    """Seconds or milliseconds since 1970 (a value past the year 5138 in seconds is
    milliseconds: devices and ThingsBoard send `ts` in milliseconds)."""
    if not math.isfinite(value) or value <= 0:
        raise PayloadError(f"{where}: not a real time")
    seconds = value / 1000 if value >= 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where}: not a real time") from None


def labels(pairs: Iterable[tuple[str, object]], skip: Iterable[str] = ()) -> tuple[
        tuple[str, str], ...]:
    """The rest of what a source said, for people: sorted, cleaned, bounded. Only text and
    numbers are kept; the first of two equal keys wins."""
    skipped = set(skip)
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in skipped or isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        k = clean(key, LABEL_KEY_MAX)
        v = clean(str(value), LABEL_VALUE_MAX)
        if k and v and k not in out:
            out[k] = v
    return tuple(sorted(out.items()))[:LABELS_MAX]
