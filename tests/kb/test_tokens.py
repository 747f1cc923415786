from __future__ import annotations

from pathlib import Path

from kb.normalise import normalise
from kb.tokens import STOP_WORDS, Tokenizer, stem

FIXTURE_DICT = Path(__file__).parent / "fixtures" / "data" / "domain_dict.txt"


def test_chinese_is_segmented_and_stop_words_are_dropped() -> None:
    tokens = Tokenizer(FIXTURE_DICT).tokens(normalise("我的电磁阀怎么打不开了吗"))
    assert "电磁阀" in tokens
    assert not {"我", "的", "怎么", "了", "吗"} & set(tokens)


def test_search_mode_also_yields_the_parts_of_long_words() -> None:
    tokens = Tokenizer(FIXTURE_DICT).tokens("电磁阀")
    assert {"电磁", "电磁阀"} <= set(tokens)


def test_domain_dictionary_and_extra_words_stay_whole() -> None:
    tokenizer = Tokenizer(FIXTURE_DICT, words=["吸肥泵"], search_mode=False)
    assert tokenizer.tokens("滴灌带漏水") [0] == "滴灌带"
    assert "吸肥泵" in tokenizer.tokens("吸肥泵不转")


def test_english_words_are_lower_case_stemmed_and_stop_words_dropped() -> None:
    tokens = Tokenizer().tokens(normalise("The Valves are CLOGGED"))
    assert tokens == ["valve", "clog"]


def test_mixed_text_and_short_numbers() -> None:
    tokens = Tokenizer().tokens(normalise("3号地块 SIM卡 没信号 220v"))
    assert "3" not in tokens
    assert {"sim", "信号", "220v", "没"} <= set(tokens)


def test_stem_keeps_short_and_non_english_words() -> None:
    assert [stem(w) for w in ("gas", "status", "pumps", "batteries", "水泵")] == [
        "gas", "status", "pump", "battery", "水泵",
    ]


def test_negations_are_not_stop_words() -> None:
    assert not {"不", "没", "no", "not"} & STOP_WORDS
