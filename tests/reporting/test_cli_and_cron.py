"""`frontline report`, `frontline dashboard token` and the report cron jobs."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import report_cli
from bot.dashboard import check_token, issue_token
from handlers.flows.reporting.period import PeriodError
from scheduler.cron import parse_daily, parse_weekly
from scheduler.jobs import schedule, table


def cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontline")
    report_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_the_commands_parse():
    args = cli().parse_args(["report", "--period", "2026-Q3", "--format", "json"])
    assert (args.period, args.format, args.charts) == ("2026-Q3", "json", None)
    args = cli().parse_args(["report", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert (args.date_from, args.date_to, args.format) == ("2026-11-01", "2026-11-30", "table")
    assert cli().parse_args(["dashboard", "token", "--minutes", "7"]).minutes == 7
    assert cli().parse_args(["dashboard", "revoke", "--all"]).all
    assert cli().parse_args(["dashboard", "revoke", "abc123def456"]).token == "abc123def456"


async def test_a_markdown_report_links_the_charts_it_wrote(app, settings, history, tmp_path):
    args = cli().parse_args(["report", "--period", "2026-10", "--format", "markdown",
                             "--charts", str(tmp_path / "out"), "--lang", "en"])
    text = await report_cli.report_text(settings, args, app.clock)
    assert "| Service timeliness (responses within SLA) | 75% (6/8, target 98%)" in text
    assert "![Faults by type](fault_types.png)" in text
    assert (tmp_path / "out" / "fault_types.png").read_bytes().startswith(b"\x89PNG")


async def test_json_from_dates(app, settings, history):
    args = cli().parse_args(["report", "--from", "2026-10-01", "--to", "2026-10-31",
                             "--format", "json"])
    data = json.loads(await report_cli.report_text(settings, args, app.clock))
    assert data["tickets"] == 10 and data["resolution"]["percent"] == 62.5


async def test_period_and_dates_together_are_refused(app, settings):
    args = cli().parse_args(["report", "--period", "2026-10", "--from", "2026-10-01"])
    with pytest.raises(PeriodError):
        await report_cli.report_text(settings, args, app.clock)


def test_a_dashboard_token_is_kept_only_as_a_hash(tmp_path):
    now = datetime(2026, 11, 23, tzinfo=UTC)
    token = issue_token(tmp_path, now, minutes=15)
    stored = (tmp_path / "dashboard_tokens").read_text()
    assert token not in stored and len(stored.split()[1]) == 64
    assert check_token(tmp_path, token, now)
    assert not check_token(tmp_path, token + "x", now)
    assert not check_token(tmp_path, token, datetime(2026, 11, 23, 0, 16, tzinfo=UTC))  # late
    assert not check_token(tmp_path / "nowhere", token, now)


def scheduled(digest: str = "08:00", weekly: str = "mon 08:00") -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def run(name: str) -> None: ...

    schedule(scheduler, table("Asia/Shanghai", digest, weekly), run)
    return scheduler


def test_report_jobs_fire_on_monday_and_each_quarter_at_eight_site_time():
    scheduler = scheduled()
    weekly, quarterly = scheduler.get_job("weekly"), scheduler.get_job("quarterly")
    after = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
    assert weekly.trigger.get_next_fire_time(None, after).astimezone(UTC) == \
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert quarterly.trigger.get_next_fire_time(None, after).astimezone(UTC) == \
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert weekly.coalesce and weekly.misfire_grace_time >= 6 * 3600
    assert weekly.args == ("weekly",) and quarterly.args == ("quarterly",)


def test_the_daily_digest_fires_every_morning_at_its_site_time():
    digest = scheduled(digest="07:30").get_job("digest")
    after = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: today's has run
    assert digest.trigger.get_next_fire_time(None, after).astimezone(UTC) == \
        datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert digest.coalesce and digest.args == ("digest",)


def test_an_empty_time_turns_its_jobs_off():
    assert [j.id for j in scheduled(digest="").get_jobs()] == ["weekly", "quarterly"]
    assert [j.id for j in scheduled(weekly="").get_jobs()] == ["digest"]


def test_the_times_are_configurable_and_checked():
    assert parse_weekly("fri 17:30") == ("fri", 17, 30)
    assert parse_weekly("Mon,Thu 08:30") == ("mon,thu", 8, 30)
    assert parse_daily("7:05") == (7, 5)
    for bad in ("monday", "mars 08:00", "mon 25:00"):
        with pytest.raises(ValueError, match="mon 08:00"):
            parse_weekly(bad)
    with pytest.raises(ValueError, match="08:00"):
        parse_daily("soon")
