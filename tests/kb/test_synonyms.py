from __future__ import annotations

from kb.normalise import PhraseMap, normalise
from kb.synonyms import Synonyms, parse_groups
from kb.tokens import stem

TEXT = """
# comment line
水肥机, 水肥一体机 ,fertigation unit, Fertigation Machine   # trailing comment
电瓶,蓄电池,battery

single-term-lines-are-ignored
"""


def synonyms() -> Synonyms:
    return Synonyms(parse_groups(TEXT), normalise, stem)


def test_parse_skips_comments_blank_lines_and_one_term_lines() -> None:
    assert parse_groups(TEXT) == [
        ("水肥机", "水肥一体机", "fertigation unit", "Fertigation Machine"),
        ("电瓶", "蓄电池", "battery"),
    ]


def test_every_term_maps_to_the_group_head() -> None:
    syn = synonyms()
    assert syn.canonical("水肥一体机") == "水肥机"
    assert syn.canonical("蓄电池") == "电瓶"
    assert syn.canonical(stem("batteries")) == "电瓶"  # tokens arrive stemmed
    assert syn.canonical("水泵") == "水泵"


def test_multi_word_terms_are_rewritten_in_the_text() -> None:
    assert synonyms().rewrite("the fertigation machine stops").split() == [
        "the", "水肥机", "stops",
    ]


def test_jieba_is_told_every_single_word_term() -> None:
    assert {"水肥机", "水肥一体机", "电瓶", "蓄电池", "battery"} <= synonyms().words


def test_english_phrases_match_whole_words_only() -> None:
    rewrite = PhraseMap({"pump": "泵"}, pad=" ")
    assert rewrite("pumpkin pump").split() == ["pumpkin", "泵"]
    assert rewrite("水pump站").split() == ["水", "泵", "站"]


def test_a_missing_file_means_no_synonyms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    syn = Synonyms.from_file(tmp_path / "none.txt", normalise)
    assert syn.canonical("水肥机") == "水肥机" and syn.rewrite("a b") == "a b"
