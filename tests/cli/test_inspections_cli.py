"""`frontline inspections list|show|report` (and the figures in `frontline report`), run
in-process against the database a chat round was just written to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from tests.handlers.test_inspections import PHOTO, PLANS, due
from tests.handlers.test_sla_and_escalation import tick


@pytest.fixture
def settings(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    plans = tmp_path / "inspections.toml"
    plans.write_text(PLANS, "utf-8")
    return settings.model_copy(update={"inspections_file": plans})


@pytest.fixture
def env(app, settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FRONTLINE_INSPECTIONS_FILE", str(settings.inspections_file))
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(settings.files_dir))
    return app


async def cli(*argv: str) -> int:
    """The command as a person runs it (its own event loop, in a thread beside the desk's)."""
    return await asyncio.to_thread(main, list(argv))


async def a_round_with_a_finding(app, clock, engineer) -> None:  # type: ignore[no-untyped-def]
    await due(app, clock)
    await engineer.presses("开始")
    await engineer.presses("正常")
    await engineer.says("0.05")
    await engineer.sends_photo(PHOTO)
    await engineer.presses("跳过")


async def test_list_shows_each_plan_and_when_it_is_next_due(env, clock, engineer, capsys):
    await a_round_with_a_finding(env, clock, engineer)
    assert await cli("inspections", "list") == 0
    out = capsys.readouterr().out
    assert "next due (Asia/Shanghai)" in out
    assert "irrigation\t灌溉巡检\t一号园区\tevery 1 days from 2026-11-23 10:00\tirrigation\t4\t" \
           "2026-11-24 10:00" in out


async def test_show_lists_every_reading_and_the_ticket_a_finding_opened(env, clock, engineer,
                                                                        capsys):
    await a_round_with_a_finding(env, clock, engineer)
    assert await cli("inspections", "show", "1") == 0
    out = capsys.readouterr().out
    assert out.startswith("round 1: 灌溉巡检 (irrigation) at 一号园区\nstate: done, 4/4 items")
    assert "engineer: 张工" in out and "(times in Asia/Shanghai)" in out
    assert "主管道水压\tnumber\t0.05 MPa\tNO\tFL-000001" in out
    assert "过滤器照片\tphoto\tphoto filter.jpg\tyes\t-" in out
    assert "其他情况\ttext\t(skipped)\tyes\t-" in out

    assert await cli("inspections", "show", "99") == 1
    assert "no inspection round 99" in capsys.readouterr().err


async def test_report_counts_done_missed_and_faults_per_plan_in_a_table_or_csv(env, clock,
                                                                               engineer, capsys):
    await a_round_with_a_finding(env, clock, engineer)
    await tick(env, clock, days=2)  # the next day's round was missed
    assert await cli("inspections", "report", "--period", "2026-11") == 0
    out = capsys.readouterr().out
    assert out.startswith("inspections 2026-11: 2026-11-01 .. 2026-11-30 (Asia/Shanghai)\n"
                          "plan\tname\tdue\tdone\tlate\tmissed\topen\tfaults\ttickets\n")
    assert "irrigation\t灌溉巡检\t3\t1\t0\t1\t1\t1\t1\n" in out
    assert await cli("inspections", "report", "--period", "2026-11", "--format", "csv") == 0
    assert "all,,3,1,0,1,1,1,1" in capsys.readouterr().out
    assert await cli("inspections", "report", "--period", "2026-13") == 2
    assert "frontline inspections report:" in capsys.readouterr().err

    assert await cli("report", "--period", "2026-11", "--format", "csv") == 0
    csv_out = capsys.readouterr().out
    assert "inspections,done,1" in csv_out and "inspections,plans.irrigation.missed,1" in csv_out


def test_a_bad_plans_file_stops_the_command_with_its_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "plans.toml"
    bad.write_text(PLANS.replace('sites = ["一号园区"]', ""), "utf-8")
    monkeypatch.setenv("FRONTLINE_INSPECTIONS_FILE", str(bad))
    assert main(["inspections", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("FRONTLINE_INSPECTIONS_FILE: the inspection plans have problems:\n"
                          f"{bad}:7: unknown site '一号园区'")
