"""Periods as people type them, turned into UTC bounds in the site's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.flows.reporting import period

SH = "Asia/Shanghai"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_quarter_in_shanghai_starts_at_four_pm_utc_the_day_before():
    q3 = period.parse("2026-Q3", SH)
    assert (q3.label, q3.start, q3.end) == ("2026-Q3", utc(2026, 6, 30, 16), utc(2026, 9, 30, 16))


def test_a_month_an_iso_week_and_a_day():
    assert period.parse("2026-11", SH).start == utc(2026, 10, 31, 16)
    assert period.parse("2026-12", "UTC").end == utc(2027, 1, 1)
    w47 = period.parse("2026-W47", SH)
    assert (w47.first_day.isoformat(), w47.last_day.isoformat()) == ("2026-11-16", "2026-11-22")
    day = period.parse("2026-11-23", SH)
    assert (day.start, day.end) == (utc(2026, 11, 22, 16), utc(2026, 11, 23, 16))


def test_from_and_to_are_both_inclusive_days():
    span = period.between("2026-11-01", "2026-11-30", SH)
    assert span.start == utc(2026, 10, 31, 16) and span.end == utc(2026, 11, 30, 16)
    assert span.contains(utc(2026, 11, 30, 15, 59)) and not span.contains(span.end)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "2026-W54", "yesterday", ""])
def test_nonsense_is_refused_with_the_forms_we_know(text):
    with pytest.raises(period.PeriodError):
        period.parse(text, SH)


def test_a_backwards_range_is_refused():
    with pytest.raises(period.PeriodError):
        period.between("2026-11-30", "2026-11-01", SH)


def test_the_periods_the_scheduled_reports_cover():
    monday_morning = utc(2026, 11, 23, 1)  # 09:00 on Monday in Shanghai
    assert period.previous_week(monday_morning, SH).label == "2026-W47"
    assert period.month_to_date(monday_morning, SH).label == "2026-11"
    assert period.previous_quarter(monday_morning, SH).label == "2026-Q3"
    assert period.previous_quarter(utc(2027, 1, 1, 1), SH).label == "2026-Q4"


def test_weeks_for_the_charts_start_on_monday():
    starts = period.week_starts(period.parse("2026-11", SH))
    assert [d.isoformat() for d in starts] == [
        "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
