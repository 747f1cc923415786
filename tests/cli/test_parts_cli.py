"""Spare parts on the command line: `frontline tickets show|report` list a job's parts, and
`frontline report` has a parts table for the period in every format (CSV cells made safe)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from pathlib import Path

from bot import report_cli
from bot.bootstrap import build
from bot.cli import main
from bot.settings import Settings
from handlers.core.clock import FakeClock
from storage.models import Role
from tests.cli.test_cli import db_url  # noqa: F401  (the fixture: a SQLite file for main())
from tests.conftest import Cast
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.fakes import FakeChannel, valve_kb


async def resolve_with_parts(reporter, engineer, *parts: tuple[str, str]) -> None:
    """A valve job resolved, with (typed part, typed quantity) recorded, then 完成."""
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("已解决")
    await engineer.presses("通讯线路或硬件故障")
    for text in ("线圈老化烧坏", "更换电磁阀", "每季度检查线圈电阻"):
        await engineer.says(text)
    for i, (part, quantity) in enumerate(parts):
        if i:
            await engineer.presses("添加")
        await engineer.says(part)
        await engineer.says(quantity)
    await engineer.presses("完成" if parts else "没有用备件")


def report_args(*extra: str, period: str = "2026-11") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="frontline")
    report_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["report", "--period", period, *extra])


def test_tickets_show_and_the_fault_report_list_the_parts(db_url, tmp_path, capsys):  # noqa: F811
    async def scenario() -> None:
        settings = Settings(database_url=db_url, channels="", files_dir=tmp_path / "files")
        channel = FakeChannel()
        fl = await build(settings, clock=FakeClock(), channels={"fake": channel}, kb=valve_kb())
        await fl.start(schedule=False)
        cast = Cast(fl, channel)
        reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
        engineer = await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"])
        await resolve_with_parts(reporter, engineer, ("SV_DN32", "2"), ("滴灌管 16mm", "15"))
        await fl.stop()

    asyncio.run(scenario())
    capsys.readouterr()

    assert main(["tickets", "show", "FL-000001"]) == 0
    shown = capsys.readouterr().out
    assert "parts used: 2\n  SV_DN32         2 pcs   电磁阀 DN32 / Solenoid valve DN32\n" in shown
    assert "  DRIP_PIPE      15 m     滴灌管 16mm / Drip pipe 16 mm" in shown
    assert "parts_used" in shown  # the audit trail has each recording
    assert main(["tickets", "report", "FL-000001"]) == 0
    report = capsys.readouterr().out
    assert ("## 更换备件\n- 电磁阀 DN32（SV\\_DN32）× 2 个\n"
            "- 滴灌管 16mm（DRIP\\_PIPE）× 15 米") in report
    assert main(["tickets", "report", "FL-000001", "--lang", "en"]) == 0
    assert "- Drip pipe 16 mm (DRIP\\_PIPE) × 15 m" in capsys.readouterr().out


async def test_the_period_report_has_a_parts_table_in_every_format(
    app, settings, reporter, engineer, manager
):
    await resolve_with_parts(reporter, engineer, ("SV_DN32", "2"), ("滴灌管 16mm", "15"))
    await resolve_with_parts(reporter, engineer, ("电磁阀 DN32", "1"))
    await resolve_with_parts(reporter, engineer)  # none used: not in the table

    table = await report_cli.report_text(settings, report_args(), app.clock)
    lines = [" ".join(line.split()) for line in table.splitlines()]
    assert lines[-3:] == ["更换备件 2 种备件", "备件 电磁阀 DN32（SV_DN32） 3 个，2 张工单",
                          "备件 滴灌管 16mm（DRIP_PIPE） 15 米，1 张工单"]  # most jobs first
    english = await report_cli.report_text(settings, report_args("--lang", "en"), app.clock)
    assert "Part Solenoid valve DN32 (SV_DN32) 3 pcs, 2 jobs" in " ".join(english.split())

    rows = list(csv.reader(io.StringIO(
        await report_cli.report_text(settings, report_args("--format", "csv"), app.clock))))
    assert ["parts", "SV_DN32.quantity", "3"] in rows and ["parts", "SV_DN32.tickets", "2"] in rows
    assert ["parts", "DRIP_PIPE.unit", "m"] in rows
    data = json.loads(
        await report_cli.report_text(settings, report_args("--format", "json"), app.clock))
    assert data["parts"]["DRIP_PIPE"] == {"code": "DRIP_PIPE", "name": "滴灌管 16mm",
                                          "name_en": "Drip pipe 16 mm", "unit": "m",
                                          "quantity": 15, "tickets": 1}
    empty = await report_cli.report_text(settings, report_args(period="2026-10"), app.clock)
    assert "更换备件" not in empty

    await manager.says("/report 2026-11")
    assert "备件 电磁阀 DN32（SV_DN32）：3 个，2 张工单" in manager.last().text


async def test_a_part_name_a_spreadsheet_would_run_is_quoted_in_the_csv(
    app, settings, reporter, engineer, tmp_path: Path
):
    listed = tmp_path / "parts.toml"
    listed.write_text('[[part]]\ncode = "EVIL"\nname_zh = "=HYPERLINK(\\"x\\")"\n'
                      'name_en = "+cmd"\nunit = "pcs"\n', "utf-8")
    app.desk.config = app.desk.config.model_copy(update={"parts_file": listed})
    await resolve_with_parts(reporter, engineer, ("EVIL", "1"))

    rows = list(csv.reader(io.StringIO(
        await report_cli.report_text(settings, report_args("--format", "csv"), app.clock))))
    assert ["parts", "EVIL.name", "'=HYPERLINK(\"x\")"] in rows
    assert ["parts", "EVIL.name_en", "'+cmd"] in rows
