"""Synonym groups: every term of a group becomes the group's first term (its head).

Applied on both sides (articles when indexed, queries when searched), so 水肥机, 施肥机
and "fertigation unit" all become the same token and a Chinese query reaches an English
article and the other way round. Mapping to one canonical term, rather than adding every
synonym to the query, keeps BM25 honest: a group counts once however many spellings a
text uses.

Single-word terms are mapped token by token *after* jieba (which is told every term, so
it keeps them whole): rewriting them in the raw text first would break longer words
that merely contain a term (电瓶车, an e-bike, is not a 电瓶 battery). Terms with a space
("solenoid valve") are rewritten in the normalised text before segmentation.

File format (kb/data/synonyms.txt): one group per line, terms separated by ",", "#"
starts a comment, blank lines are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from kb.normalise import PhraseMap


def parse_groups(text: str) -> list[tuple[str, ...]]:
    """Raw groups from the file's text (not yet normalised)."""
    groups = []
    for line in text.splitlines():
        terms = tuple(t.strip() for t in line.split("#", 1)[0].split(",") if t.strip())
        if len(terms) > 1:
            groups.append(terms)
    return groups


class Synonyms:
    """Compiled synonym groups; read-only after construction, so safe across threads."""

    def __init__(
        self, groups: Iterable[Sequence[str]], normalise: Callable[[str], str],
        stem: Callable[[str], str] = str,
    ) -> None:
        self._by_token: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for group in groups:
            terms = [n for n in (normalise(t) for t in group) if n]
            if not terms:
                continue
            head = next((t for t in terms if " " not in t), terms[0].replace(" ", ""))
            for term in terms:
                if " " in term:  # "solenoid valve": rewritten in the text, before jieba
                    phrases.setdefault(term, head)
                else:  # first group wins on a clash
                    self._by_token.setdefault(term, head)
                    self._by_token.setdefault(stem(term), head)
        self._phrases = PhraseMap(phrases, pad=" ")

    @classmethod
    def from_file(
        cls, path: Path | None, normalise: Callable[[str], str], stem: Callable[[str], str] = str
    ) -> Synonyms:
        """Load a synonyms file; a missing file means no synonyms."""
        if path is None or not path.is_file():
            return cls((), normalise, stem)
        return cls(parse_groups(path.read_text(encoding="utf-8")), normalise, stem)

    @property
    def words(self) -> set[str]:
        """Every single-word term and head: jieba must keep each one whole."""
        return {*self._by_token, *self._by_token.values()}

    def canonical(self, token: str) -> str:
        """The group head of a token, or the token itself."""
        return self._by_token.get(token, token)

    def rewrite(self, normalised: str) -> str:
        """Replace multi-word terms by their head, so the head is one token for jieba."""
        return self._phrases(normalised)
