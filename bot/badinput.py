"""The last check an adapter makes before an update reaches the desk (and its database).

Whatever a platform or a visitor sends that the database cannot keep is the sender's error,
not an outage: PostgreSQL refuses a NUL character in text, and JSON columns refuse NaN. So:

- a NUL in an id (chat, user, update) → the update is dropped (ids are not ours to edit);
- a NUL in text, button data, a display name or a phone number → removed;
- a location that is not a finite latitude/longitude pair → the update becomes UNSUPPORTED
  ("this kind of message cannot be handled" — a clear reply).

Each is logged as bad input: one warning line with the channel and the update id, never the
content.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

from handlers.core.escape import visible
from handlers.core.messages import Incoming, Kind

log = logging.getLogger(__name__)
NUL = "\x00"


def scrub(inc: Incoming) -> Incoming | None:
    """`inc` fit for the database, or None when it has to be dropped (see above)."""
    if any(NUL in v for v in (inc.chat_id, inc.user_id, inc.update_id)):
        _bad(inc, "NUL in an id: dropped")
        return None
    texts = {"text": inc.text, "data": inc.data, "user_name": inc.user_name,
             "phone": inc.phone, "raw_kind": inc.raw_kind}
    cleaned = {k: v.replace(NUL, "") for k, v in texts.items() if NUL in v}
    if cleaned:
        _bad(inc, f"NUL removed from {', '.join(sorted(cleaned))}")
        inc = replace(inc, **cleaned)  # type: ignore[arg-type]
    if inc.location is not None and not usable_location(*inc.location):
        _bad(inc, "location not a finite latitude/longitude")
        inc = replace(inc, kind=Kind.UNSUPPORTED, location=None, raw_kind="location")
    return inc


def usable_location(lat: object, lon: object) -> bool:
    """Finite numbers within -90..90 and -180..180."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        return False
    la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    return math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180


def _bad(inc: Incoming, what: str) -> None:
    log.warning("bad input on %s update %s: %s", inc.channel,
                visible(inc.update_id)[:120], what)
