from __future__ import annotations

from pathlib import Path

from kb import Article, KnowledgeBase
from kb.loader import load_articles, parse_article

from .conftest import ARTICLES

GOOD = """---
id: {id}
title: 水泵不转
lang: zh
category: pump
devices: [水泵]
symptoms: [泵不抽水]
---
1. 看电源灯。
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_article_loads_with_all_its_fields() -> None:
    article, problem = parse_article(GOOD.format(id="pump-stopped"), "a.md")
    assert problem is None
    assert article == Article(
        id="pump-stopped", title="水泵不转", lang="zh", category="pump", devices=("水泵",),
        symptoms=("泵不抽水",), tags=(), body="1. 看电源灯。", path="a.md",
    )
    assert article.steps == "1. 看电源灯。"


def test_the_fixture_folder_loads_without_problems() -> None:
    articles, problems = load_articles([ARTICLES])
    assert problems == []
    assert len(articles) == 6


def test_broken_yaml_is_reported_with_its_line_and_the_others_still_load(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD.format(id="good"))
    write(tmp_path, "b.md", "---\nid: broken\ntitle: [unclosed\nlang: zh\n---\nbody\n")
    kb = KnowledgeBase.load([tmp_path])
    assert [a.id for a in kb] == ["good"]
    [problem] = kb.problems
    assert problem.path.endswith("b.md")
    assert problem.line in (3, 4, 5)
    assert "bad YAML" in problem.message


def test_a_missing_id_names_the_file() -> None:
    text = GOOD.format(id="x").replace("id: x\n", "")
    article, problem = parse_article(text, "c.md")
    assert article is None and problem is not None
    assert (problem.path, problem.message) == ("c.md", "missing id")


def test_a_duplicate_id_across_folders_keeps_the_first_and_points_at_the_second(
    tmp_path: Path,
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    write(tmp_path / "one", "a.md", GOOD.format(id="same"))
    write(tmp_path / "two", "b.md", GOOD.format(id="same"))
    articles, problems = load_articles([tmp_path / "one", tmp_path / "two"])
    assert [a.path for a in articles] == [str(tmp_path / "one" / "a.md")]
    [problem] = problems
    assert problem.path == str(tmp_path / "two" / "b.md")
    assert problem.line == 2
    assert "duplicate id 'same'" in problem.message


def test_an_unknown_category_loads_as_general_with_a_note_at_its_line() -> None:
    article, note = parse_article(GOOD.format(id="x").replace("pump", "tractor", 1), "d.md")
    assert article is not None and article.category == "general"
    assert note is not None
    assert str(note) == "d.md:5: unknown category 'tractor', loaded as 'general'"


def test_another_orchards_obvious_categories_map_to_ours(tmp_path: Path) -> None:
    for theirs, ours in (("gateway", "network"), ("LoRa", "network"), ("drone", "general")):
        article, note = parse_article(GOOD.format(id="x").replace("pump", theirs, 1), "d.md")
        assert article is not None and article.category == ours and note is not None
    (tmp_path / "a.md").write_text(GOOD.format(id="a").replace("pump", "gateway", 1), "utf-8")
    articles, problems = load_articles([tmp_path])
    assert [a.category for a in articles] == ["network"]
    assert [p.message for p in problems] == ["unknown category 'gateway', loaded as 'network'"]


def test_strict_loading_still_rejects_an_unknown_category() -> None:
    article, problem = parse_article(GOOD.format(id="x").replace("pump", "tractor", 1), "d.md",
                                     unknown_category=None)
    assert article is None and problem is not None
    assert str(problem) == "d.md:5: unknown category 'tractor'"


def test_unknown_lang_missing_title_and_empty_body_are_problems() -> None:
    text = GOOD.format(id="x")
    cases = {
        "unknown lang 'fr'": text.replace("lang: zh", "lang: fr"),
        "missing title": text.replace("title: 水泵不转\n", ""),
        "empty body": text.split("---\n1.")[0] + "---\n\n",
        "missing front matter": "# just markdown\n",
    }
    for expected, broken in cases.items():
        _, problem = parse_article(broken, "e.md")
        assert problem is not None and problem.message.startswith(expected), expected


def test_a_missing_folder_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    kb = KnowledgeBase.load([tmp_path / "nowhere"])
    assert len(kb) == 0
    assert kb.problems[0].message == "no such file or directory"


def test_to_markdown_round_trips_through_the_loader() -> None:
    original = Article(
        id="en-x", title="Pump: won't start", lang="en", category="pump",
        devices=("pump", "VFD"), symptoms=("no water", "'quoted' # hash"), tags=("p1",),
        body="1. Check the breaker.\n2. Call us.\n", path=None,
    )
    loaded, problem = parse_article(original.to_markdown(), "x.md")
    assert problem is None and loaded is not None
    expected = {**_fields(original), "body": original.body.strip(), "path": "x.md"}
    assert loaded == Article(**expected)  # type: ignore[arg-type]


def _fields(article: Article) -> dict[str, object]:
    return {name: getattr(article, name) for name in Article.__slots__}
