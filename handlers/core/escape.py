"""People's text on its way out: each medium's markup made inert, never the words changed.

People write descriptions, names, sites, causes. Shown somewhere that reads markup, that
text must stay text:

- `markdown(text)` — for Markdown reports (the fault report, `frontline report --format
  markdown`): links, images, HTML, emphasis, code, tables and line-start blocks (headings,
  lists, quotes) are backslash-escaped; `inline=True` also folds line breaks into spaces, so
  a name cannot open a block of its own ("\\n# 系统通知").
- `csv_cell(value)` — a spreadsheet cell: text starting with `=`, `+`, `-`, `@`, tab or CR
  (a formula to Excel, LibreOffice and Sheets) gets a leading `'`.
- `visible(text)` — for terminals and text logs: control characters (ESC, BEL, newlines …),
  and the invisible bidirectional overrides that reorder a line, shown as escapes (`\\x1b`,
  `\\n`, `\\u202e`) instead of acting.

HTML (dashboard, WeCom) uses the standard library's `html.escape`.
"""

from __future__ import annotations

import re
import unicodedata

# Anywhere in a line: what starts emphasis, code, links/images, HTML, entities and table
# cells. `!` matters only before `[`, and `[` is escaped, so `!` is left alone.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# At a line's start (after indentation): headings, list items, numbered lists ("1." / "1)"),
# setext underlines and thematic breaks (a line of only "-" or "=").
_MD_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[+\-](?=\s|$)|\d{1,9}(?=[.)](?:\s|$))"
                            r"|[=\-](?=[=\-\s]*$))")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                  "\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def markdown(text: str, *, inline: bool = False) -> str:
    """`text` as Markdown that shows exactly these characters. `inline`: a value placed inside
    a line (a table cell, after "- 地点："), so line breaks become spaces."""
    if inline:
        return _MD_INLINE.sub(r"\\\1", " ".join(text.splitlines()))
    lines = [_MD_INLINE.sub(r"\\\1", line) for line in text.split("\n")]
    return "\n".join(_MD_LINE_START.sub(_escape_start, line) for line in lines)


def _escape_start(m: re.Match[str]) -> str:
    indent, mark = m.group(1), m.group(2)
    if mark.isdigit():  # "1. " → "1\. " (the dot after the digits is what makes the list)
        return f"{indent}{mark}\\"
    return f"{indent}\\{mark}"


def csv_cell(value: object) -> object:
    """A cell for CSV: text that a spreadsheet would run as a formula is quoted with `'`;
    numbers and everything else pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def visible(text: str) -> str:
    """`text` with control and bidi-override characters written as escapes (one line)."""
    if text.isprintable() and not _BIDI.intersection(text):
        return text  # the common case: nothing to do
    return "".join(_visible_char(c) for c in text)


def _visible_char(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    if c in _BIDI or unicodedata.category(c) in ("Cc", "Zl", "Zp"):
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return c
