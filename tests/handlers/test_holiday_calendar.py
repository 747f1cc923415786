"""The second policy's working calendar against the State Council's notices: a few days of
each listed year pinned (holidays and the weekend days worked instead, 调休上班), each year
with its source, and a calendar with a slip in it refused when it loads."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import handlers
from handlers.rules.sla import SlaPolicy

SECOND = Path(handlers.__file__).parent / "policies" / "major-urgent-general.toml"


@pytest.fixture(scope="module")
def policy() -> SlaPolicy:
    return SlaPolicy.load(SECOND)


# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
OFF_2026 = ["2026-01-01", "2026-01-02", "2026-02-16", "2026-02-20", "2026-02-23",
            "2026-04-06", "2026-05-04", "2026-05-05", "2026-06-19", "2026-09-25",
            "2026-10-01", "2026-10-06", "2026-10-07"]
WORKED_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
               "2026-10-10"]
# the days the shipped list once had wrong: 27 Sep is 中秋节 (a Sunday off), 9 Oct a Friday
ORDINARY_2026 = ["2026-09-28", "2026-10-08", "2026-10-09", "2026-01-05", "2026-02-24"]
# 2027: no notice yet; the law's own days (春节 is 5–8 Feb, not 16–19 Feb as once listed)
OFF_2027 = ["2027-01-01", "2027-02-05", "2027-02-08", "2027-04-05", "2027-06-09",
            "2027-09-15", "2027-10-01"]
ORDINARY_2027 = ["2027-02-16", "2027-02-17", "2027-02-18", "2027-02-19", "2027-02-04"]


@pytest.mark.parametrize("day", OFF_2026 + OFF_2027)
def test_holidays_are_days_off(policy, day):
    assert not policy.working.is_working_day(date.fromisoformat(day))


@pytest.mark.parametrize("day", WORKED_2026)
def test_the_weekend_days_worked_instead_count(policy, day):
    worked = date.fromisoformat(day)
    assert worked.weekday() >= 5 and policy.working.is_working_day(worked)


@pytest.mark.parametrize("day", ORDINARY_2026 + ORDINARY_2027)
def test_ordinary_weekdays_are_working_days(policy, day):
    assert policy.working.is_working_day(date.fromisoformat(day))


def test_a_weekend_that_was_wrongly_listed_as_worked_is_off(policy):
    assert not policy.working.is_working_day(date(2026, 9, 27))  # 中秋节, a Sunday
    assert not policy.working.is_working_day(date(2027, 2, 20))  # an ordinary Saturday


def test_every_year_names_the_notice_it_comes_from():
    years = tomllib.loads(SECOND.read_text("utf-8"))["working_hours"]["years"]
    assert set(years) == {"2026", "2027"}
    assert "国务院办公厅关于2026年部分节假日安排的通知" in years["2026"]["source"]
    assert "全国年节及纪念日放假办法" in years["2027"]["source"]


def test_three_working_days_over_the_spring_festival_of_2026(policy):
    # Fri 13 Feb 16:00 Shanghai; Sat 14 Feb is worked, then 15–23 Feb off: 14, 24, 25 Feb
    start = datetime(2026, 2, 13, 8, 0, tzinfo=UTC)
    assert policy.resolve_due("P3", start) == datetime(2026, 2, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("slip", "message"), [
    ('holidays = ["2026-05-01", "2025-12-31"]', "2025-12-31 is not in 2026"),
    ('workdays = ["2026-10-09"]', "not a Saturday or Sunday"),
    ('holidays = ["2026-10-10"]\nworkdays = ["2026-10-10"]', "both as a holiday"),
])
def test_a_calendar_with_a_slip_is_refused(slip, message):
    text = SECOND.read_text("utf-8")
    table = text.index("[working_hours.years.2026]")
    end = text.index("[working_hours.years.2027]")
    source = 'source = "a test"'
    broken = text[:table] + f"[working_hours.years.2026]\n{source}\n{slip}\n\n" + text[end:]
    with pytest.raises(ValueError, match=message):
        SlaPolicy.from_toml(broken)


def test_a_year_without_its_source_is_refused():
    text = SECOND.read_text("utf-8")
    start = text.index('source = "国务院办公厅')
    broken = text[:start] + text[text.index("\n", start) + 1:]
    with pytest.raises(ValueError, match=r"years\.2026: name the notice"):
        SlaPolicy.from_toml(broken)
