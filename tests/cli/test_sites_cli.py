"""Sites on the command line: `frontline report --site …` (one site's figures, in every format)
and `frontline people scope` (a manager's or coordinator's sites and title, changed later).

The October history (tests/reporting/history.py) has six tickets at 一号园区 and four at
二号园区; the commands run in-process against the app's database, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.cli import main
from storage import people
from storage.models import Person, Role
from tests.reporting.history import seed


@pytest.fixture
def env(app, settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(settings.files_dir))
    return app


@pytest.fixture
async def history(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return await seed(app.db)


async def cli(*argv: str) -> int:
    """The command as a person runs it (its own event loop, in a thread beside the desk's)."""
    return await asyncio.to_thread(main, list(argv))


async def report(capsys, *extra: str, fmt: str = "json") -> str:  # type: ignore[no-untyped-def]
    assert await cli("report", "--period", "2026-10", "--format", fmt, *extra) == 0
    return str(capsys.readouterr().out)


# --- frontline report --site ---------------------------------------------------------------

async def test_a_report_for_one_site_counts_only_that_sites_tickets(env, history, capsys):
    one = json.loads(await report(capsys, "--site", "一号园区"))
    assert (one["sites"], one["tickets"], one["by_site"]) == (["一号园区"], 6, {"一号园区": 6})
    two = json.loads(await report(capsys, "--site", "二号园区"))
    assert (two["tickets"], two["by_site"]) == (4, {"二号园区": 4})


async def test_several_sites_repeated_or_in_a_list_and_all(env, history, capsys):
    repeated = json.loads(await report(capsys, "--site", "一号园区", "--site", "二号园区"))
    listed = json.loads(await report(capsys, "--site", "一号园区、二号园区"))
    assert repeated["sites"] == listed["sites"] == ["一号园区", "二号园区"]
    assert repeated["tickets"] == listed["tickets"] == 10
    every = json.loads(await report(capsys, "--site", "all"))
    assert every["tickets"] == 10 and "sites" not in every  # the report of every site, as before


async def test_the_table_says_which_site_it_is_about_in_the_readers_language(env, history,
                                                                          capsys):
    zh = (await report(capsys, "--site", " 一号园区 ", fmt="table")).splitlines()
    assert zh[0] == "园区：一号园区" and zh[1].startswith("服务报表 2026-10")
    en = await report(capsys, "--site", "一号园区", "--lang", "en", fmt="table")
    assert en.startswith("Sites: 一号园区\n")
    md = (await report(capsys, "--site", "二号园区", fmt="markdown")).splitlines()
    assert md[0].startswith("# 服务报表 2026-10") and md[2] == "园区：二号园区"


async def test_csv_names_the_sites_and_counts_only_theirs(env, history, capsys):
    rows = list(csv.reader(io.StringIO(await report(capsys, "--site", "二号园区", fmt="csv"))))
    assert rows[:2] == [["section", "key", "value"], ["scope", "sites.0", "二号园区"]]
    assert ["tickets", "", "4"] in rows
    assert not any("一号园区" in cell for row in rows for cell in row)


async def test_a_site_a_spreadsheet_would_run_is_quoted_in_the_csv(env, cast, capsys):
    await cast.add("r9", "某人", Role.REPORTER, site="=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(
        await report(capsys, "--site", "=HYPERLINK(\"http://x\")", fmt="csv"))))
    assert rows[1] == ["scope", "sites.0", "'=HYPERLINK(\"http://x\")"]


async def test_an_unknown_site_is_refused_naming_the_known_ones(env, history, capsys):
    assert await cli("report", "--period", "2026-10", "--site", "三号园区") == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "frontline report: --site: no site '三号园区'; the sites known are 一号园区, 二号园区" \
        in out.err
    assert await cli("report", "--period", "2026-10", "--site", "一号园区,,") == 2
    assert "--site: an empty site name" in capsys.readouterr().err
    assert await cli("report", "--period", "2026-10", "--site", "all,一号园区") == 2
    assert "cannot be combined" in capsys.readouterr().err


async def test_a_site_with_control_characters_never_reaches_the_terminal(env, history, capsys):
    assert await cli("report", "--period", "2026-10", "--site", "一号\x1b[2J园区") == 2
    err = capsys.readouterr().err
    assert "control or invisible characters" in err and "\x1b" not in err


# --- frontline people scope ----------------------------------------------------------------

async def staff(cast) -> None:  # type: ignore[no-untyped-def]
    await cast.add("e1", "张工", Role.ENGINEER, site="一号园区", phone="13900000001")  # id 1
    await cast.add("m1", "北区经理", Role.MANAGER, site="一号园区", scope=["一号园区"],
                   phone="+86 138-0013-8000")  # id 2
    await cast.add("r1", "李明", Role.REPORTER, site="二号园区", phone="2")  # id 3: phone "2"


async def person(app, person_id: int) -> Person:  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        found = (await tx.scalars(select(Person).where(col(Person.id) == person_id)))[0]
        assert isinstance(found, Person)
        return found


async def listed(capsys, name: str) -> str:  # type: ignore[no-untyped-def]
    assert await cli("people", "list") == 0
    return next(line for line in capsys.readouterr().out.splitlines() if name in line)


async def test_a_manager_found_by_phone_is_given_two_sites(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "13800138000", "--site", "一号园区,二号园区") == 0
    out = capsys.readouterr()
    assert ("person 2: 北区经理 (manager; 一号园区,二号园区); was (manager; 一号园区)"
            in out.out)
    assert "note" not in out.err  # both sites have people already
    assert "manager     一号园区,二号园区" in await listed(capsys, "北区经理")
    async with env.db.transaction() as tx:  # notices of 二号园区 now reach them
        assert [m.name for m in await people.managers_for(tx, "二号园区")] == ["北区经理"]


async def test_every_site_by_id_keeps_where_they_work(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "id:2", "--site", "all") == 0
    assert "(manager; all sites); was (manager; 一号园区)" in capsys.readouterr().out
    changed = await person(env, 2)
    assert (changed.scope, changed.site) == ([], "一号园区")
    assert await cli("people", "scope", "#2", "--site", "全部") == 0
    assert "(manager; all sites) (unchanged)" in capsys.readouterr().out


async def test_a_manager_becomes_a_coordinator_and_back(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "id:2", "--title", "coordinator") == 0
    assert "(coordinator; 一号园区); was (manager; 一号园区)" in capsys.readouterr().out
    assert "coordinator 一号园区" in await listed(capsys, "北区经理")
    assert (await person(env, 2)).role == Role.MANAGER  # same rights: a title, not a role
    assert await cli("people", "scope", "id:2", "--title", "manager", "--site", "二号园区") == 0
    assert "(manager; 二号园区); was (coordinator; 一号园区)" in capsys.readouterr().out


async def test_a_new_site_is_allowed_with_a_note(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "id:2", "--site", "三号园区") == 0
    out = capsys.readouterr()
    assert "(manager; 三号园区)" in out.out
    assert "no one and nothing is at site '三号园区' yet; check the spelling" in out.err


async def test_only_a_manager_has_sites_to_change(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "13900000001", "--site", "二号园区") == 2
    err = capsys.readouterr().err
    assert ("frontline people scope: 张工 (id 1) has the role engineer: only a manager or a "
            "coordinator looks after sites (nothing changed)") in err
    assert await cli("people", "scope", "1", "--title", "coordinator") == 2
    capsys.readouterr()
    engineer = await person(env, 1)
    assert (engineer.site, engineer.scope, engineer.title) == ("一号园区", [], "")


async def test_who_is_meant_must_be_one_person(env, cast, capsys):
    await staff(cast)
    assert await cli("people", "scope", "99", "--site", "all") == 1
    assert "no one has the id or phone '99'; see `frontline people list`" in \
        capsys.readouterr().err
    # "2" is 北区经理's id and 李明's phone: refused, and `id:2` says which
    assert await cli("people", "scope", "2", "--site", "all") == 2
    assert "'2' names more than one person (id 2 北区经理; id 3 李明): give `id:N`" in \
        capsys.readouterr().err
    assert (await person(env, 2)).scope == ["一号园区"]


@pytest.mark.parametrize("args, reason", [
    ([], "say what to change: --site … (or --site all) and/or --title"),
    (["--site", "一号园区,,二号园区"], "--site: an empty site name"),
    (["--site", "all", "--site", "一号园区"], "cannot be combined"),
    (["--site", "一号\x1b[31m园区"], "control or invisible characters"),
    (["--site", "园" * 101], "longer than 100 characters"),
])
async def test_what_cannot_be_done_is_refused_with_the_reason(env, cast, capsys, args, reason):
    await staff(cast)
    assert await cli("people", "scope", "id:2", *args) == 2
    err = capsys.readouterr().err
    assert "frontline people scope: " in err and reason in err and "\x1b" not in err
    assert (await person(env, 2)).scope == ["一号园区"]  # nothing written


async def test_an_unknown_title_is_a_usage_error(env, cast):
    with pytest.raises(SystemExit):
        await cli("people", "scope", "2", "--title", "boss")
