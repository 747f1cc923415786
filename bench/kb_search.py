"""Lexical knowledge-base search (embedder=None): quality on bench/kb_eval.tsv and latency.

The hybrid engine and the cross-validated comparison are in bench/kb_crossval.py.

    .venv/bin/python bench/kb_search.py [--kb DIR] [--eval bench/kb_eval.tsv] [--sizes 2000,10000]

Quality: top-1 and top-3 hit rate on the positive queries, false-suggestion rate on the
"-" queries (any hit at all is a false suggestion), for the engine, for variants of it
and for two baselines (plain rapidfuzz WRatio over titles; BM25 over jieba tokens), all
in this one process. Baselines get the threshold that is best for them on this set.
Speed: per-query latency on the shipped KB, then load time, index memory and latency
on synthetic knowledge bases made of perturbed copies of the shipped articles.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from kb import Article, KnowledgeBase, Tuning, default_articles_dir  # noqa: E402
from kb.bm25 import Bm25Index  # noqa: E402

Case = tuple[str, frozenset[str]]  # query, expected ids (empty: nothing should match)
Ranker = Callable[[str], list[str]]  # query -> ranked ids, [] when not confident


def read_eval(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        query, expected = line.rsplit("\t", 1)
        ids = frozenset() if expected.strip() == "-" else frozenset(
            i.strip() for i in expected.split(",") if i.strip()
        )
        cases.append((query.strip(), ids))
    return cases


def quality(rank: Ranker, cases: Sequence[Case]) -> dict[str, float]:
    positives = [(q, e) for q, e in cases if e]
    negatives = [q for q, e in cases if not e]
    top1 = top3 = wrong = shown = 0
    for query, expected in positives:
        ids = rank(query)[:3]
        shown += len(ids)
        top1 += bool(ids) and ids[0] in expected
        top3 += bool(expected & set(ids))
        wrong += bool(ids) and not expected & set(ids)
    false = sum(bool(rank(q)) for q in negatives)
    return {
        "top1": top1 / max(1, len(positives)),
        "top3": top3 / max(1, len(positives)),
        "wrong": wrong / max(1, len(positives)),
        "fp": false / max(1, len(negatives)),
        "hits/query": shown / max(1, len(positives)),
    }


def engine(kb: KnowledgeBase) -> Ranker:
    return lambda q: [h.article.id for h in kb.search(q, limit=3)]


def wratio_scores(articles: Sequence[Article]) -> Callable[[str], list[tuple[str, float]]]:
    titles = [a.title for a in articles]

    def scores(query: str) -> list[tuple[str, float]]:
        found = process.extract(query, titles, scorer=fuzz.WRatio, limit=3)
        return [(articles[i].id, s) for _, s, i in found]

    return scores


def bm25_scores(articles: Sequence[Article]) -> Callable[[str], list[tuple[str, float]]]:
    segmenter = jieba.Tokenizer()

    def tokens(text: str) -> list[str]:
        return [t for t in segmenter.lcut(text.lower()) if t.strip()]

    docs = [{"all": tokens(" ".join([a.title, *a.symptoms, a.body]))} for a in articles]
    index = Bm25Index.build(docs, {"all": 1.0}, b=0.75)

    def scores(query: str) -> list[tuple[str, float]]:
        values = index.scores(tokens(query))
        order = values.argsort()[::-1][:3]
        return [(articles[i].id, float(values[i])) for i in order if values[i] > 0]

    return scores


def best_cutoff(scores: Callable[[str], list[tuple[str, float]]], cases: Sequence[Case],
                grid: Sequence[float]) -> tuple[float, dict[str, float]]:
    """The cutoff maximising top-1 minus false-suggestion rate: the baseline's best case."""
    cached = {q: scores(q) for q, _ in cases}
    results = []
    for cutoff in grid:
        rank: Ranker = lambda q, c=cutoff: [i for i, s in cached[q] if s >= c]  # noqa: E731
        figures = quality(rank, cases)
        results.append((figures["top1"] - figures["fp"], cutoff, figures))
    _, cutoff, figures = max(results, key=lambda r: r[0])
    return cutoff, figures


def latency(kb: KnowledgeBase, queries: Sequence[str], rounds: int = 5) -> dict[str, float]:
    timings = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            kb.search(query, limit=3)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "mean": statistics.fmean(timings),
        "p50": timings[len(timings) // 2],
        "p99": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
    }


def synthetic(articles: Sequence[Article], size: int, seed: int = 7) -> list[Article]:
    """Copies with new ids and shuffled symptoms, so the index is not just duplicates."""
    rng = random.Random(seed)
    out = []
    for n in range(size):
        base = articles[n % len(articles)]
        symptoms = list(base.symptoms)
        rng.shuffle(symptoms)
        extra = f"{base.title} 批次{n} 型号{rng.randint(100, 999)}"
        out.append(dataclasses.replace(base, id=f"{base.id}-{n}", title=extra,
                                       symptoms=tuple(symptoms[: rng.randint(1, 8)])))
    return out


def fmt(figures: dict[str, float]) -> str:
    return "  ".join(
        f"{k} {v:4.2f}" if k == "hits/query" else f"{k} {v * 100:5.1f}%"
        for k, v in figures.items()
    )


def engine_scores(kb: KnowledgeBase) -> Callable[[str], list[tuple[str, float]]]:
    return lambda q: [(h.article.id, h.score) for h in kb.search(q, limit=3)]


def compare_quality(kb_dirs: Sequence[Path], cases: Sequence[Case], kb: KnowledgeBase) -> None:
    print(f"\n## Quality on {len(cases)} queries "
          f"({sum(bool(e) for _, e in cases)} positive, {sum(not e for _, e in cases)} negative)")
    default = Tuning()
    variants: dict[str, KnowledgeBase] = {
        "engine (default)": kb,
        "  BM25F coverage only": KnowledgeBase.load(
            kb_dirs, embedder=None, tuning=dataclasses.replace(default, fuzzy_weight=0.0)),
        "  fuzzy only": KnowledgeBase.load(
            kb_dirs, embedder=None, tuning=dataclasses.replace(default, fuzzy_weight=1.0)),
        "  no synonyms": KnowledgeBase.load(kb_dirs, embedder=None, synonyms_path=None),
        "  no relative cut": KnowledgeBase.load(
            kb_dirs, embedder=None, tuning=dataclasses.replace(default, relative_cut=0.0)),
        "  body not indexed": KnowledgeBase.load(
            kb_dirs, embedder=None,
            tuning=dataclasses.replace(default, body_weight=0.0, body_match=0.0)),
        "  body counts fully": KnowledgeBase.load(
            kb_dirs, embedder=None, tuning=dataclasses.replace(default, body_match=1.0)),
        "  unknown words ignored": KnowledgeBase.load(
            kb_dirs, embedder=None,
            tuning=dataclasses.replace(default, unknown_weight=0.0)),
        "  scorer token_sort_ratio": KnowledgeBase.load(
            kb_dirs, embedder=None,
            tuning=dataclasses.replace(default, scorer="token_sort_ratio")),
        "  scorer WRatio": KnowledgeBase.load(
            kb_dirs, embedder=None, tuning=dataclasses.replace(default, scorer="wratio")),
    }
    for name, variant in variants.items():
        print(f"{name:28s} {fmt(quality(engine(variant), cases))}")
    articles = list(kb)
    for name, scorer, grid in (
        ("baseline WRatio on titles", wratio_scores(articles), range(0, 101, 2)),
        ("baseline BM25 jieba tokens", bm25_scores(articles), [x / 2 for x in range(0, 61)]),
    ):
        cutoff, figures = best_cutoff(scorer, cases, list(grid))
        print(f"{name:28s} {fmt(figures)}  (best cutoff {cutoff})")


def sweep_threshold(kb_dirs: Sequence[Path], cases: Sequence[Case]) -> None:
    print("\n## Threshold sweep (engine scoring, same relative cut)")
    open_kb = KnowledgeBase.load(kb_dirs, embedder=None, threshold=0.0)
    cached = {q: engine_scores(open_kb)(q) for q, _ in cases}
    for threshold in range(20, 85, 5):
        rank: Ranker = lambda q, t=threshold: [i for i, s in cached[q] if s >= t]  # noqa: E731
        print(f"threshold {threshold:3d}   {fmt(quality(rank, cases))}")


def rss_mib() -> float:
    """Resident memory now (Linux); tracemalloc would slow the build tenfold."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale(articles: Sequence[Article], queries: Sequence[str], sizes: Sequence[int]) -> None:
    print("\n## Scale (synthetic copies of the shipped articles, perturbed titles/symptoms)")
    for size in sizes:
        copies = synthetic(articles, size)
        gc.collect()
        before = rss_mib()
        start = time.perf_counter()
        kb = KnowledgeBase(copies, embedder=None)
        load = time.perf_counter() - start
        memory = rss_mib() - before
        figures = latency(kb, queries, rounds=3)
        print(f"{size:6d} articles: index build {load:5.2f} s, memory +{memory:6.1f} MiB RSS, "
              f"search mean {figures['mean']:.2f} ms p50 {figures['p50']:.2f} ms "
              f"p99 {figures['p99']:.2f} ms")
        del kb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", action="append", type=Path, dest="kb_dirs")
    parser.add_argument("--eval", type=Path, default=ROOT / "bench" / "kb_eval.tsv")
    parser.add_argument("--sizes", default="2000,10000")
    args = parser.parse_args()
    kb_dirs = args.kb_dirs or [default_articles_dir()]
    start = time.perf_counter()
    kb = KnowledgeBase.load(kb_dirs, embedder=None)
    print(f"# kb_search  {len(kb)} articles, {len(kb.problems)} problems, "
          f"loaded in {time.perf_counter() - start:.2f} s (includes jieba start-up)")
    print(f"tuning: {Tuning()}")
    cases = read_eval(args.eval)
    compare_quality(kb_dirs, cases, kb)
    sweep_threshold(kb_dirs, cases)
    queries = [q for q, _ in cases]
    figures = latency(kb, queries)
    print(f"\n## Latency on the shipped KB ({len(queries)} queries x 5)\n"
          f"mean {figures['mean']:.3f} ms  p50 {figures['p50']:.3f} ms  "
          f"p99 {figures['p99']:.3f} ms")
    bad = ["", "x" * 5000, "今天早上在地里转了一圈" * 500, "电磁阀" * 1700, "😀" * 50,
           "？！。" * 30, "Привет, как дела"]
    figures = latency(kb, bad)
    print(f"bad input (empty, 5,000 chars, emoji, punctuation, Cyrillic): "
          f"p99 {figures['p99']:.3f} ms")
    scale(list(kb), queries, [int(s) for s in args.sizes.split(",") if s])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
