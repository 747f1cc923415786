"""Articles as a worker reads them on a phone: a short card (the first steps), or the whole
article as plain numbered text without Markdown marks."""

from __future__ import annotations

import re
import unicodedata

CARD_STEPS = 2
CARD_STEP_COLUMNS = 72  # about two lines on a phone: a Chinese character takes two columns
FULL_CHARS = 1800  # a chat message people still scroll through
MARKS = re.compile(r"(\*\*|__|`|~~)")
STEP = re.compile(r"^\s*(\d+)[.、)]\s*(.+)$")
LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")  # [text](url) → text
HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
BULLET = re.compile(r"^\s*[-*+]\s+")


def plain(line: str) -> str:
    """One line of an article without Markdown marks."""
    line = LINK.sub(r"\1", line)
    line = HEADING.sub("", line)
    line = BULLET.sub("· ", line)
    return MARKS.sub("", line).strip()


SENTENCE = re.compile(r"^(.+?[。！？!?]|.+?\.)(?=\s|$)")


def steps(body: str) -> list[str]:
    """The numbered self-service steps, in order, as plain text (an indented line that
    follows a step continues it)."""
    out: list[str] = []
    for line in body.splitlines():
        m = STEP.match(line)
        if m:
            out.append(plain(m[2]))
        elif out and line.startswith((" ", "\t")) and line.strip():
            out[-1] += " " + plain(line)
    return out


def first_sentence(text: str) -> str:
    m = SENTENCE.match(text)
    return m[1] if m else text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _columns(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _clip_columns(text: str, limit: int) -> str:
    """Cut to `limit` display columns (wide characters count two), marking the cut."""
    used = 0
    for i, ch in enumerate(text):
        used += _columns(ch)
        if used > limit:
            return text[: max(i - 1, 0)].rstrip() + "…"
    return text


def card(body: str) -> str:
    """The first steps, each on one short line (or the opening sentence when none are
    numbered)."""
    first = steps(body)[:CARD_STEPS]
    if not first:
        lines = [plain(x) for x in body.splitlines() if plain(x)]
        return _clip_columns(lines[0], CARD_STEP_COLUMNS * CARD_STEPS) if lines else ""
    return "\n".join(f"{i}. {_clip_columns(first_sentence(s), CARD_STEP_COLUMNS)}"
                     for i, s in enumerate(first, 1))


def full(body: str) -> str:
    """The whole article as plain text: paragraphs kept, Markdown marks gone."""
    lines = [plain(x) if not STEP.match(x) else _step_line(x) for x in body.strip().splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _clip(text, FULL_CHARS)


def _step_line(line: str) -> str:
    m = STEP.match(line)
    assert m is not None
    return f"{m[1]}. {plain(m[2])}"
