"""Shared fixtures: a small knowledge base with its own synonyms and dictionary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"


@pytest.fixture(scope="session", autouse=True)
def _embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Knowledge bases built with the default cache folder write under a temp folder."""
    path = tmp_path_factory.mktemp("kb-cache")
    old = os.environ.get("FRONTLINE_KB_CACHE")
    os.environ["FRONTLINE_KB_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("FRONTLINE_KB_CACHE", None)
    else:
        os.environ["FRONTLINE_KB_CACHE"] = old


def fixture_kb(**options: object) -> KnowledgeBase:
    """The fixture articles with the fixture synonyms and dictionary, lexical engine only."""
    options.setdefault("embedder", None)
    return KnowledgeBase.load(
        [ARTICLES],
        synonyms_path=FIXTURES / "data" / "synonyms.txt",
        user_dict=FIXTURES / "data" / "domain_dict.txt",
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return fixture_kb()
