"""Operations: graceful shutdown, JSON logs, backup and restore."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil

import pytest

from bot import logs
from bot.cli import main
from handlers.messages import Kind
from tests.cli.test_cli import db_url, run_a_fixed_job  # noqa: F401  (db_url: the fixture)
from tests.conftest import BACKENDS, PG_URL, _clean_postgres


async def test_stopping_finishes_current_updates_and_flushes_the_outbox(app, channel, reporter):
    await app.receive(reporter.incoming(Kind.COMMAND, text="/help"))  # not delivered yet
    await app.stop()
    assert any("热线" in m.text for m in channel.to("r1"))


def test_json_logs_are_one_object_a_line_with_ids_only(capsys):
    logs.configure("json")
    logging.getLogger("handlers.dispatch").warning("duplicate %s update %s ignored", "web", "u1")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["message"] == "duplicate web update u1 ignored"
    assert {"at", "logger"} <= set(entry)
    logs.configure("text")


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
