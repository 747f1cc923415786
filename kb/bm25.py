"""Field-weighted BM25 (BM25F) over token lists, written out because it is short.

No small, maintained BM25 package is installed (rank_bm25 is not, and it has no field
weights). Per BM25F, each field's term frequency is length-normalised and weighted, the
weighted sum is saturated once with k1, and the result is multiplied by the term's idf.
The saturated part is precomputed per (term, article) at build time, so a query costs
one numpy add per query term.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Doc = Mapping[str, Sequence[str]]  # field name -> tokens


@dataclass(frozen=True, slots=True)
class Bm25Index:
    """Immutable postings: term -> (article indices, saturated weighted tf)."""

    n_docs: int
    idf: Mapping[str, float]
    postings: Mapping[str, tuple[npt.NDArray[np.int64], FloatArray]]

    @classmethod
    def build(
        cls, docs: Sequence[Doc], weights: Mapping[str, float], k1: float = 1.2, b: float = 0.5
    ) -> Bm25Index:
        """Index the docs; `weights` names the fields used and their weight."""
        avg = {f: max(1.0, _mean(len(d.get(f, ())) for d in docs)) for f in weights}
        raw: dict[str, tuple[list[int], list[float]]] = {}
        for index, doc in enumerate(docs):
            for term, tf in _weighted_tf(doc, weights, avg, b).items():
                ids, values = raw.setdefault(term, ([], []))
                ids.append(index)
                values.append(tf / (k1 + tf))
        n = len(docs)
        idf = {t: _idf(n, len(ids)) for t, (ids, _) in raw.items()}
        postings = {
            t: (np.asarray(ids, dtype=np.int64), np.asarray(vals, dtype=np.float64))
            for t, (ids, vals) in raw.items()
        }
        return cls(n, idf, postings)

    def scores(self, terms: Iterable[str]) -> FloatArray:
        """BM25F score of every article for the (deduplicated) query terms."""
        total = np.zeros(self.n_docs, dtype=np.float64)
        for term in set(terms):
            posting = self.postings.get(term)
            if posting is not None:
                total[posting[0]] += self.idf[term] * posting[1]
        return total

    def max_idf(self) -> float:
        """The idf a term seen in no article would have; used to weigh unknown words."""
        return _idf(self.n_docs, 0)


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _mean(values: Iterable[int]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _weighted_tf(
    doc: Doc, weights: Mapping[str, float], avg: Mapping[str, float], b: float
) -> dict[str, float]:
    combined: dict[str, float] = {}
    for field, weight in weights.items():
        tokens = doc.get(field, ())
        norm = 1 - b + b * len(tokens) / avg[field]
        for term, tf in Counter(tokens).items():
            combined[term] = combined.get(term, 0.0) + weight * tf / norm
    return combined
