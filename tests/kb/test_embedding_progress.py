"""A long embedding run (a new or large knowledge base) says how far it is and how long is left."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kb.embedding import EmbeddingCache, HashEmbedder


def test_a_long_run_logs_its_progress_and_a_short_one_stays_quiet(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = EmbeddingCache(tmp_path, HashEmbedder())
    with caplog.at_level(logging.INFO, logger="kb.embedding"):
        cache.embed([f"article {n}" for n in range(70)], batch=32)
    said = [r.getMessage() for r in caplog.records]
    assert said[0] == "knowledge base: embedding 70 articles (new or changed; cached afterwards)"
    assert said[-1].startswith("knowledge base: embedded 70/70 articles, about 0 s left")

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kb.embedding"):
        cache.embed([f"article {n}" for n in range(75)], batch=32)  # 5 new: one batch
    assert caplog.records == []
