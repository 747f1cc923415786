"""Shared fixtures: a small knowledge base with its own synonyms and dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"


def fixture_kb(**options: object) -> KnowledgeBase:
    """The fixture articles with the fixture synonyms and dictionary."""
    return KnowledgeBase.load(
        [ARTICLES],
        synonyms_path=FIXTURES / "data" / "synonyms.txt",
        user_dict=FIXTURES / "data" / "domain_dict.txt",
        **options,
    )


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return fixture_kb()
