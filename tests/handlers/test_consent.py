"""Consent before remote work: 远程处理 asks the engineer what will be done, the reporter says
同意 or 不同意 (button or words), nothing remote starts before 同意; silence gets one reminder,
then the engineer is told; the record shows in the fault report and `tickets show`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import handlers
from bot import ticket_text
from handlers.core.messages import FileRef
from handlers.flows.records.ticket_files import utc
from handlers.rules.sla import SlaPolicy
from storage import people
from storage.models import ChatIdentity, Progress, TicketEvent, TicketStatus, Timer
from tests.handlers.test_sla_and_escalation import events, tick, ticket
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import labels

PLAN = "远程重启3号地块网关"


async def remote_pressed(reporter, engineer) -> None:
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("远程处理")


async def asked(reporter, engineer, plan: str = PLAN) -> None:
    await remote_pressed(reporter, engineer)
    await engineer.says(plan)


async def test_remote_work_waits_for_the_reporters_yes(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    assert "请用一句话说明要做什么" in engineer.last().text
    assert (await ticket(app)).progress == ""  # nothing remote yet

    await engineer.says(f"  {PLAN}\n")

    request = reporter.last()
    assert "张工" in request.text and "FL-000001" in request.text
    assert f"「{PLAN}」" in request.text and labels(request) == ["同意", "不同意"]
    assert "已请 李明 同意远程操作" in engineer.last().text
    t = await ticket(app)
    assert t.status == TicketStatus.ACKNOWLEDGED and t.progress == ""

    await reporter.presses("同意")

    t = await ticket(app)
    assert t.status == TicketStatus.IN_PROGRESS and t.progress == Progress.REMOTE
    assert "已通知工程师开始远程操作" in reporter.last().text
    told = engineer.last()
    assert "李明 同意了，可以开始远程操作" in told.text and PLAN in told.text
    assert "已解决" in labels(told) and "远程处理" not in labels(told)
    given = await events(app, "consent_given")
    assert len(given) == 1 and given[0].actor_id == t.reporter_id
    assert given[0].details == {"n": 1}


async def test_no_tells_the_engineer_at_once_and_offers_going_on_site(app, reporter, engineer):
    await asked(reporter, engineer)

    await reporter.presses("不同意")

    assert "不进行远程操作" in reporter.last().text
    told = engineer.last()
    assert "李明 不同意远程操作" in told.text and labels(told) == ["出发去现场"]
    assert (await ticket(app)).progress == ""
    await engineer.presses("出发去现场")
    assert (await ticket(app)).progress == Progress.ON_THE_WAY
    assert "正在赶往现场" in reporter.last().text


@pytest.mark.parametrize(("typed", "remote"), [("同意。", True), ("不同意", False),
                                                ("Yes", True), ("no!", False)])
async def test_the_reporter_may_type_the_answer(app, reporter, engineer, typed, remote):
    await asked(reporter, engineer)

    await reporter.says(typed)

    assert ((await ticket(app)).progress == Progress.REMOTE) is remote
    assert len(await events(app, "consent_given" if remote else "consent_refused")) == 1
    assert engineer.heard("同意了" if remote else "不同意远程操作")


async def test_a_typed_yes_with_nothing_asked_is_not_taken_for_consent(app, reporter, engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")

    await reporter.says("同意")

    assert await events(app, "consent_given") == []
    assert (await ticket(app)).progress == ""


async def test_a_typed_yes_with_two_requests_waiting_asks_which(app, reporter, engineer):
    for n in (1, 2):
        await report_valve_fault(reporter)
        await engineer.presses("接单")
        await engineer.presses_data(f"t:{n}:remote")
        await engineer.says(f"远程检查 {n} 号网关")

    await reporter.says("同意")

    which = reporter.last()
    assert "多个远程操作申请" in which.text
    assert labels(which) == ["同意 FL-000001", "不同意 FL-000001",
                             "同意 FL-000002", "不同意 FL-000002"]
    await reporter.presses("同意 FL-000002")
    assert (await ticket(app, 2)).progress == Progress.REMOTE
    assert (await ticket(app, 1)).progress == ""


async def test_a_yes_that_answers_the_engineers_question_reaches_the_engineer(app, reporter,
                                                                             engineer):
    await asked(reporter, engineer)
    await reporter.presses("同意")
    await engineer.presses("询问报修人")
    await engineer.says("重启后阀门要全开，可以吗？")

    await reporter.says("同意")

    assert engineer.last().text == "李明 补充了工单 FL-000001：\n同意"
    assert len(await events(app, "note")) == 1  # taken as the answer, not as consent again


async def test_an_english_reporter_is_asked_in_english_and_may_say_yes(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    await reporter.says("/lang en")
    await engineer.says(PLAN)

    request = reporter.last()
    assert "Engineer 张工 asks to work on your system remotely (ticket FL-000001)" in request.text
    assert labels(request) == ["Agree", "Decline"]
    await reporter.says("yes")
    assert "The engineer has been told to start" in reporter.last().text
    assert (await ticket(app)).progress == Progress.REMOTE


async def test_only_the_reporter_may_answer(app, reporter, engineer, engineer2, manager):
    await asked(reporter, engineer)
    yes = reporter.button("同意")

    for someone in (engineer, engineer2, manager):
        await someone.presses_data(yes)
        assert someone.last().text == "只有工单 FL-000001 的报修人本人可以答复远程操作申请。"

    assert await events(app, "consent_given") == []
    assert (await ticket(app)).progress == ""


async def test_a_second_answer_is_told_it_was_answered_and_changes_nothing(app, reporter,
                                                                         engineer):
    await asked(reporter, engineer)
    no = reporter.button("不同意")
    await reporter.presses("同意")
    sent_to_engineer = len(engineer.inbox())

    await reporter.presses_data(no)
    assert "已于" in reporter.last().text and "答复（同意），不用再答" in reporter.last().text
    await reporter.says("同意")
    assert "答复（同意），不用再答" in reporter.last().text

    assert len(await events(app, "consent_given")) == 1
    assert await events(app, "consent_refused") == []
    assert len(engineer.inbox()) == sent_to_engineer


async def test_a_new_request_makes_the_older_buttons_stale(app, reporter, engineer):
    await asked(reporter, engineer, "远程改灌溉计划")
    old_yes = reporter.button("同意")
    await engineer.presses("远程处理")  # still offered: the reporter has not agreed
    await engineer.says(PLAN)

    first = next(m for m in reporter.inbox() if "远程改灌溉计划" in m.text)
    assert first.text.endswith("这个申请已被工程师的新申请代替。") and first.buttons == ()
    await reporter.presses_data(old_yes)
    assert "已被工程师的新申请代替" in reporter.last().text
    assert (await ticket(app)).progress == ""

    await reporter.presses("同意")
    assert PLAN in engineer.last().text and "同意了" in engineer.last().text
    assert [e.details["n"] for e in await events(app, "consent_given")] == [2]


async def test_an_answered_request_keeps_its_words_and_loses_its_buttons(app, clock, reporter,
                                                                        engineer):
    await asked(reporter, engineer)
    await tick(app, clock, minutes=30)  # the reminder carries the buttons too
    await reporter.presses("不同意")

    shown = [m for m in reporter.inbox() if PLAN in m.text]
    assert len(shown) == 2 and all(m.buttons == () for m in shown)
    assert shown[0].text.startswith("工程师 张工 申请远程操作您的系统（工单 FL-000001）")
    assert all("✗ 您已于" in m.text and "答复不同意" in m.text for m in shown)


async def test_forged_answers_get_a_clear_reply(app, reporter, engineer):
    await asked(reporter, engineer)

    await reporter.presses_data("t:1:cs_yes:7")  # a request that was never made
    assert "这个按钮无法识别" in reporter.last().text
    await reporter.presses_data("t:1:cs_yes:x")
    assert "这个按钮无法识别" in reporter.last().text
    await reporter.presses_data("t:99:cs_no:1")  # no such ticket
    assert "这个按钮无法识别" in reporter.last().text
    assert (await ticket(app)).progress == ""


async def test_the_plan_is_one_line_in_words(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    heard_before = len(reporter.inbox())

    await engineer.says("\u200b")
    assert "消息是空的" in engineer.last().text
    await engineer.says("好")
    assert "请写清楚一点" in engineer.last().text
    await engineer.says("重" * 201)
    assert engineer.last().text == "太长了（201 字）。请用一句话说明，200 字以内。"
    await engineer.sends_photo(FileRef("k1", "a.jpg", "image/jpeg", 10))
    assert "请用文字说明要远程做什么" in engineer.last().text
    assert len(reporter.inbox()) == heard_before  # nobody asked yet

    await engineer.says("重" * 200)
    assert "重" * 200 in reporter.last().text


async def test_cancel_leaves_the_plan_and_asks_nobody(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    heard_before = len(reporter.inbox())

    await engineer.says("/cancel")

    assert "没有向报修人申请远程操作" in engineer.last().text
    assert len(reporter.inbox()) == heard_before
    await engineer.says("远程重启网关")  # no longer a plan: the engineer has no dialogue
    assert await events(app, "consent_asked") == []


async def test_a_plan_typed_after_going_on_site_is_stale(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    await engineer.presses("出发去现场")

    await engineer.says(PLAN)

    assert "这个按钮已过期" in engineer.last().text
    assert await events(app, "consent_asked") == []


async def test_a_request_made_moot_by_going_on_site_is_void(app, clock, reporter, engineer):
    await asked(reporter, engineer)
    await engineer.presses("出发去现场")

    await reporter.presses("同意")
    assert "已不再需要远程操作" in reporter.last().text
    assert (await ticket(app)).progress == Progress.ON_THE_WAY

    before = len(reporter.inbox()), len(engineer.inbox())
    await tick(app, clock, minutes=30)
    await tick(app, clock, minutes=30)
    assert (len(reporter.inbox()), len(engineer.inbox())) == before  # no reminder, no notice


async def test_silence_gets_one_reminder_then_the_engineer_is_told(app, clock, reporter,
                                                                 engineer):
    await asked(reporter, engineer)
    reporter_heard = len(reporter.inbox())

    await tick(app, clock, minutes=29)
    assert len(reporter.inbox()) == reporter_heard
    await tick(app, clock, minutes=1)
    reminder = reporter.last()
    assert "再次打扰" in reminder.text and PLAN in reminder.text
    assert labels(reminder) == ["同意", "不同意"]
    await tick(app, clock, minutes=30)
    told = engineer.last()
    assert "60 分钟内没有答复" in told.text and labels(told) == ["出发去现场", "已电话征得同意"]
    await tick(app, clock, hours=5)
    assert len(reporter.inbox()) == reporter_heard + 1  # one reminder, never a second
    assert len(await events(app, "consent_lapsed")) == 1

    await reporter.presses("同意")  # a late yes still counts
    assert (await ticket(app)).progress == Progress.REMOTE


async def test_an_answer_stops_the_reminder(app, clock, reporter, engineer):
    await asked(reporter, engineer)
    await reporter.presses("同意")
    heard = len(reporter.inbox()), len(engineer.inbox())

    await tick(app, clock, minutes=30)
    await tick(app, clock, minutes=30)

    assert (len(reporter.inbox()), len(engineer.inbox())) == heard
    assert await events(app, "consent_reminded") == []


async def test_the_reminder_gap_is_configured(app, clock, reporter, engineer):
    app.desk.config = app.desk.config.model_copy(update={"consent_reminder_minutes": 5})
    await asked(reporter, engineer)
    assert "5 分钟内没有答复会再提醒一次" in engineer.last().text

    await tick(app, clock, minutes=5)
    assert "再次打扰" in reporter.last().text
    await tick(app, clock, minutes=5)
    assert "10 分钟内没有答复" in engineer.last().text


async def test_a_closed_job_reminds_nobody(app, clock, reporter, engineer):
    await asked(reporter, engineer)
    await resolve(engineer)
    heard = len(reporter.inbox())

    await tick(app, clock, minutes=30)
    await tick(app, clock, minutes=30)

    assert len(reporter.inbox()) == heard
    await reporter.presses("同意")
    assert "已不再需要远程操作" in reporter.last().text


async def test_the_sla_clock_keeps_running_while_waiting(app, reporter, engineer):
    await asked(reporter, engineer)

    t = await ticket(app)
    assert t.paused_at is None
    assert "解决时限继续计时" in engineer.last().text


async def test_a_policy_may_pause_the_clock_while_waiting_for_consent(app, clock, reporter,
                                                                    engineer, tmp_path):
    shipped = Path(handlers.__file__).parent / "policies" / "default.toml"
    policy = tmp_path / "consent.toml"
    policy.write_text(shipped.read_text("utf-8").replace("consent_pauses = false",
                                                         "consent_pauses = true"), "utf-8")
    app.desk.config = app.desk.config.model_copy(update={"sla_policy_file": policy})
    await asked(reporter, engineer)
    assert "等待同意期间，解决时限暂停计时" in engineer.last().text
    due = (await ticket(app)).resolve_due
    assert (await ticket(app)).paused_at is not None

    await tick(app, clock, hours=2)
    await reporter.presses("同意")

    t = await ticket(app)
    assert t.paused_at is None
    assert utc(t.resolve_due) == utc(due) + timedelta(hours=2)  # the wait was not counted


def test_a_policy_flag_that_is_not_true_or_false_is_refused():
    shipped = (Path(handlers.__file__).parent / "policies" / "default.toml").read_text("utf-8")
    assert SlaPolicy.from_toml(shipped).consent_pauses is False
    with pytest.raises(ValueError, match="consent_pauses must be true or false, not 'yes'"):
        SlaPolicy.from_toml(shipped.replace("consent_pauses = false", 'consent_pauses = "yes"'))


async def timers_due(app) -> list[str]:
    """The consent timers still pending."""
    async with app.db.transaction() as tx:
        rows = await tx.scalars(select(Timer).where(Timer.kind.startswith("consent_"),
                                                    Timer.state == "pending"))
        return [t.kind for t in rows]


async def unreachable(app) -> None:
    async with app.db.transaction() as tx:
        ident = (await tx.scalars(select(ChatIdentity).where(ChatIdentity.chat_id == "r1")))[0]
        ident.unreachable = True
        tx.add(ident)


async def test_a_reporter_who_cannot_be_reached_is_not_asked(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    await unreachable(app)

    await engineer.says(PLAN)

    told = engineer.last()
    assert "无法在聊天中收到消息" in told.text
    assert labels(told) == ["出发去现场", "已电话征得同意"]
    assert [e.details["unreachable"] for e in await events(app, "consent_asked")] == [True]
    assert (await ticket(app)).progress == ""
    assert (await timers_due(app)) == []  # nobody to remind


async def test_consent_got_by_phone_is_recorded_with_who_gave_it(app, clock, reporter, engineer,
                                                                 engineer2, manager):
    await remote_pressed(reporter, engineer)
    await unreachable(app)
    await engineer.says(PLAN)

    phone = engineer.button("已电话征得同意")
    await engineer2.presses_data(phone)  # not the engineer who asked
    assert "FL-000001" in engineer2.last().text and (await ticket(app)).progress == ""

    await engineer.presses("已电话征得同意")
    assert "谁在电话里同意" in engineer.last().text
    await engineer.sends_photo(FileRef("p1"))
    assert "姓名和电话" in engineer.last().text
    await engineer.says("王")
    assert "姓名和电话" in engineer.last().text
    await engineer.says("王场长 13800000000")

    assert "王场长 13800000000 电话同意" in engineer.last().text
    assert "已解决" in labels(engineer.last())
    t = await ticket(app)
    assert (t.status, t.progress) == (TicketStatus.IN_PROGRESS, Progress.REMOTE)
    [given] = await events(app, "consent_given")
    assert given.details == {"n": 1, "by_phone": "王场长 13800000000"}

    await engineer.presses_data(phone)  # pressed again
    assert "已于" in engineer.last().text  # already answered, nothing changes
    assert len(await events(app, "consent_given")) == 1

    await resolve(engineer)
    await tick(app, clock, hours=1)
    report = next(m.text for m in reversed(manager.inbox()) if "故障处理报告" in m.text)
    assert "王场长 13800000000 于" in report and "电话同意（张工 记录）" in report


async def test_after_silence_the_engineer_may_record_consent_by_phone(app, clock, reporter,
                                                                      engineer):
    await asked(reporter, engineer)
    await tick(app, clock, minutes=30)  # a reminder
    await tick(app, clock, minutes=30)  # then the engineer is told
    assert labels(engineer.last()) == ["出发去现场", "已电话征得同意"]

    old_yes = reporter.button("同意")
    await engineer.presses("已电话征得同意")
    await engineer.says("李明本人")

    assert (await ticket(app)).progress == Progress.REMOTE
    noted = reporter.last().text  # the reporter sees what was recorded in their place
    asked_msgs = [m for m in reporter.inbox() if PLAN in m.text and m is not reporter.last()]
    assert asked_msgs and all(m.buttons == () and "李明本人 已于" in m.text for m in asked_msgs)
    assert "张工 记录：李明本人 已电话同意" in noted and "FL-000001" in noted
    await reporter.presses_data(old_yes)  # pressed on a screen not yet updated: answered
    assert "已于" in reporter.last().text
    assert len(await events(app, "consent_given")) == 1


async def test_cancel_while_typing_who_agreed_records_nothing(app, reporter, engineer):
    await remote_pressed(reporter, engineer)
    await unreachable(app)
    await engineer.says(PLAN)
    await engineer.presses("已电话征得同意")
    await engineer.says("/cancel")

    assert await events(app, "consent_given") == []
    assert (await ticket(app)).progress == ""
    await engineer.presses("已电话征得同意")  # may still record it later
    assert "谁在电话里同意" in engineer.last().text


async def test_the_fault_report_and_tickets_show_carry_the_consent(app, clock, reporter,
                                                                   engineer, manager):
    asked_at = clock.now()
    await asked(reporter, engineer, "远程改<b>参数</b>")
    clock.advance(minutes=5)
    said_at = clock.now()
    await reporter.presses("同意")
    await resolve(engineer)
    await tick(app, clock, hours=1)  # the managers' report may wait for the parts question

    report = next(m.text for m in reversed(manager.inbox()) if "故障处理报告" in m.text)
    section = report.split("【远程操作】\n")[1].split("\n\n")[0]
    assert section == f"张工 申请「远程改<b>参数</b>」，李明 于 {when(said_at)} 同意"
    assert f"{when(asked_at)} 张工：申请远程操作" in report  # the timeline
    assert f"{when(said_at)} 李明：同意远程操作" in report

    t = await ticket(app)
    async with app.db.transaction() as tx:
        trail = await tx.scalars(select(TicketEvent).where(TicketEvent.ticket_id == 1)
                                 .order_by(TicketEvent.at, TicketEvent.id))
        names = {p.id: p.name for p in await people.people(tx)}
    shown = ticket_text.show(t, trail, names, ZoneInfo("Asia/Shanghai"))
    assert (f"remote consent #1: 张工 asked {local(asked_at)} «远程改<b>参数</b>»; "
            f"李明 agreed {local(said_at)}") in shown


def when(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m月%d日 %H:%M")


def local(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
