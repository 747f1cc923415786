"""After the fix: the reporter reads a short plain summary that ends with the confirm buttons;
the service managers (and the archive) get the full report in chat and as a PDF that shows
Chinese."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fpdf.errors import FPDFException
from sqlalchemy import select

import handlers
from handlers.core.messages import Kind
from handlers.flows.records import report_doc, report_pdf
from storage.models import Person, Role, TicketEvent
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import labels

PDFTOTEXT = shutil.which("pdftotext")


async def a_job_with_a_visit(app, clock, reporter, engineer, *, photo: bool = True) -> None:
    """Reported with a photo and a location; accepted, set off, on site, one question, fixed."""
    await reporter.says("3号地块电磁阀打不开，不出水")
    if photo:
        ref = await app.files.save(b"\xff\xd8" + b"j" * 2046, "valve.jpg", "image/jpeg")
        await reporter.sends_photo(ref)
        await reporter.send(reporter.incoming(Kind.LOCATION, location=(22.5431, 114.0579)))
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    clock.advance(minutes=20)
    await engineer.presses("接单")
    clock.advance(minutes=10)  # 09:30 site time
    await engineer.presses("出发去现场")
    clock.advance(minutes=40)  # 10:10
    await engineer.presses("已到现场")
    clock.advance(minutes=5)
    await engineer.presses("询问报修人")
    await engineer.says("阀门在哪一排？")
    await reporter.says("第三排")
    clock.advance(minutes=30)  # 10:45
    await resolve(engineer)


def pdf_of(app, msg) -> bytes:
    assert msg.files, "the report came without its file"
    return app.files.path(msg.files[0].key).read_bytes()


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    src = tmp_path / "report.pdf"
    src.write_bytes(data)
    return subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(src), "-"], check=True,
                          capture_output=True, text=True).stdout


async def test_the_reporter_reads_a_short_summary_that_ends_with_the_confirm_buttons(
    app, clock, reporter, engineer, manager
):
    before = len(reporter.inbox())
    await a_job_with_a_visit(app, clock, reporter, engineer)
    after_fix = reporter.inbox()[before:][-1:]

    summary = reporter.last()
    assert after_fix == [summary] and labels(summary) == ["已解决", "还没好"]
    assert summary.text == (
        "工单 FL-000001 已处理完毕。\n故障类型：通讯线路或硬件故障\n原因：线圈老化烧坏\n"
        "处理：更换电磁阀线圈\n处理人：张工，11月23日 10:45\n问题解决了吗？")
    assert not summary.files
    for msg in reporter.inbox():
        assert not re.search(r"(?m)^#", msg.text) and "状态 →" not in msg.text
        assert "故障处理报告" not in msg.text


async def test_a_long_cause_is_shortened_for_the_reporter_and_kept_whole_for_managers(
    app, reporter, engineer, manager
):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    long_cause = "线圈老化" * 100
    await resolve(engineer, record=(long_cause, "更换电磁阀线圈", "无"))

    cause_line = next(line for line in reporter.last().text.splitlines()
                      if line.startswith("原因："))
    assert len(cause_line) <= 3 + 200 and cause_line.endswith("…")
    assert labels(reporter.last()) == ["已解决", "还没好"]
    assert long_cause in manager.last().text


async def test_the_managers_report_shows_set_off_and_arrival_once_each_with_their_times(
    app, clock, reporter, engineer, manager
):
    await a_job_with_a_visit(app, clock, reporter, engineer)

    report = manager.last().text
    assert report.startswith("故障处理报告 FL-000001（荔枝智慧果园）\n时间均为 Asia/Shanghai 时间")
    assert "状态 →" not in report and not re.search(r"(?m)^#", report)
    timeline = report.split("【处理时间线】\n")[1].split("\n\n")[0].splitlines()
    assert timeline == [
        "11月23日 09:00 李明：登记工单",
        "11月23日 09:00 系统：派单给 张工，等待接单",
        "11月23日 09:20 张工：接单",
        "11月23日 09:30 张工：出发",
        "11月23日 10:10 张工：到场",
        "11月23日 10:15 张工：询问报修人：阀门在哪一排？",
        "11月23日 10:15 李明：补充：第三排",
        "11月23日 10:45 张工：处理完毕，等待报修人确认",
    ]
    # the default policy promises no visit: the arrival is still shown, with its time
    assert "到场：11月23日 10:10 已到场（本级别无到场时限）" in report
    assert "响应：达标（11月23日 09:20，时限 11月23日 17:00）" in report


async def test_an_on_site_deadline_is_judged_against_the_recorded_arrival(
    app, clock, reporter, engineer, manager
):
    policy = Path(handlers.__file__).parent / "policies" / "major-urgent-general.toml"
    app.desk.config = app.desk.config.model_copy(update={"sla_policy_file": policy})

    await a_job_with_a_visit(app, clock, reporter, engineer, photo=False)

    assert "到场：达标（11月23日 10:10，时限 11月23日 17:00）" in manager.last().text


async def test_attachments_are_listed_with_kind_size_time_and_a_map_link(
    app, clock, reporter, engineer, manager, tmp_path
):
    await a_job_with_a_visit(app, clock, reporter, engineer)

    report = manager.last().text
    attached = report.split("【附件】\n")[1].split("\n\n")[0].splitlines()
    assert attached == [
        "照片 valve.jpg（2.0 KB），11月23日 09:00",
        "位置 22.54310, 114.05790，11月23日 09:00：https://www.openstreetmap.org/"
        "?mlat=22.54310&mlon=114.05790#map=17/22.54310/114.05790",
    ]
    assert "valve.jpg" in pdf_text(pdf_of(app, manager.last()), tmp_path)


async def test_no_attachments_says_so(app, clock, reporter, engineer, manager):
    await a_job_with_a_visit(app, clock, reporter, engineer, photo=False)

    assert "【附件】\n无" in manager.last().text


async def test_the_pdf_embeds_a_chinese_font_and_holds_the_whole_report(
    app, clock, reporter, engineer, manager, tmp_path
):
    await a_job_with_a_visit(app, clock, reporter, engineer)

    msg = manager.last()
    assert msg.files[0].mime == "application/pdf"
    assert msg.files[0].name == "FL-000001-故障处理报告.pdf"
    assert "完整报告见 PDF 文件 FL-000001-故障处理报告.pdf。" in msg.text
    data = pdf_of(app, msg)
    assert data.startswith(b"%PDF") and b"NotoSansCJKSC" in data  # embedded, not the viewer's
    text = pdf_text(data, tmp_path)
    assert "故障处理报告 FL-000001" in text and "3号地块电磁阀打不开，不出水" in text
    assert "张工：到场" in text and "每季度检查线圈电阻" in text


async def test_each_manager_reads_the_report_in_their_language_and_the_archive_keeps_both(
    app, clock, cast, reporter, engineer, manager, tmp_path
):
    await cast.add("m2", "Grace", Role.MANAGER, language="en")
    grace = cast.user("m2")

    await a_job_with_a_visit(app, clock, reporter, engineer)

    en = grace.last()
    assert en.text.startswith("Fault report FL-000001") and "set off" in en.text
    assert en.files[0].name == "FL-000001-fault-report.pdf"
    assert "Fault report FL-000001" in pdf_text(pdf_of(app, en), tmp_path)
    async with app.db.transaction() as tx:
        sent = (await tx.scalars(select(TicketEvent).where(TicketEvent.kind == "report_sent")))
    kept = sent[0].details["files"]
    assert sorted(f["lang"] for f in kept) == ["en", "zh"]
    assert all(app.files.path(f["key"]).read_bytes().startswith(b"%PDF") for f in kept)


async def test_the_report_is_archived_even_when_no_manager_is_registered(
    app, clock, reporter, engineer
):
    await a_job_with_a_visit(app, clock, reporter, engineer)

    async with app.db.transaction() as tx:
        sent = (await tx.scalars(select(TicketEvent).where(TicketEvent.kind == "report_sent")))
    (only,) = sent[0].details["files"]
    assert only["lang"] == "zh" and app.files.path(only["key"]).exists()


async def test_when_the_pdf_cannot_be_drawn_the_report_and_the_question_still_go_out(
    app, clock, reporter, engineer, manager, monkeypatch
):
    def broken(doc, lang):
        raise FPDFException("cannot lay out")

    monkeypatch.setattr(report_pdf, "render", broken)

    await a_job_with_a_visit(app, clock, reporter, engineer)

    assert manager.last().text.startswith("故障处理报告 FL-000001") and not manager.last().files
    assert "PDF" not in manager.last().text
    assert labels(reporter.last()) == ["已解决", "还没好"]


async def test_peoples_control_characters_never_reach_the_pdf(app, reporter, engineer,
                                                             manager, tmp_path):
    async with app.db.transaction() as tx:
        me = await tx.get(Person, 1)
        me.name = "李明\x1b[2J\u202e"
        tx.add(me)
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer, record=("线圈\x07烧坏", "换线圈\r\n再测试", "无"))

    data = pdf_of(app, manager.last())
    assert b"\x1b" not in data.split(b"stream")[0]
    text = pdf_text(data, tmp_path)
    assert "线圈烧坏" in text and "换线圈" in text and "\x1b" not in text


def test_a_long_report_is_cut_after_a_whole_line_for_chat():
    text = "\n".join(f"第{i}行" + "内容" * 20 for i in range(200))
    cut = report_doc.fit(text, 3500, "……（见 PDF）")
    assert len(cut) <= 3500 and cut.endswith("\n……（见 PDF）")
    assert cut.removesuffix("……（见 PDF）") == text[: len(cut) - len("……（见 PDF）")]
    assert report_doc.fit("短", 3500, "…") == "短"


def test_the_english_pdf_wraps_words_and_shows_chinese_names(tmp_path):
    doc = report_doc.Report("Fault report FL-000009 (荔枝智慧果园)", "All times in Asia/Shanghai",
                            (report_doc.Section("Cause", ("Engineer: 张工",),
                                                "word " * 300),))
    data = report_pdf.render(doc, "en")
    text = pdf_text(data, tmp_path)
    assert "Fault report FL-000009 (荔枝智慧果园)" in text and "Engineer: 张工" in text
    assert "wor\nd" not in text
