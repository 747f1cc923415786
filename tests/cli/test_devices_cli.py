"""`frontline devices import|list`, run in-process against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    assert main(["db", "upgrade"]) == 0
    return url


def test_a_registry_is_imported_with_progress_and_listed(db_url, tmp_path, capsys):
    registry = tmp_path / "devices.csv"
    registry.write_text("id,name,type,site,plot,parent,heartbeat_minutes\n"
                        "gw-1,北坡网关,gateway,一号园区,B3,,10\n"
                        "soil-1,=HYPERLINK(\"x\"),sensor,一号园区,B3,gw-1,\n", "utf-8")
    assert main(["devices", "import", str(registry)]) == 0
    out = capsys.readouterr()
    assert "devices: 2 added, 0 updated" in out.out
    assert "2/2 (100 %)" in out.err and "left" in out.err

    assert main(["devices", "import", str(registry)]) == 0
    assert "0 added, 2 updated" in capsys.readouterr().out
    assert main(["devices", "list"]) == 0
    listed = capsys.readouterr().out
    assert "last heartbeat (Asia/Shanghai)" in listed
    assert "gw-1\t北坡网关\tgateway\t一号园区\tB3\t-\t10 min" in listed


def test_a_bad_registry_is_refused_with_file_line_and_reason(db_url, tmp_path, capsys):
    registry = tmp_path / "devices.csv"
    registry.write_text("id,parent\na,b\nb,a\n", "utf-8")
    assert main(["devices", "import", str(registry)]) == 2
    err = capsys.readouterr().err
    assert "devices.csv:2: 'a' is behind itself" in err
    assert main(["devices", "list"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header only: nothing was written
