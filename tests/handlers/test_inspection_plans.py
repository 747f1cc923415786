"""Inspection plans as data: the shipped example loads; a bad file is refused whole, each
problem with its file, line and reason; schedules come from APScheduler's cron."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from handlers.rules import inspections
from handlers.rules.inspections import InspectionPlanError, parse

ZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(ZONE)
EXAMPLE = Path(__file__).parents[2] / "handlers" / "policies" / "inspections.toml"
GOOD_ITEM = '[[plan.item]]\nkey = "a"\nkind = "pass_fail"\ntext = "水泵正常"\n'


def plan(body: str, items: str = GOOD_ITEM, sites: str = 'sites = ["一号园区"]\n') -> str:
    return f'{sites}\n[[plan]]\nkey = "p"\nname = "巡检"\nsite = "一号园区"\n{body}\n{items}'


def problems(text: str, known: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(InspectionPlanError) as caught:
        parse(text, "plans.toml", ZONE, known)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_example_loads_with_its_readings_and_schedules():
    plans = inspections.load(EXAMPLE, ZONE)
    assert [p.key for p in plans] == ["irrigation-weekly", "sensors-monthly", "weather-station"]
    monthly = plans.get("sensors-monthly")
    assert monthly is not None and monthly.label("en") == "Monthly sensor and gateway check"
    battery = monthly.items[0]
    assert (battery.kind, battery.unit, battery.min, battery.max) == ("number", "V", 3.0, 4.2)
    assert battery.normal(3.8) and not battery.normal(2.9) and not battery.sane(38)
    monday_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    weekly = plans.get("irrigation-weekly")
    assert weekly is not None
    assert weekly.schedule.next_after(monday_9, SHANGHAI) == \
        datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
    assert monthly.schedule.next_after(monday_9, SHANGHAI) == \
        datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)


def test_every_n_days_counts_from_its_start_in_site_time():
    plans = parse(plan('every_days = 14\nstart = "2026-11-23 10:00"'), "p.toml", ZONE)
    every = plans.plans[0].schedule
    at_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    assert every.next_after(at_10.replace(hour=9), SHANGHAI) == at_10
    assert every.next_after(at_10, SHANGHAI) == datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    assert every.next_after(datetime(2027, 1, 1, tzinfo=SHANGHAI), SHANGHAI) == \
        datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)


def test_an_unknown_site_is_refused_unless_the_registry_or_the_file_lists_it():
    text = plan('cron = "0 8 * * mon"', sites="")
    assert problems(text) == [
        "plans.toml:5: unknown site '一号园区': list it in `sites = [...]` at the top of this "
        "file or in the device registry (FRONTLINE_DEVICES_FILE)"]
    assert len(parse(text, "p.toml", ZONE, known_sites=("一号园区 ",))) == 1


@pytest.mark.parametrize(("cron", "reason"), [
    ("0 8 * *", "bad schedule cron '0 8 * *': Wrong number of fields; got 4, expected 5"),
    ("0 25 * * *", "bad schedule cron '0 25 * * *': Error validating expression '25'"),
    ("0 8 * * 1", "cron '0 8 * * 1': name the weekdays (mon-fri, sun)"),
    ("0 8 31 2 *", "cron '0 8 31 2 *' never comes due"),
])
def test_a_bad_schedule_is_refused_on_its_line(cron, reason):
    (problem,) = problems(plan(f'cron = "{cron}"'))
    assert problem.startswith(f"plans.toml:7: {reason}")


def test_bad_items_are_refused_on_the_line_of_the_key_at_fault():
    bad_range = ('[[plan.item]]\nkey = "v"\nkind = "number"\ntext = "电压"\nunit = "V"\n'
                 'min = 4.2\nmax = 3.0\n')
    assert problems(plan('cron = "0 8 * * mon"', bad_range)) == [
        "plans.toml:13: item 'v': bad range, min 4.2 is above max 3"]
    odd = '[[plan.item]]\nkey = "x"\nkind = "slider"\ntext = "?"\n'
    assert problems(plan('cron = "0 8 * * mon"', GOOD_ITEM + odd)) == [
        "plans.toml:14: item 'x': unknown kind 'slider'; use pass_fail, number, photo, text"]


def test_an_empty_checklist_a_twin_plan_and_an_unknown_key_are_each_reported():
    text = plan('cron = "0 8 * * mon"', items="") + (
        '\n[[plan]]\nkey = "q"\nname = "Q"\nsite = "一号园区"\ncron = "0 8 * * mon"\n'
        f'colour = "red"\n{GOOD_ITEM}'
        '\n[[plan]]\nkey = "q"\nname = "Q"\nsite = "一号园区"\ncron = "0 8 * * mon"\n'
        f'{GOOD_ITEM}')
    assert problems(text) == [
        "plans.toml:3: plan 'p' has an empty checklist: add [[plan.item]] tables",
        "plans.toml:14: unknown plan key 'colour'; keys: category, cron, every_days, "
        "finish_within_hours, grace_hours, item, key, name, plots, priority, site, skills, "
        "start, start_within_hours",
        # the first q was refused, so the second is not a twin of it
    ]


def test_a_plan_listed_twice_is_refused_with_the_first_line():
    one = plan('cron = "0 8 * * mon"')
    twice = one + one.replace('sites = ["一号园区"]\n', "")
    assert problems(twice) == ["plans.toml:14: plan 'p' is listed twice (first on line 3)"]


def test_the_settings_refuse_a_bad_plans_file_naming_its_line(tmp_path):
    bad = tmp_path / "plans.toml"
    bad.write_text(plan('cron = "0 8 * * mon"', sites=""), "utf-8")
    with pytest.raises(ValidationError) as caught:
        Settings(inspections_file=bad)
    assert f"{bad}:5: unknown site '一号园区'" in str(caught.value)

    registry = tmp_path / "devices.csv"
    registry.write_text("id,site\ngw-1,一号园区\n", "utf-8")
    s = Settings(inspections_file=bad, devices_file=registry)
    assert [p.key for p in s.inspection_plans] == ["p"]
    assert len(Settings(inspections_file="").inspection_plans) == 0
