from __future__ import annotations

import pytest

from kb.normalise import PhraseMap, normalise
from kb.variants import HOMOPHONES, VARIANTS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("電磁閥打不開", "电磁阀打不开"),  # traditional
        ("ＳＩＭ卡　沒信號４Ｇ", "sim卡 没信号4g"),  # full-width letters, digits, space
        ("Solenoid VALVE", "solenoid valve"),  # case
        ("水泵不转😭😭🙏", "水泵不转"),  # emoji
        ("水泵！！不转？？…", "水泵 不转"),  # punctuation
        ("帳號登錄不了", "账号登录不了"),  # variant after t2s: 帐号 -> 账号
        ("纔好", "才好"),
        ("won't open", "wont open"),  # apostrophes join
    ],
)
def test_normalise_folds_script_width_case_and_noise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电池阀打不开", "电磁阀打不开"),
        ("電池閥打不開", "电磁阀打不开"),
        ("电磁伐坏了", "电磁阀坏了"),
        ("肥水一体机不出肥", "水肥一体机不出肥"),
        ("摄象头黑屏", "摄像头黑屏"),
        ("app登陆不了 验证吗收不到", "app登录不了 验证码收不到"),
    ],
)
def test_domain_homophones_are_corrected(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_a_real_battery_is_not_turned_into_a_valve() -> None:
    assert normalise("太阳能电池没电了") == "太阳能电池没电了"


def test_only_noise_normalises_to_nothing() -> None:
    assert normalise("😀🎉 ？！…") == ""


def test_the_phrase_maps_are_already_in_normal_form() -> None:
    # A key that normalisation would change could never match.
    for key in (*VARIANTS, *HOMOPHONES):
        assert key == " ".join(key.split()) and key.lower() == key


def test_phrase_map_prefers_the_longest_phrase() -> None:
    rewrite = PhraseMap({"阀": "X", "电磁阀": "Y"})
    assert rewrite("电磁阀和阀") == "Y和X"
