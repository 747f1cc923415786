"""Which database `frontline` reads: the demo's when nothing else is set up, one clear line
when there is none; times in the site's zone, marked; attachments in `tickets show`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import cli_database
from bot.bootstrap import build
from bot.cli import main
from bot.settings import Settings
from handlers.core.clock import FakeClock
from handlers.core.messages import Kind
from storage.models import Role
from tests.conftest import Cast
from tests.handlers.test_ticket_life import resolve
from tests.support.fakes import FakeChannel, valve_kb


def a_fixed_job_with_attachments(path: Path, files: Path) -> None:
    """What `make demo` leaves behind: a ticket reported with a photo and a location, fixed
    (created 09:00 site time: 01:00 UTC)."""
    async def scenario() -> None:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", channels="",
                            files_dir=files)
        channel, clock = FakeChannel(), FakeClock()
        fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
        await fl.start(schedule=False)
        cast = Cast(fl, channel)
        reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
        engineer = await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"])
        await cast.add("m1", "陈经理", Role.MANAGER)
        photo = await fl.files.save(b"\xff\xd8" + b"j" * 1022, "valve.jpg", "image/jpeg")
        await reporter.says("3号地块电磁阀打不开")
        await reporter.sends_photo(photo)
        await reporter.send(reporter.incoming(Kind.LOCATION, location=(22.5431, 114.0579)))
        await reporter.presses("没解决，报修")
        await reporter.presses("单个设备")
        await reporter.presses("确认提交")
        clock.advance(minutes=30)
        await engineer.presses("接单")
        await resolve(engineer)
        await fl.stop()

    asyncio.run(scenario())


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with no configuration: run from its folder, FRONTLINE_DATABASE_URL unset."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("FRONTLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setattr(cli_database, "CHECKOUT", folder)
    return folder


@pytest.fixture
def demo(checkout: Path, tmp_path: Path) -> Path:
    path = checkout / cli_database.DEMO_DB
    a_fixed_job_with_attachments(path, tmp_path / "files")
    return path


def test_the_demo_database_is_found_and_named(demo, checkout, capsys):
    assert main(["tickets", "list"]) == 0

    out, err = capsys.readouterr()
    assert "FL-000001" in out and "3号地块电磁阀打不开" in out
    assert err.splitlines() == [
        f"frontline: database {demo} (the demo's: FRONTLINE_DATABASE_URL is not set and "
        "frontline.db does not exist)"]
    assert not (checkout / "frontline.db").exists()  # reading never makes an empty database


def test_the_demo_database_is_found_from_another_folder(demo, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert main(["people", "list"]) == 0

    out, err = capsys.readouterr()
    assert "张工" in out and f"database {demo} (the demo's" in err


def test_an_empty_default_database_does_not_hide_the_demo(demo, checkout, capsys):
    (checkout / "frontline.db").write_bytes(b"")

    assert main(["tickets", "show", "FL-000001"]) == 0

    assert "frontline.db has no frontline tables" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["tickets", "list"], ["people", "list"],
                                     ["tickets", "show", "FL-000001"], ["kb", "stats"],
                                     ["report", "--period", "2026-11"]])
def test_with_no_database_anywhere_one_line_says_so(checkout, capsys, command):
    assert main(command) == 1

    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and len(err.splitlines()) == 1
    assert "no database to read" in err and str(checkout / "frontline.db") in err
    assert "FRONTLINE_DATABASE_URL" in err and "frontline-demo.db" in err
    assert not (checkout / "frontline.db").exists()


def test_a_configured_database_without_tables_is_one_line(checkout, tmp_path, monkeypatch,
                                                           capsys):
    empty = tmp_path / "empty.db"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", f"sqlite+aiosqlite:///{empty}")

    assert main(["tickets", "list"]) == 1

    err = capsys.readouterr().err
    assert err == (f"frontline: FRONTLINE_DATABASE_URL names {empty}, which does not exist; "
                   "run `frontline db upgrade` or set FRONTLINE_DATABASE_URL to choose one\n")


def test_a_database_server_that_does_not_answer_is_one_line_without_the_password(
    checkout, monkeypatch, capsys
):
    monkeypatch.setenv("FRONTLINE_DATABASE_URL",
                       "postgresql+asyncpg://desk:s3cret@127.0.0.1:1/frontline")

    assert main(["tickets", "list"]) == 1

    err = capsys.readouterr().err
    assert "s3cret" not in err and "Traceback" not in err
    assert err.splitlines()[0] == ("frontline: database postgresql+asyncpg://desk:***@"
                                   "127.0.0.1:1/frontline (FRONTLINE_DATABASE_URL)")
    assert err.splitlines()[1].startswith("frontline: the database postgresql+asyncpg://desk:***@"
                                          "127.0.0.1:1/frontline could not be read (")
    assert len(err.splitlines()) == 2


def test_a_command_that_adds_uses_the_demo_database_too(demo, checkout, capsys):
    assert main(["people", "add", "--name", "王工", "--role", "engineer"]) == 0

    assert f"database {demo} (the demo's" in capsys.readouterr().err
    assert main(["people", "list"]) == 0
    assert "王工" in capsys.readouterr().out


def test_db_upgrade_makes_the_default_database_and_says_which(checkout, capsys):
    assert main(["db", "upgrade"]) == 0

    err = capsys.readouterr().err
    assert f"database {checkout / 'frontline.db'} (the default)" in err
    assert (checkout / "frontline.db").exists()


def test_times_are_in_site_time_and_marked_with_the_zone(demo, capsys):
    assert main(["tickets", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "times in Asia/Shanghai"
    assert "2026-11-23 09:00" in out[2]  # created at 01:00 UTC

    assert main(["tickets", "show", "FL-000001"]) == 0
    shown = capsys.readouterr().out
    assert "times in Asia/Shanghai" in shown and "created 2026-11-23 09:00" in shown
    assert "responded 2026-11-23 09:30" in shown and "Z " not in shown


def test_tickets_show_lists_the_attachments_the_location_and_the_report(demo, capsys):
    assert main(["tickets", "show", "FL-000001"]) == 0

    out = capsys.readouterr().out
    assert "attachments: 1\n" in out
    assert "  photo  valve.jpg  1.0 KB  2026-11-23 09:00" in out
    assert ("  location 22.54310, 114.05790  2026-11-23 09:00  https://www.openstreetmap.org/"
            "?mlat=22.54310&mlon=114.05790#map=17/22.54310/114.05790") in out
    assert "  report FL-000001-故障处理报告.pdf (zh)" in out


def test_tickets_report_writes_the_pdf_when_asked(demo, tmp_path, capsys):
    pdf = tmp_path / "out.pdf"

    assert main(["tickets", "report", "FL-000001", "--pdf", str(pdf)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("# 故障处理报告 FL-000001") and "## 附件" in out
    assert "- 照片 valve.jpg（1.0 KB），11月23日 09:00" in out
    assert pdf.read_bytes().startswith(b"%PDF")
