"""The parts list the orchard keeps as data: the shipped one loads, a bad one is refused with
the file, the line and the reason, and typed words find the parts they mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load
from handlers.rules.parts import UNITS, PartsList, PartsListError

GOOD = '''
[[part]]
code = "SV_DN32"
name_zh = "电磁阀 DN32"
name_en = "Solenoid valve DN32"
unit = "pcs"
category = "valve"
'''


def refused(text: str) -> list[str]:
    with pytest.raises(PartsListError) as err:
        PartsList.from_toml(text, "parts.toml")
    return [str(p) for p in err.value.problems]


def test_the_shipped_list_has_the_orchards_usual_spares_each_with_a_known_unit():
    parts = PartsList.load().parts
    codes = {p.code for p in parts}
    assert {"SV_DN32", "SOIL_MS", "LORA_ANT", "SIM_4G", "BAT_12V", "SOLAR_CTL", "FUSE_10A",
            "DRIP_CONN"} <= codes
    assert len(codes) == len(parts) >= 15
    assert all(p.unit in UNITS and p.name_zh and p.name_en for p in parts)


def test_a_code_listed_twice_is_refused_with_both_lines():
    assert refused(GOOD + GOOD) == [
        "parts.toml:9: code 'SV_DN32' is listed twice (first on line 2)"]


@pytest.mark.parametrize(("change", "reason"), [
    (('name_zh = "电磁阀 DN32"', 'name_zh = "  "'), "SV_DN32: name_zh must be one line of 1"),
    (('name_en = "Solenoid valve DN32"', 'name_en = "a\\nb"'), "name_en must be one line"),
    (('unit = "pcs"', 'unit = "kg"'), "SV_DN32: unit 'kg' is not one of pcs, m, set"),
    (('code = "SV_DN32"', 'code = "SV-DN32"'), "code 'SV-DN32': letters, digits and _ only"),
    (('category = "valve"', 'category = "rocket"'), "category 'rocket' is not one of sensor"),
    (('category = "valve"', 'colour = "red"'), "unknown key 'colour'; keys: code, name_zh"),
    (('category = "valve"', 'aliases = "阀门"'), "aliases is a list of words"),
])
def test_a_bad_part_is_refused_with_its_line_and_reason(change, reason):
    [problem] = refused(GOOD.replace(*change))
    assert problem.startswith("parts.toml:2: ") and reason in problem


def test_broken_toml_and_a_missing_file_name_where():
    [problem] = refused('[[part]]\ncode = "x\n')
    assert problem.startswith("parts.toml:2: ")
    with pytest.raises(PartsListError, match="cannot read it"):
        PartsList.load(Path("/nonexistent/parts.toml"))


def test_every_bad_part_of_a_file_is_listed_not_only_the_first():
    text = GOOD + GOOD.replace('unit = "pcs"', 'unit = "kg"').replace("SV_DN32", "B")
    text += GOOD.replace('name_zh = "电磁阀 DN32"', 'name_zh = ""').replace("SV_DN32", "C")
    assert [p.split(":")[1] for p in refused(text)] == ["9", "16"]


def test_a_bad_parts_file_stops_the_desk_at_start_naming_the_variable(monkeypatch, tmp_path):
    path = tmp_path / "parts.toml"
    path.write_text(GOOD.replace('unit = "pcs"', 'unit = "litre"'), "utf-8")
    monkeypatch.setenv("FRONTLINE_PARTS_FILE", str(path))
    with pytest.raises(SettingsError) as err:
        load()
    [line] = err.value.problems
    assert line.startswith("FRONTLINE_PARTS_FILE: ")
    assert f"{path}:2: SV_DN32: unit 'litre'" in line


def test_the_parts_file_setting_is_the_list_the_desk_offers(monkeypatch, tmp_path):
    path = tmp_path / "parts.toml"
    path.write_text(GOOD, "utf-8")
    monkeypatch.setenv("FRONTLINE_PARTS_FILE", str(path))
    assert [p.code for p in load().parts.parts] == ["SV_DN32"]
    monkeypatch.setenv("FRONTLINE_PARTS_FILE", "")
    assert len(load().parts.parts) >= 15  # empty: the shipped list


@pytest.mark.parametrize(("typed", "exact", "found"), [
    ("电瓶", "BAT_12V", ["BAT_12V"]),  # an alias
    ("bat_12V", "BAT_12V", ["BAT_12V"]),  # a code in any case
    ("電池", "BAT_12V", ["BAT_12V"]),  # traditional characters
    ("阀门", None, ["SV_DN32", "SV_DN50"]),  # an alias two parts share names neither
    ("滴灌管", None, ["DRIP_PIPE", "DRIP_CONN"]),  # the closer name first
    ("solar", None, ["SOLAR_CTL", "SOLAR_PANEL"]),
    ("abc", None, []),
    ("", None, []),
])
def test_a_typed_word_finds_the_parts_it_may_mean(typed, exact, found):
    parts = PartsList.load()
    assert (parts.exact(typed).code if parts.exact(typed) else None) == exact
    assert [p.code for p in parts.find(typed)][:len(found) or 5] == found
