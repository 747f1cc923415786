"""An immutable search snapshot of a set of articles.

`Snapshot` holds everything a search reads: the articles, their BM25F postings and the
segmented title/symptom strings rapidfuzz compares against. It is never changed after
it is built; `KnowledgeBase.add` builds a new one and swaps the reference, so searches
running in other threads keep reading a consistent snapshot without a lock.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kb.article import Article
from kb.bm25 import Bm25Index

# raw text -> (whole words, words plus their parts), normalised, synonyms applied
Analyse = Callable[[str], tuple[list[str], list[str]]]

# Field weights for BM25F: the title and the symptom phrasings say what an article
# answers; the body mentions many things in passing (steps name other devices).
FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 3.0,
    "symptoms": 2.0,
    "devices": 2.0,
    "tags": 1.0,
    "body": 0.5,
}
_MARKDOWN = re.compile(r"`[^`]*`|\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True, slots=True)
class Prepared:
    """One article's tokens per field and its fuzzy-match strings."""

    fields: Mapping[str, Sequence[str]]
    phrases: tuple[str, ...]
    head_words: frozenset[str]  # title, symptoms, devices, tags: what the article is about
    head_parts: frozenset[str]  # parts of those words only (太阳 inside 太阳能)
    body_words: frozenset[str]


def prepare(article: Article, analyse: Analyse) -> Prepared:
    """Tokenise an article once; kept so `add` can rebuild the index cheaply."""
    title = analyse(article.title)
    symptoms = [analyse(s) for s in article.symptoms]
    others = [analyse(text) for text in (*article.devices, *article.tags)]
    devices, tags = others[: len(article.devices)], others[len(article.devices) :]
    fields = {
        "title": _interned(title[1]),
        "symptoms": _interned(t for _, tokens in symptoms for t in tokens),
        "devices": _interned(t for _, tokens in devices for t in tokens),
        "tags": _interned(t for _, tokens in tags for t in tokens),
        "body": _interned(analyse(_MARKDOWN.sub(r" \1 ", article.body))[1]),
    }
    phrases = tuple(" ".join(tokens) for _, tokens in (title, *symptoms) if tokens)
    head = frozenset(t for name in ("title", "symptoms", "devices", "tags") for t in fields[name])
    whole = frozenset(w for words, _ in (title, *symptoms, *others) for w in words)
    return Prepared(fields, phrases, whole, head - whole, frozenset(fields["body"]))


def _interned(tokens: Iterable[str]) -> tuple[str, ...]:
    # Thousands of articles repeat the same few thousand words: share one copy of each.
    return tuple(sys.intern(t) for t in tokens)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one search reads, immutable."""

    articles: tuple[Article, ...]
    prepared: tuple[Prepared, ...]
    bm25: Bm25Index
    by_id: Mapping[str, int]
    weights: Mapping[str, float]

    @classmethod
    def build(
        cls, articles: Sequence[Article], prepared: Sequence[Prepared],
        weights: Mapping[str, float] = FIELD_WEIGHTS,
    ) -> Snapshot:
        """Index already prepared articles (same order)."""
        bm25 = Bm25Index.build([p.fields for p in prepared], weights)
        by_id = {a.id: i for i, a in enumerate(articles)}
        return cls(tuple(articles), tuple(prepared), bm25, by_id, weights)

    def with_article(self, article: Article, prepared: Prepared) -> Snapshot:
        """A new snapshot with the article added, or replacing one with the same id."""
        articles, preps = list(self.articles), list(self.prepared)
        index = self.by_id.get(article.id)
        if index is None:
            articles.append(article)
            preps.append(prepared)
        else:
            articles[index], preps[index] = article, prepared
        return Snapshot.build(articles, preps, self.weights)
