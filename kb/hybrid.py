"""Hybrid ranking and abstention: lexical + character n-grams + dense embeddings.

Per query and per language group (the reporter's language first, then the other):

- each candidate article gets three bounded signals:
  `lex`   the lexical engine's 0-100 confidence (kb.scoring: BM25F coverage + rapidfuzz),
          divided by 100;
  `cov`   character n-gram coverage (kb.ngrams): the share of the query's n-gram
          information the article holds, so unknown words and typos still count;
  `dz`    the dense cosine as a z-score against the group's other articles: e5's raw
          cosines sit in a narrow band (0.78-0.92 related or not), but how far an
          article stands above the rest of the knowledge base for this query is
          comparable from query to query;
- they are fused linearly, `fused = w_lex*lex + w_cov*cov + w_dense*dz/4`, to rank;
- the group's best candidate is described by FEATURES — its signals, the dense margin
  over the next article, and `intent`: how much the query looks like a fault report
  rather than chatter, as the mean cosine to its nearest labelled fault reports minus
  that to its nearest labelled chatter (greetings, thanks, prices, equipment we do not
  cover), from a small set of labelled example queries;
- a logistic model over a few of the features (`Calibration.features`; the shipped one
  reads only `fused` and `intent`: more features fitted on a few hundred queries fitted
  their own set and did worse on the other) turns them into a probability that the
  group answers; the reporter's group is shown when it reaches `tau`, else the other
  language's group is tried, else nothing. The other language answers at its own
  threshold `tau_cross`, and only with articles that have no twin in the reporter's
  language: where the twin exists, the reporter's own article is the one to offer, and
  it did not answer (measured: letting such matches through added a false suggestion
  and no answer). kb.search evaluates the whole message and each of its clauses;
  per group it keeps the whole message where that answers (`whole_first`), else the
  view with the highest probability.

A group of the reporter's language must also pass the knowledge base's own bar
(`Calibration.alpha`, `noise_bar`): how sure the model is of labelled chatter in THIS
knowledge base, since the same score means more on one orchard's articles than on
another's (kb.search.KnowledgeBase measures it at load).

Every weight, the model, `tau`, `tau_cross` and `alpha` are fitted on some labelled sets
and measured on another (bench/kb_crossval.py, leave one set out); the shipped values
are in kb/tuned.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FEATURES: tuple[str, ...] = (
    "fused", "lex", "cov", "dense_z", "dense_margin", "intent", "same_lang",
)
MIN_SD = 0.01  # cosine spread floor: a group of one or two articles has no real spread
F64 = npt.NDArray[np.float64]
Floats = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Calibration:
    """Fusion weights, the abstention model and its threshold."""

    w_lex: float
    w_cov: float
    w_dense: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    bias: float
    tau: float
    # further hits: fused within `gap` of the best one; None: within the group's confidence,
    # i.e. every hit whose own score (kb.search) is above 0 (a gap of 0.3 lost 1-2 % of
    # the answers on every labelled set)
    gap: float | None = 0.3
    knn: int = 3  # neighbours per side for the intent feature
    features: tuple[str, ...] = FEATURES  # which FEATURES the model reads, in this order
    # The other language's group: None, it answers at `tau` like the reporter's own; else
    # it answers at `tau_cross`, with its articles that have no twin in the reporter's
    # language only, and only when its best one has none (kb.search.KnowledgeBase.search).
    tau_cross: float | None = None
    # Each knowledge base's own bar for the reporter's language: the confidence that at
    # most a share `alpha` of the labelled chatter examples reach in THIS knowledge base
    # (noise_bar); a group answers at max(tau, that bar). None: `tau` alone.
    alpha: float | None = None
    # A message searched whole and clause by clause: True, a language group the whole
    # message answers keeps it, and a clause is looked at only where it does not (measured
    # the same, and the right article where a short clause such as "不出水" named another
    # device than the message does); False, the view the model is surest of.
    whole_first: bool = False

    def probability(self, x: Sequence[float]) -> float:
        """The model's probability that the group answers, from a full FEATURES row."""
        if len(x) != len(FEATURES):
            raise ValueError(f"expected {len(FEATURES)} features, got {len(x)}")
        used = [x[FEATURES.index(name)] for name in self.features]
        z = sum(c * (v - m) / s for c, v, m, s in
                zip(self.coef, used, self.mean, self.scale, strict=True)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One language group's ranked candidates and the features of the best one."""

    lang: str
    ranked: tuple[tuple[int, float], ...]  # (article index, fused), best first
    features: tuple[float, ...]


def intent(query: npt.NDArray[np.float32], examples: npt.NDArray[np.float32],
           is_fault: npt.NDArray[np.bool_], k: int) -> float:
    """Mean cosine to the k nearest fault examples minus that to the k nearest chatter."""
    if len(examples) == 0 or is_fault.all() or not is_fault.any():
        return 0.0
    sims = examples @ query
    pos = np.sort(sims[is_fault])[::-1][:k].mean()
    neg = np.sort(sims[~is_fault])[::-1][:k].mean()
    return float(pos - neg)


def noise_bar(chatter: Sequence[float], alpha: float) -> float:
    """The lowest bar that at most a share `alpha` of the chatter confidences reach."""
    ranked = sorted(chatter, reverse=True)
    k = math.floor(alpha * len(ranked) + 1e-9)
    return ranked[k] + 1e-9 if k < len(ranked) else 0.0


def rank_group(
    lang: str, same_lang: bool, members: npt.NDArray[np.int64], cos: F64,
    lex: dict[int, float], cov: dict[int, float], candidates: Sequence[int],
    weights: tuple[float, float, float], intent_value: float,
) -> GroupResult | None:
    """Fuse the signals of a group's candidates; None when the group is empty."""
    if len(members) == 0 or not candidates:
        return None
    group_cos = cos[members]
    n = len(group_cos)
    total, squares = float(group_cos.sum()), float((group_cos**2).sum())

    def standing(value: float) -> float:
        # z-score against the *other* articles of the group: against all of them, the
        # best one of a small group could never score above sqrt(n - 1).
        if n < 2:
            return 0.0
        mean = (total - value) / (n - 1)
        var = max(0.0, (squares - value * value) / (n - 1) - mean * mean)
        return (value - mean) / max(MIN_SD, math.sqrt(var))

    w_lex, w_cov, w_dense = weights
    scored = []
    for index in candidates:
        dz = standing(float(cos[index]))
        fused = w_lex * lex.get(index, 0.0) / 100 + w_cov * cov.get(index, 0.0) + w_dense * dz / 4
        scored.append((fused, dz, index))
    scored.sort(key=lambda item: (-item[0], item[2]))
    fused, dz, best = scored[0]
    others = group_cos[members != best]
    margin = dz - standing(float(others.max())) if len(others) else 0.0
    features = (fused, lex.get(best, 0.0) / 100, cov.get(best, 0.0), dz, margin, intent_value,
                1.0 if same_lang else 0.0)
    return GroupResult(lang, tuple((i, f) for f, _, i in scored), features)


def fit(x: F64, y: npt.NDArray[np.float64], l2: float = 1.0, steps: int = 3000,
        rate: float = 1.0) -> tuple[Floats, Floats, Floats, float]:
    """L2-regularised logistic regression by gradient descent on standardised features.

    Returns (mean, scale, coef, bias); deterministic (starts from zero).
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    coef = np.zeros(z.shape[1])
    bias = 0.0
    n = len(y)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ coef + bias)))
        coef -= rate * (z.T @ (p - y) / n + l2 * coef / n)
        bias -= rate * float(np.mean(p - y))
    return (tuple(float(v) for v in mean), tuple(float(v) for v in scale),
            tuple(float(v) for v in coef), float(bias))
