"""The `frontline` command line, run in-process against a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import build
from bot.cli import main
from bot.settings import Settings
from handlers.core.clock import FakeClock
from storage.models import Role, SelfServiceAttempt
from tests.conftest import Cast
from tests.handlers.test_ticket_life import report_uncovered_fault, resolve
from tests.support.fakes import FakeChannel, valve_kb


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", url)
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path / "files"))
    return url


def run_a_fixed_job(url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(database_url=url, channels="", files_dir=tmp_path / "files")
        channel = FakeChannel()
        fl = await build(settings, clock=FakeClock(), channels={"fake": channel}, kb=valve_kb())
        await fl.start(schedule=False)
        cast = Cast(fl, channel)
        reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
        engineer = await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"])
        manager = await cast.add("m1", "陈经理", Role.MANAGER)
        await report_uncovered_fault(reporter)  # no article covers it: a draft is offered
        await engineer.presses("接单")
        await resolve(engineer)
        await engineer.presses("保存为知识库草稿")
        await manager.says("/drafts")
        await manager.presses("批准（仅工程师参考）")
        await fl.stop()

    asyncio.run(scenario())


def test_db_upgrade_and_people_add_and_list(db_url, capsys):
    assert main(["db", "upgrade"]) == 0
    assert main(["people", "add", "--name", "张工", "--role", "engineer", "--site", "一号园区",
                 "--skills", "valve,pump", "--telegram", "1001", "--wecom", "zhanggong"]) == 0
    assert main(["people", "list"]) == 0
    out = capsys.readouterr().out
    assert "张工" in out and "valve,pump" in out
    assert "telegram:1001" in out and "wecom:zhanggong" in out


def test_people_add_refuses_an_unknown_role(db_url):
    with pytest.raises(SystemExit):
        main(["people", "add", "--name", "x", "--role", "boss"])


def test_tickets_list_show_and_report(db_url, tmp_path, capsys):
    run_a_fixed_job(db_url, tmp_path)
    capsys.readouterr()
    assert main(["tickets", "list"]) == 0
    assert "FL-000001" in capsys.readouterr().out
    assert main(["tickets", "show", "FL-000001"]) == 0
    shown = capsys.readouterr().out
    assert "accepted" in shown and "更换电磁阀线圈" in shown
    assert main(["tickets", "report", "FL-000001"]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# 故障处理报告 FL-000001") and "每季度检查线圈电阻" in report
    assert main(["tickets", "report", "FL-000001", "--lang", "en"]) == 0
    assert "# Fault report FL-000001" in capsys.readouterr().out
    assert main(["tickets", "show", "FL-000077"]) == 1


def test_kb_export_writes_approved_drafts_as_articles(db_url, tmp_path, capsys):
    from kb import KnowledgeBase

    run_a_fixed_job(db_url, tmp_path)
    out_dir = tmp_path / "exported"
    assert main(["kb", "export", str(out_dir)]) == 0
    kb = KnowledgeBase.load([out_dir])
    assert kb.problems == [] and kb.get("case-1") is not None
    assert "更换电磁阀线圈" in kb.get("case-1").body


def test_kb_stats_counts_articles_and_what_self_service_solved(db_url, tmp_path, capsys):
    run_a_fixed_job(db_url, tmp_path)
    capsys.readouterr()
    assert main(["kb", "stats"]) == 0
    out = capsys.readouterr().out
    count = int(out.splitlines()[0].split()[0])
    assert count >= 48 and "  valve        zh" in out
    assert "(1 from approved knowledge drafts)" in out.splitlines()[0]
    assert "self-service: 0 offers, 0 solved" in out  # the job's fault had no article

    async def offered_two_and_the_case_solved() -> None:
        engine = create_async_engine(db_url)
        async with AsyncSession(engine) as session:
            session.add(SelfServiceAttempt(person_id=1, query="杀虫灯不亮",
                                           article_ids=["valve-wont-open", "case-1"],
                                           outcome="solved", solved_article="case-1",
                                           at=datetime.now(UTC)))
            await session.commit()
        await engine.dispose()

    asyncio.run(offered_two_and_the_case_solved())
    assert main(["kb", "stats"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()
            if line.startswith(("valve-wont-open ", "case-1 "))}
    assert rows == {"valve-wont-open": ["1", "0"], "case-1": ["1", "1"]}


def test_kb_reload_signals_the_running_bot_through_its_pid_file(tmp_path, monkeypatch, capsys):
    import subprocess

    monkeypatch.setenv("FRONTLINE_PID_FILE", str(tmp_path / "frontline.pid"))
    assert main(["kb", "reload"]) == 1  # nothing running
    child = subprocess.Popen(["sleep", "30"])
    (tmp_path / "frontline.pid").write_text(str(child.pid))
    assert main(["kb", "reload"]) == 0
    assert child.wait(timeout=10) != 0  # SIGHUP reached it


async def test_a_reload_picks_up_a_changed_folder(tmp_path):
    from handlers.core.clock import FakeClock as Clock

    extra = tmp_path / "extra"
    extra.mkdir()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", channels="",
                        files_dir=tmp_path / "files", kb_dirs=str(extra))
    fl = await build(settings, clock=Clock())
    await fl.start(schedule=False)
    (extra / "lamp-new.md").write_text(
        "---\nid: lamp-new\ntitle: 杀虫灯灯管不亮怎么换\nlang: zh\ncategory: pest\n"
        "devices: [杀虫灯]\nsymptoms: [杀虫灯灯管坏了]\n---\n1. 关掉杀虫灯电源。\n2. 更换灯管。\n",
        encoding="utf-8")
    assert fl.kb.get("lamp-new") is None
    await fl.reload_kb()
    assert fl.kb.get("lamp-new") is not None
    await fl.stop()
