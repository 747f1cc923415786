"""A free-text message's search is embedded in a thread before the step's transaction."""

from __future__ import annotations

import threading
from pathlib import Path

from kb import KnowledgeBase
from kb.article import Article
from kb.embedding import HashEmbedder
from tests.support.fakes import FakeKB, valve_kb


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class PreparingKB(FakeKB):
    """valve_kb that notes where and when `prepare` ran."""

    def __init__(self) -> None:
        super().__init__(articles=valve_kb().articles)
        self.calls: list[tuple[str, str, bool]] = []  # (what, text, on the event loop's thread)

    def prepare(self, query: str) -> None:
        self.calls.append(("prepare", query, _on_main_thread()))

    def search(self, query: str, limit: int = 3, lang: str | None = None):  # type: ignore[no-untyped-def]
        self.calls.append(("search", query, _on_main_thread()))
        return super().search(query, limit, lang)


async def test_a_fault_description_is_prepared_off_the_event_loop_before_its_search(
        app, reporter):
    kb = app.desk.kb = PreparingKB()

    await reporter.says("3号地块电磁阀打不开，不出水")
    assert "《电磁阀打不开》" in reporter.last().text
    assert kb.calls[:2] == [("prepare", "3号地块电磁阀打不开，不出水", False),
                            ("search", "3号地块电磁阀打不开，不出水", True)]

    kb.calls.clear()
    await reporter.says("/status")
    await reporter.presses("没解决，报修")
    assert [c[0] for c in kb.calls] == []  # commands and buttons are not searched


async def test_a_failing_preparation_leaves_the_search_to_the_step(app, reporter):
    class Broken(PreparingKB):
        def prepare(self, query: str) -> None:
            raise RuntimeError("model file unreadable")

    app.desk.kb = Broken()
    await reporter.says("3号地块电磁阀打不开，不出水")
    assert "《电磁阀打不开》" in reporter.last().text


def test_prepare_fills_the_query_cache_so_the_search_embeds_nothing(tmp_path: Path):
    class Counting(HashEmbedder):
        queries = 0

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            Counting.queries += len(texts)
            return super().embed_queries(texts)

    article = Article(id="valve", title="电磁阀打不开", body="1. 检查线圈。", category="valve",
                      lang="zh", symptoms=("阀门不出水",))
    kb = KnowledgeBase([article], embedder=Counting(), cache_dir=tmp_path)
    before = Counting.queries  # the labelled examples, embedded once at start
    kb.prepare("电磁阀打不开，昨天还好好的，今天不出水")
    prepared = Counting.queries - before
    kb.search("电磁阀打不开，昨天还好好的，今天不出水", lang="zh")
    assert prepared == 4  # the whole message and its three clauses
    assert Counting.queries - before == prepared  # the search found them cached


def test_the_lexical_engine_needs_no_preparing(tmp_path: Path):
    article = Article(id="valve", title="电磁阀打不开", body="1. 检查线圈。", category="valve",
                      lang="zh")
    assert KnowledgeBase([article], embedder=None).needs_preparing is False
    assert KnowledgeBase([article], embedder=HashEmbedder(), cache_dir=tmp_path).needs_preparing
