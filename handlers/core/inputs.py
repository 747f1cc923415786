"""What people type, made fit to keep and to show to others.

A name or a site is one line: a line break in a name would let it forge a line of the
engineer's page ("【系统通知】…"); control and invisible characters (zero-width spaces,
bidi overrides) are dropped. Text that shows nothing at all once they are gone is empty.
"""

from __future__ import annotations

import unicodedata

INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
# letters and symbols that draw nothing (Unicode says "Lo" or "So", screens show a blank)
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _shown(ch: str) -> bool:
    return ch not in BLANKS and unicodedata.category(ch) not in INVISIBLE


def seen(text: str) -> str:
    """The characters of `text` that show on a screen (spaces and invisible ones dropped)."""
    return "".join(ch for ch in text if _shown(ch) and not ch.isspace())


def one_line(text: str) -> str | None:
    """A name or site as one clean line (spaces collapsed, invisible characters dropped);
    None when it spans several lines."""
    if any(ch in LINE_BREAKS for ch in text.strip()):
        return None
    kept = "".join(ch if _shown(ch) or ch == "\t" else "" for ch in text)
    return " ".join(kept.split())


def name_key(name: str) -> str:
    """What two names are compared by: compatibility forms folded (full-width, ligatures),
    case and spaces ignored, invisible characters gone."""
    return seen(unicodedata.normalize("NFKC", name)).casefold()
