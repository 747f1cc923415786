"""Character n-grams: the lexical signal that needs no dictionary and no synonym entry.

jieba and the synonym table only know the words someone wrote down. A word nobody
listed (滤网, 回放, 分捡线) or a typo inside a known word still shares most of its
characters with the article's wording. So the normalised text (kb.normalise: NFKC,
case, t2s, noise removed) is also cut into:

- Chinese: every run of Han characters into 1-, 2- and 3-grams;
- other scripts (English, pinyin, model numbers): each word padded with spaces and cut
  into 3-grams (" pump " -> " pu", "pum", "ump", "mp "), so valves/valve, clogged/clog
  and a dropped letter still overlap.

An article's n-grams are indexed per field (the head: title, symptoms, devices, tags;
the body) in a BM25F index (kb.bm25). The bounded signal used for fusion is
*coverage*: the share of the query's n-gram information (idf mass) found in the
article's head, the body counting `BODY_SHARE`. Single Chinese characters carry little
information (不, 水) and their idf says so; a query n-gram no article holds still counts
in the denominator, so chatter that shares one character with the knowledge base stays low.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kb.bm25 import Bm25Index

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_OTHER_WORD = re.compile(r"[^\s\u3400-\u9fff\uf900-\ufaff]+")
BODY_SHARE = 0.35  # an n-gram found only in the steps counts this much of one in the head
FIELDS = {"head": 1.0, "body": 0.3}
MAX_GRAMS = 600  # a pasted log is cut: coverage is a share, the first part carries the fault


def grams(normalised: str) -> list[str]:
    """The n-grams of normalised text, in order, with repeats."""
    out: list[str] = []
    for run in _HAN_RUN.findall(normalised):
        for n in (1, 2, 3):
            out += [run[i : i + n] for i in range(len(run) - n + 1)]
    for word in _OTHER_WORD.findall(normalised):
        padded = f" {word} "
        if len(word) == 1 and not word.isalnum():
            continue
        out += [padded[i : i + 3] for i in range(len(padded) - 2)]
    return out[:MAX_GRAMS]


@dataclass(frozen=True, slots=True)
class NgramDoc:
    """One article's n-grams per field."""

    head: tuple[str, ...]
    body: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NgramIndex:
    """BM25F postings over n-grams, and which n-grams each article's head holds."""

    bm25: Bm25Index
    heads: tuple[frozenset[str], ...]
    bodies: tuple[frozenset[str], ...]

    @classmethod
    def build(cls, docs: Sequence[NgramDoc]) -> NgramIndex:
        bm25 = Bm25Index.build([{"head": d.head, "body": d.body} for d in docs], FIELDS)
        return cls(bm25, tuple(frozenset(d.head) for d in docs),
                   tuple(frozenset(d.body) for d in docs))

    def coverage(
        self, query_grams: Iterable[str], indices: Sequence[int]
    ) -> npt.NDArray[np.float64]:
        """For each article index: the share of the query's n-gram idf mass it holds."""
        unique = set(query_grams)
        out = np.zeros(len(indices), dtype=np.float64)
        if not unique:
            return out
        idf = self.bm25.idf
        unseen = self.bm25.max_idf()
        weight = {g: idf.get(g, unseen) for g in unique}
        total = sum(weight.values())
        for k, index in enumerate(indices):
            head, body = self.heads[index], self.bodies[index]
            got = 0.0
            for g, w in weight.items():
                if g in head:
                    got += w
                elif g in body:
                    got += BODY_SHARE * w
            out[k] = got / total
        return out

    def scores(self, query_grams: Iterable[str]) -> npt.NDArray[np.float64]:
        """BM25F over n-grams for every article (a ranking signal, unbounded)."""
        return self.bm25.scores(query_grams)
