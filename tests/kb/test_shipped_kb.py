"""The knowledge base shipped in kb/articles, with the shipped synonyms and dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import KnowledgeBase, default_articles_dir

EVAL = Path(__file__).resolve().parents[2] / "bench" / "kb_eval.tsv"
pytestmark = pytest.mark.skipif(
    len(list(default_articles_dir().glob("*.md"))) < 40, reason="shipped articles not written yet"
)


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return KnowledgeBase.load([default_articles_dir()], embedder=None)  # the lexical engine


def test_the_shipped_knowledge_base_loads_with_zero_problems(shipped: KnowledgeBase) -> None:
    assert [str(p) for p in shipped.problems] == []
    assert sum(a.lang == "zh" for a in shipped) >= 40
    assert sum(a.lang == "en" for a in shipped) >= 8


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("墒情站没数据了", "soil-sensor-no-data"),
        ("電池閥打不開", "valve-wont-open"),
        ("ＳＩＭ卡识别不到", "sim-card-not-detected"),
        ("施肥机不吸肥", "fertigation-not-drawing"),
        ("solenoid valve won't open", "valve-wont-open-en"),
        ("东边坡上那个墒情仪从昨天下午开始就一直灰色，不上传", "soil-sensor-no-data"),
    ],
)
def test_colloquial_queries_find_the_right_article_first(
    shipped: KnowledgeBase, query: str, expected: str
) -> None:
    if shipped.get(expected) is None:
        pytest.skip(f"{expected} is not in the shipped articles")
    assert [h.article.id for h in shipped.search(query)][:1] == [expected]


@pytest.mark.parametrize("query", ["你好", "谢谢", "好的收到", "荔枝什么时候摘", "hello"])
def test_chatter_gets_no_suggestion(shipped: KnowledgeBase, query: str) -> None:
    assert shipped.search(query) == []


def test_the_eval_set_names_only_existing_articles(shipped: KnowledgeBase) -> None:
    if not EVAL.is_file():
        pytest.skip("bench/kb_eval.tsv not written yet")
    unknown = set()
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        expected = line.rsplit("\t", 1)[1].strip()
        ids = [] if expected == "-" else [i.strip() for i in expected.split(",")]
        unknown |= {i for i in ids if shipped.get(i) is None}
    assert unknown == set()


def test_the_lexical_engine_never_shows_an_article_beside_its_twin():
    kb = KnowledgeBase.load([default_articles_dir()], embedder=None)
    for query, lang in (("3号地块电磁阀打不开，不出水", "zh"), ("电磁阀打不开", "en"),
                        ("solenoid valve won't open, no water", "en"),
                        ("solenoid valve won't open", "zh")):
        hits = kb.search(query, limit=3, lang=lang)
        assert hits, query
        assert len({h.article.lang for h in hits}) == 1, (query, [h.article.id for h in hits])
    assert {h.article.lang for h in kb.search("电磁阀打不开", limit=3, lang="zh")} == {"zh"}
