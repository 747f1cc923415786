"""Scoring: from a tokenised query to 0-100 confidences, and which hits to show.

Chosen by measurement on bench/kb_eval.tsv (282 positive and 45 "nothing" queries; see
docs/benchmarks.md, "Knowledge-base search", for the figures of every variant):

1. BM25F over title, symptoms, devices, tags and body ranks every article; only the
   best `candidates` go on, which keeps a search cheap at thousands of articles. BM25
   alone ranks well but its raw score is unbounded, so it cannot carry a threshold.
2. Each candidate gets two bounded signals:
   - coverage: the share of the query's information (idf mass) the article holds. A
     word counts fully in the title, symptoms, devices or tags, `head_part_match` when
     it is only part of a longer word there (太阳 in 太阳能), `body_match` in the steps
     only. A query word no article uses counts `unknown_weight` of a rare word: chatter
     sharing one word with the knowledge base stays low, while a rambling report keeps
     most of its weight. Counting the body fully let 22 % of the "nothing" queries
     through; ignoring unknown words, 20 %.
   - fuzzy: rapidfuzz `token_set_ratio` between the segmented query and the segmented
     title and symptom phrasings, best one. It lifts short paraphrases and typos that
     share most characters; alone it let 13 % of the "nothing" queries through.
     WRatio ranked as well but gave chatter high scores (18 %); token_sort_ratio was
     0.7 points worse at top-1.
   score = (100 * coverage * (1 - fuzzy_weight) + fuzzy * fuzzy_weight) * damp, where
   damp < 1 when the matched idf mass is below `min_evidence` of a rare word's: one
   common word (下雨, 好) is not enough evidence however well it matches.
3. Hits in the preferred language get `lang_boost` points (a Chinese query sees the
   Chinese article before its English twin), then hits below `threshold` or below
   `relative_cut` x the best are dropped. threshold 50: at 45 the false-suggestion
   rate doubles (8.9 %), at 55 top-1 starts to fall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from kb.article import Hit
from kb.index import FIELD_WEIGHTS, Prepared, Snapshot

SCORERS: dict[str, Callable[[str, str], float]] = {
    "token_set_ratio": fuzz.token_set_ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_ratio": fuzz.token_ratio,
    "ratio": fuzz.ratio,
    "wratio": fuzz.WRatio,
    "qratio": fuzz.QRatio,
}


@dataclass(frozen=True, slots=True)
class Tuning:
    """Scoring parameters; the defaults are the measured choice (bench/kb_search.py)."""

    threshold: float = 50.0
    relative_cut: float = 0.8
    fuzzy_weight: float = 0.4
    unknown_weight: float = 0.35
    candidates: int = 20
    lang_boost: float = 5.0
    body_match: float = 0.3
    part_weight: float = 0.5
    head_part_match: float = 0.6
    min_evidence: float = 0.5
    scorer: str = "token_set_ratio"
    body_weight: float = FIELD_WEIGHTS["body"]

    def field_weights(self) -> dict[str, float]:
        """BM25F field weights, with this tuning's body weight."""
        return {**FIELD_WEIGHTS, "body": self.body_weight}


@dataclass(frozen=True, slots=True)
class Query:
    """A query's words, the index terms they map to (with weights), unknown word count."""

    words: tuple[str, ...]
    terms: dict[str, float]
    unknown: int


def score(snapshot: Snapshot, query: Query, tuning: Tuning) -> list[tuple[int, float, float]]:
    """(article index, 0-100 confidence, BM25F) for the BM25F candidates of the query."""
    bm25 = snapshot.bm25
    total = sum(bm25.idf[t] for t, w in query.terms.items() if w == 1.0)
    total += tuning.unknown_weight * bm25.max_idf() * query.unknown
    ranking = bm25.scores(query.terms)
    positive = int(np.count_nonzero(ranking))
    if positive == 0 or total <= 0:
        return []
    count = min(tuning.candidates, positive)
    top = np.argpartition(-ranking, count - 1)[:count]
    evidence = tuning.min_evidence * bm25.max_idf()
    query_text = " ".join(query.words)
    scorer = SCORERS[tuning.scorer]
    results = []
    for index in top.tolist():
        prepared = snapshot.prepared[index]
        matched = sum(
            bm25.idf[t] * w * _strength(prepared, t, tuning) for t, w in query.terms.items()
        )
        fuzzy = max((scorer(query_text, p) for p in prepared.phrases), default=0.0)
        coverage = min(1.0, matched / total)  # parts of unknown words are not in `total`
        value = 100 * coverage * (1 - tuning.fuzzy_weight) + fuzzy * tuning.fuzzy_weight
        damp = min(1.0, matched / evidence) if evidence > 0 else 1.0
        results.append((index, float(value) * damp, float(ranking[index])))
    return results


def _strength(prepared: Prepared, term: str, tuning: Tuning) -> float:
    # A word in the title or symptoms says what the article answers; the same word in
    # the steps is often a passing mention (手机 in "用手机看信号").
    if term in prepared.head_words:
        return 1.0
    if term in prepared.head_parts:
        return tuning.head_part_match
    return tuning.body_match if term in prepared.body_words else 0.0


def select(
    snapshot: Snapshot, scored: list[tuple[int, float, float]], tuning: Tuning, limit: int,
    lang: str | None,
) -> list[Hit]:
    """Boost the preferred language, drop what is below the threshold or the relative cut."""

    def boosted(index: int, value: float) -> float:
        same = lang is not None and snapshot.articles[index].lang == lang
        return value + tuning.lang_boost if same else value

    # Sort on the uncapped value so the language boost also orders hits tied at 100,
    # then on BM25F, which still tells apart two articles that both match fully.
    ranked = sorted(((boosted(i, s), bm25, i) for i, s, bm25 in scored), reverse=True)
    confident = [(s, i) for s, _, i in ranked if s >= tuning.threshold]
    if not confident:
        return []
    cut = min(confident[0][0], 100.0) * tuning.relative_cut
    return [Hit(snapshot.articles[i], round(min(s, 100.0), 1)) for s, i in confident[:limit]
            if s >= cut]
