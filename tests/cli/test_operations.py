"""Operations: graceful shutdown, JSON logs, backup and restore."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
from collections.abc import Callable, Iterator

import pytest

from bot import logs
from bot.cli import main
from handlers.core import logctx
from handlers.core.messages import Kind
from tests.cli.test_cli import db_url, run_a_fixed_job  # noqa: F401  (db_url: the fixture)
from tests.conftest import BACKENDS, PG_URL, _clean_postgres
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import settle


async def test_stopping_finishes_current_updates_and_flushes_the_outbox(app, channel, reporter):
    await app.receive(reporter.incoming(Kind.COMMAND, text="/help"))  # not delivered yet
    await app.stop()
    assert any("热线" in m.text for m in channel.to("r1"))


@pytest.fixture
def log_to() -> Iterator[Callable[[str, str], io.StringIO]]:
    """logs.configure into a string; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in logs.QUIET}

    def configure(fmt: str, level: str = "INFO") -> io.StringIO:
        out = io.StringIO()
        logs.configure(fmt, level, stream=out)
        return out

    yield configure
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_json_logs_are_one_object_a_line_with_ids_only(log_to):
    out = log_to("json")
    logging.getLogger("handlers.core.dispatch").warning(
        "duplicate %s update %s ignored", "web", "u1")
    with logctx.bind(update="web:u2", timer=7):
        logging.getLogger("handlers.core.dispatch").info("in a step")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "warning" and first["message"] == "duplicate web update u1 ignored"
    assert {"at", "logger"} <= set(first) and "update" not in first
    assert (second["update"], second["timer"]) == ("web:u2", "7")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_restores_every_ticket(backend, db_url, tmp_path, capsys, monkeypatch):  # noqa: F811
    url = db_url
    if backend == "postgres":
        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump is not installed")
        asyncio.run(_clean_postgres(PG_URL))
        monkeypatch.setenv("FRONTLINE_DATABASE_URL", PG_URL)
        url = PG_URL
    run_a_fixed_job(url, tmp_path)
    dump = tmp_path / "backup.dump"
    assert main(["db", "backup", str(dump)]) == 0

    if backend == "postgres":  # the database is lost
        asyncio.run(_clean_postgres(PG_URL))
    else:
        for name in ("cli.db", "cli.db-wal", "cli.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
    assert main(["db", "restore", str(dump)]) == 0
    capsys.readouterr()
    assert main(["tickets", "show", "FL-000001"]) == 0
    assert "更换电磁阀线圈" in capsys.readouterr().out
    assert main(["db", "restore", str(tmp_path / "missing.dump")]) == 1


def test_text_logs_append_the_ids_bound_where_the_line_was_logged(log_to):
    out = log_to("text")
    with logctx.bind(update="telegram:5"):
        logctx.set(ticket="FL-000001")
        logging.getLogger("handlers.x").info("ticket status new -> paged")
    logging.getLogger("handlers.x").info("no ids here")
    first, second = out.getvalue().splitlines()
    assert first.endswith("INFO handlers.x ticket status new -> paged "
                          "[ticket=FL-000001 update=telegram:5]")
    assert second.endswith("no ids here")  # the scope ended: its ids (and the ticket) too


async def test_concurrent_steps_each_log_their_own_ids(app, reporter, engineer, log_to):
    out = log_to("json")
    begun: list[str] = []
    both = asyncio.Event()

    async def step(inc):  # type: ignore[no-untyped-def]  # in place of a flow step
        log = logging.getLogger("handlers.test")
        log.info("step begins")
        logctx.ticket(1 if inc.user_id == "r1" else 2)
        begun.append(inc.update_id)
        if len(begun) == 2:
            both.set()
        await both.wait()  # both steps are half-way: their lines interleave
        log.info("step ends")

    app.desk._step = step
    one = reporter.incoming(Kind.TEXT, text="a")
    two = engineer.incoming(Kind.TEXT, text="b")
    await asyncio.gather(app.desk.handle(one), app.desk.handle(two))
    await app.desk.handle(reporter.incoming(Kind.TEXT, text="c"))  # the same task, in turn
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    steps = [e for e in lines if e["logger"] == "handlers.test"]
    assert [e["message"] for e in steps[:4]] == ["step begins"] * 2 + ["step ends"] * 2
    mine = {"r1": one.update_id, "e1": two.update_id}
    for e in steps[:4]:
        user = "r1" if e["update"] == f"fake:{one.update_id}" else "e1"
        assert e["update"] == f"fake:{mine[user]}"
        if e["message"] == "step ends":
            assert e["ticket"] == ("FL-000001" if user == "r1" else "FL-000002")
    third = steps[4:]
    assert third[0]["update"] != steps[0]["update"] and "ticket" not in third[0]
    assert logctx.current() == {}  # nothing left bound after a step


async def test_a_whole_ticket_life_logs_ticket_numbers_and_no_personal_data(
    app, clock, reporter, engineer, manager, log_to
):
    out = log_to("json", "DEBUG")
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("出发去现场")
    await engineer.presses("已到现场")
    await resolve(engineer)
    await reporter.says("/status")
    clock.advance(hours=49)  # nobody confirms: the fix is taken as confirmed (a timer)
    await app.sweeper.run_once()
    await settle(app)
    lines = out.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]

    secrets = ("李明", "张工", "陈经理", "13800000001", "13900000001", "电磁阀打不开",
               "不出水", "线圈老化", "更换电磁阀线圈", "每季度检查")
    for line in lines:
        assert not [s for s in secrets if s in line], line
    about_tickets = [e for e in entries if e["message"].startswith("ticket ")]
    assert {e["message"] for e in about_tickets} >= {
        "ticket status new -> paged", "ticket status paged -> acknowledged",
        "ticket status acknowledged -> in_progress", "ticket status in_progress -> resolved"}
    assert all(e.get("ticket") == "FL-000001" for e in about_tickets)
    assert all(e["update"].startswith("fake:") for e in about_tickets)
    fired = [e for e in entries if e["message"] == "timer fires: confirm_due"]
    assert fired and fired[0]["ticket"] == "FL-000001" and fired[0]["timer"].isdigit()
