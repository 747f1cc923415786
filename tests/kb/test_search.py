from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb import Article, KnowledgeBase

from .conftest import ARTICLES, fixture_kb


def ids(kb: KnowledgeBase, query: str, **options: object) -> list[str]:
    return [hit.article.id for hit in kb.search(query, **options)]  # type: ignore[arg-type]


def test_a_plain_query_finds_its_article_first(kb: KnowledgeBase) -> None:
    assert ids(kb, "电磁阀打不开")[0] == "valve-wont-open"


def test_a_homophone_typo_still_finds_the_valve(kb: KnowledgeBase) -> None:
    assert ids(kb, "电池阀打不开，不出水")[0] == "valve-wont-open"


def test_traditional_and_full_width_queries_match(kb: KnowledgeBase) -> None:
    assert ids(kb, "攝像頭離線　看不到畫面")[0] == "camera-offline"


def test_a_chinese_query_reaches_an_english_article_through_synonyms(kb: KnowledgeBase) -> None:
    assert "en-fertigation-alarm" in ids(kb, "施肥机 EC 报警", limit=3)


def test_an_english_query_reaches_a_chinese_article_through_synonyms(kb: KnowledgeBase) -> None:
    assert ids(kb, "fertigation machine", lang="zh")[0] == "fertigation-no-dosing"


def test_lang_prefers_but_does_not_filter(kb: KnowledgeBase) -> None:
    query = "solenoid valve"
    assert ids(kb, query, lang="en")[0] == "en-solenoid-stuck-open"
    assert ids(kb, query, lang="zh")[0] == "valve-wont-open"


@pytest.mark.parametrize(
    "query",
    ["你好", "谢谢师傅", "今天天气真好", "hello there", "", "   ", "😀😀", "？？？", "Привет мир"],
)
def test_chatter_and_noise_return_nothing(kb: KnowledgeBase, query: str) -> None:
    assert kb.search(query) == []


def test_a_very_long_query_returns_without_error(kb: KnowledgeBase) -> None:
    hits = kb.search("电磁阀打不开" + "今天早上在地里转了一圈" * 500)
    assert [h.article.id for h in hits][:1] == ["valve-wont-open"]


def test_scores_are_between_0_and_100_best_first(kb: KnowledgeBase) -> None:
    hits = kb.search("阀门 不出水", limit=3)
    assert hits and all(0 <= h.score <= 100 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_limit_caps_the_hits(kb: KnowledgeBase) -> None:
    assert len(kb.search("阀", limit=1)) <= 1
    assert kb.search("电磁阀", limit=0) == []


def test_the_threshold_hides_weak_matches() -> None:
    query = "阀门漏气严重"
    assert fixture_kb(threshold=0).search(query)
    assert fixture_kb(threshold=99.9).search(query) == []


def test_add_makes_an_article_searchable_at_once() -> None:
    kb = fixture_kb()
    assert kb.search("杀虫灯不亮") == []
    article = Article(
        id="lamp-off", title="杀虫灯不亮", lang="zh", category="pest", devices=("杀虫灯",),
        symptoms=("诱虫灯晚上不亮",), body="1. 看光控开关。",
    )
    kb.add(article)
    assert kb.get("lamp-off") == article
    assert len(kb) == 7 and article in list(kb)
    assert ids(kb, "杀虫灯晚上不亮") == ["lamp-off"]


def test_add_with_an_existing_id_replaces_the_article() -> None:
    kb = fixture_kb()
    old = kb.get("camera-offline")
    assert old is not None
    kb.add(Article(**{**{n: getattr(old, n) for n in Article.__slots__}, "title": "球机离线"}))
    assert len(kb) == 6
    assert ids(kb, "球机离线")[0] == "camera-offline"


def test_get_returns_none_for_an_unknown_id(kb: KnowledgeBase) -> None:
    assert kb.get("nope") is None


def test_searches_in_threads_agree_with_a_single_thread(kb: KnowledgeBase) -> None:
    queries = ["电磁阀打不开", "验证码收不到", "摄像头黑屏", "你好"] * 25
    expected = [ids(kb, q) for q in queries]
    results: dict[int, list[str]] = {}

    def work(i: int) -> None:
        results[i] = ids(kb, queries[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(queries))] == expected


def test_the_query_script_picks_the_preferred_language_when_none_is_given() -> None:
    from kb.search import query_lang

    assert [query_lang(q) for q in ("电磁阀", "valve", "ＶＡＬＶＥ", "123 😀")] == [
        "zh", "en", "en", None,
    ]


def test_a_longer_word_that_only_contains_a_device_word_is_not_that_device() -> None:
    # 电瓶车 (an e-bike) holds 电瓶 (battery): an e-bike is not a battery article's case.
    kb = fixture_kb()
    kb.add(Article(id="battery-low", title="蓄电池电压低", lang="zh", category="power",
                   devices=("蓄电池",), symptoms=("电瓶没电",), body="1. 量电压。"))
    assert ids(kb, "电瓶没电了")[:1] == ["battery-low"]
    assert kb.search("电瓶车坏了") == []


def test_reload_picks_up_a_changed_folder(tmp_path: Path) -> None:
    source = ARTICLES / "camera-offline.md"
    (tmp_path / "camera-offline.md").write_text(source.read_text("utf-8"), "utf-8")
    kb = KnowledgeBase.load([tmp_path])
    assert len(kb) == 1
    (tmp_path / "broken.md").write_text("no front matter\n", "utf-8")
    (tmp_path / "sms-code.md").write_text((ARTICLES / "sms-code.md").read_text("utf-8"), "utf-8")
    problems = kb.reload()
    assert len(kb) == 2 and kb.get("sms-code") is not None
    assert [p.path for p in problems] == [str(tmp_path / "broken.md")] == [
        p.path for p in kb.problems
    ]
