"""Text normalisation applied identically to queries and to articles.

Order matters: NFKC first (full-width letters and digits become ASCII so case folding
and the English tokens see them), then case, then OpenCC t2s, then noise removal
(punctuation, emoji, symbols become spaces), then the phrase maps of `kb.variants`
(which are written in simplified characters without punctuation).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

import opencc

from kb.variants import HOMOPHONES, VARIANTS

# Everything that is not a letter or digit (in any script) is noise: punctuation,
# emoji, symbols, underscores. CJK characters count as letters for `\w`.
_NOISE = re.compile(r"[\W_]+")
# Apostrophes join rather than split, so "won't" stays one English token ("wont").
_APOSTROPHES = re.compile(r"['\u2019]")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    # Built on first use, not at import: constructing it reads OpenCC's dictionaries.
    return opencc.OpenCC("t2s")


class PhraseMap:
    """Replace phrases in one left-to-right pass, longest phrase first at each position.

    A scan indexed by first character, not one big regex alternation: with hundreds of
    phrases the regex tried every alternative at every position and dominated indexing
    time. An English phrase only matches whole words ("pump" not inside "pumpkin").
    Built once, then read-only.
    """

    def __init__(self, mapping: Mapping[str, str], pad: str = "") -> None:
        self._pad = pad
        self._by_first: dict[str, list[tuple[str, str]]] = {}
        for key, value in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
            if key and key != value:
                self._by_first.setdefault(key[0], []).append((key, value))
        firsts = "".join(re.escape(c) for c in self._by_first)
        self._starts = re.compile(f"[{firsts}]") if firsts else None

    def __call__(self, text: str) -> str:
        if self._starts is None:
            return text
        out: list[str] = []
        done = 0
        for match in self._starts.finditer(text):
            start = match.start()
            if start < done:
                continue  # inside a phrase already replaced
            found = self._match_at(text, start)
            if found is not None:
                key, value = found
                out += [text[done:start], self._pad, value, self._pad]
                done = start + len(key)
        out.append(text[done:])
        return "".join(out)

    def _match_at(self, text: str, start: int) -> tuple[str, str] | None:
        for key, value in self._by_first[text[start]]:
            end = start + len(key)
            if text.startswith(key, start) and _whole_word(text, start, end):
                return key, value
        return None


def _whole_word(text: str, start: int, end: int) -> bool:
    # Only ASCII letters and digits glue words together; CJK has no word boundaries.
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    glued_before = _is_ascii_alnum(before) and _is_ascii_alnum(text[start])
    glued_after = _is_ascii_alnum(after) and _is_ascii_alnum(text[end - 1])
    return not glued_before and not glued_after


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


@lru_cache(maxsize=1)
def _phrase_map() -> PhraseMap:
    return PhraseMap({**VARIANTS, **HOMOPHONES})


def to_simplified(text: str) -> str:
    """OpenCC t2s; the converter is shared, so calls are serialised to be safe."""
    converter = _converter()
    with _lock:
        return str(converter.convert(text))


def normalise(text: str) -> str:
    """Canonical form: half-width, lower-case, simplified, no noise, variants fixed."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    text = _NOISE.sub(" ", to_simplified(text))
    return " ".join(_phrase_map()(text).split())
