"""`frontline people add --role manager --site …` and `people list`: managers' sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    return url


def listed(capsys: pytest.CaptureFixture[str], name: str) -> str:
    assert main(["people", "list"]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if name in line)


def test_a_manager_gets_two_sites_by_repeating_site(db_url, capsys):
    assert main(["people", "add", "--name", "一号工", "--role", "engineer",
                 "--site", "一号园区"]) == 0
    capsys.readouterr()
    assert main(["people", "add", "--name", "北区经理", "--role", "manager",
                 "--site", "一号园区", "--site", "二号园区"]) == 0
    out = capsys.readouterr()
    assert "added person 2: 北区经理 (manager; 一号园区,二号园区)" in out.out
    assert "二号园区" in out.err and "check the spelling" in out.err  # nobody is there yet
    assert "一号园区'" not in out.err

    assert "manager     一号园区,二号园区" in listed(capsys, "北区经理")


def test_a_comma_list_and_all_sites(db_url, capsys):
    assert main(["people", "add", "--name", "南区经理", "--role", "manager",
                 "--site", "二号园区，三号园区"]) == 0
    assert main(["people", "add", "--name", "总经理", "--role", "manager",
                 "--site", "all"]) == 0
    assert main(["people", "add", "--name", "老经理", "--role", "manager"]) == 0
    capsys.readouterr()
    assert "二号园区,三号园区" in listed(capsys, "南区经理")
    assert "all sites" in listed(capsys, "总经理")
    assert "all sites" in listed(capsys, "老经理")


def test_a_coordinator_is_a_manager_with_a_title(db_url, capsys):
    assert main(["people", "add", "--name", "林协调", "--role", "coordinator",
                 "--site", "一号园区"]) == 0
    assert "(coordinator; 一号园区)" in capsys.readouterr().out
    assert "coordinator 一号园区" in listed(capsys, "林协调")


@pytest.mark.parametrize("args, reason", [
    (["--role", "manager", "--site", "一号园区,,二号园区"], "an empty site name"),
    (["--role", "manager", "--site", " "], "an empty site name"),
    (["--role", "manager", "--site", "all", "--site", "一号园区"], "cannot be combined"),
    (["--role", "manager", "--site", "园" * 101], "longer than 100 characters"),
    (["--role", "manager", "--site", "一号\x1b[31m园区"], "control or invisible characters"),
    (["--role", "engineer", "--site", "一号园区", "--site", "二号园区"], "works at one site"),
    (["--role", "reporter", "--site", "all"], "is for a manager or a coordinator"),
])
def test_sites_that_cannot_be_are_refused_with_the_reason(db_url, capsys, args, reason):
    assert main(["people", "add", "--name", "某人", *args]) == 2
    err = capsys.readouterr().err
    assert "\nfrontline people add: --site: " in err and reason in err
    assert "\x1b" not in err  # the terminal shows the escape, it does not act on it
    assert not Path(db_url.removeprefix("sqlite+aiosqlite:///")).exists()  # nothing written


def test_a_dashboard_link_for_a_managers_sites(db_url, capsys):
    assert main(["dashboard", "token", "--site", "一号园区"]) == 0
    assert "/dashboard/login?token=" in capsys.readouterr().out
    assert main(["dashboard", "token", "--site", ","]) == 2
    assert "--site: an empty site name" in capsys.readouterr().err
