"""After the fix: confirmation, the 24-hour follow-up, the survey, complaints, drafts, records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import Complaint, KbDraft, Ticket, TicketEvent, TicketStatus
from tests.handlers.test_sla_and_escalation import events, tick, ticket
from tests.handlers.test_ticket_life import report_uncovered_fault, report_valve_fault, resolve


async def fixed_job(reporter, engineer) -> None:
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)


async def test_no_answer_to_the_fix_is_taken_as_confirmed_after_48_hours(app, clock, reporter,
                                                                       engineer):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=47)
    assert (await ticket(app)).confirmed_at is None
    await tick(app, clock, hours=1)
    assert (await ticket(app)).confirmed_at is not None
    assert len(await events(app, "auto_confirmed")) == 1


async def test_the_follow_up_asks_about_recurrence_then_the_score_then_closes(
    app, clock, reporter, engineer
):
    await fixed_job(reporter, engineer)
    await reporter.presses("已解决")
    await tick(app, clock, hours=24)
    assert "问题有没有再出现" in reporter.last().text

    await reporter.presses("没有复发")
    assert "打分" in reporter.last().text
    await reporter.presses("5 非常满意")
    assert "还有什么想对我们说的" in reporter.last().text
    await reporter.says("张工很专业")

    t = await ticket(app)
    assert t.status == TicketStatus.CLOSED and t.satisfaction == 5
    assert t.survey_state == "answered"
    assert (await events(app, "survey_comment"))[0].details["text"] == "张工很专业"
    assert "已关闭" in reporter.last().text


async def test_a_recurrence_reopens_the_original_ticket_one_level_higher(
    app, clock, reporter, engineer, manager
):
    await fixed_job(reporter, engineer)  # P3
    await tick(app, clock, hours=24)
    await reporter.presses("又出现了")

    t = await ticket(app)
    assert t.status == TicketStatus.REOPENED and t.priority == "P2" and t.recurrences == 1
    assert "P2 重要" in reporter.last().text
    assert manager.heard("故障复发") and engineer.heard("【复发】")
    assert "已解决" in [b.label for row in engineer.last().buttons for b in row]


async def test_silence_gets_one_reminder_then_no_response_and_never_a_third_message(
    app, clock, reporter, engineer
):
    await fixed_job(reporter, engineer)
    await reporter.presses("已解决")
    before = len(reporter.inbox())
    await tick(app, clock, hours=24)
    await tick(app, clock, hours=4)
    assert "再次打扰" in reporter.last().text
    await tick(app, clock, hours=4)
    await tick(app, clock, hours=48)

    assert len(reporter.inbox()) - before == 2  # the question and one reminder
    t = await ticket(app)
    assert t.survey_state == "no_response" and t.status == TicketStatus.CLOSED


async def test_a_follow_up_due_in_quiet_hours_waits_until_the_morning(app, clock, reporter,
                                                                    engineer):
    clock.set(datetime(2026, 11, 23, 13, 30, tzinfo=UTC))  # 21:30 in Shanghai
    await fixed_job(reporter, engineer)
    before = len(reporter.inbox())
    await tick(app, clock, hours=24)  # 21:30 the next evening: quiet
    assert len(reporter.inbox()) == before
    await tick(app, clock, hours=10, minutes=29)  # 07:59
    assert len(reporter.inbox()) == before
    await tick(app, clock, minutes=1)  # 08:00
    assert "问题有没有再出现" in reporter.last().text


async def test_a_low_score_alerts_the_manager_at_once_with_the_history(app, clock, reporter,
                                                                      engineer, manager):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    await reporter.presses("2 不满意")
    alert = manager.last().text
    assert "低分评价" in alert and "2/5" in alert and "接单" in alert


async def test_a_survey_answered_twice_or_by_someone_else_is_refused_politely(
    app, clock, cast, reporter, engineer
):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    score_button = reporter.button("4 满意")
    await engineer.presses_data(score_button)
    assert "只有报修人本人" in engineer.last().text

    await reporter.presses_data(score_button)
    await reporter.presses_data(score_button)
    assert "已经评价过了" in reporter.last().text
    assert len(await events(app, "survey")) == 1


async def test_a_complaint_reaches_the_manager_with_its_clock(app, clock, reporter, engineer,
                                                             manager):
    await report_valve_fault(reporter)
    await reporter.says("投诉")
    await reporter.presses("关于 FL-000001")
    await reporter.says("工程师一直不来")
    assert "C-00001" in reporter.last().text and "受理" in reporter.last().text
    to_manager = manager.last()
    assert "【投诉】C-00001" in to_manager.text and "工程师一直不来" in to_manager.text

    await tick(app, clock, hours=18)  # 75 % of the 24 h to acknowledge: 03:00 on site
    assert "还未受理" not in manager.last().text  # quiet hours: it waits for the morning
    await tick(app, clock, hours=5)  # 08:00
    assert "还未受理" in manager.last().text
    await manager.presses("受理")
    assert "陈经理 受理" in reporter.last().text
    assert [b.label for row in manager.last().buttons for b in row] == ["办结"]  # no reload
    await manager.presses("办结")
    await manager.says("已安排张工今天到场，并对延误致歉")
    assert "已安排张工今天到场" in reporter.last().text
    async with app.db.transaction() as tx:
        c = (await tx.scalars(select(Complaint)))[0]
    assert c.state == "resolved" and c.ticket_id == 1
    assert len(await events(app, "complaint")) == 1


async def test_a_complaint_nobody_acknowledges_is_reported_overdue(app, clock, reporter,
                                                                   manager):
    await reporter.says("/complain")
    await reporter.presses("对服务整体")
    await reporter.says("电话总是打不通")
    await tick(app, clock, hours=23)
    assert not manager.heard("【投诉超时】")

    await tick(app, clock, hours=1)  # 24 h: 09:00 on site

    assert "【投诉超时】投诉 C-00001 已超过受理时限" in manager.last().text


async def test_a_complaint_about_the_service_by_command(app, reporter, manager):
    await reporter.says("/complain")
    await reporter.presses("对服务整体")
    await reporter.says("电话总是打不通")
    assert manager.heard("服务整体")


async def test_a_draft_is_offered_approved_and_found_by_the_next_search(app, clock, cast,
                                                                       reporter, engineer,
                                                                       manager):
    await report_uncovered_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)
    await engineer.presses("保存为知识库草稿")
    assert manager.heard("/drafts")

    await manager.says("/drafts")
    assert "杀虫灯晚上不亮" in manager.last().text
    await manager.presses("批准，报修人可自助")
    assert "会推荐给报修人自助" in manager.last().text

    other = await cast.add("r2", "周八", "reporter", site="二号园区")
    await other.says("杀虫灯晚上不亮")
    assert other.heard("《杀虫灯晚上不亮》")
    async with app.db.transaction() as tx:
        draft = (await tx.scalars(select(KbDraft)))[0]
    assert (draft.state, draft.reporter_safe) == ("approved", True)


async def test_a_draft_approved_for_staff_only_is_not_offered_to_reporters(
    app, cast, reporter, engineer, manager
):
    await report_uncovered_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)
    await engineer.presses("保存为知识库草稿")
    await manager.says("/drafts")
    await manager.presses("批准（仅工程师参考）")
    assert "不会推荐给报修人" in manager.last().text

    other = await cast.add("r2", "周八", "reporter", site="二号园区")
    await other.says("杀虫灯晚上不亮")
    assert not other.heard("《杀虫灯晚上不亮》")
    assert other.last().text == "影响范围有多大？"  # straight to the form


async def test_approved_drafts_survive_a_restart(app, settings, clock, channel, reporter,
                                                 engineer, manager):
    from bot.bootstrap import build
    from tests.support.fakes import FakeKB

    await report_uncovered_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)
    await engineer.presses("保存为知识库草稿")
    await manager.says("/drafts")
    await manager.presses("批准（仅工程师参考）")

    fresh = FakeKB()
    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=fresh)
    await fl.start(schedule=False)
    await fl.stop()
    assert fresh.get("case-1") is not None


async def test_attachments_are_purged_30_days_after_closing_and_the_record_kept(
    app, clock, reporter, engineer
):
    ref = await app.files.save(b"\xff\xd8jpeg", "valve.jpg", "image/jpeg")
    await reporter.says("电磁阀打不开")
    await reporter.sends_photo(ref)
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    await engineer.presses("接单")
    await resolve(engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    await reporter.presses("5 非常满意")
    await reporter.presses("不用了")
    assert app.files.path(ref.key).exists()

    await tick(app, clock, days=30)
    t = await ticket(app)
    assert t.attachments == [] and t.description.startswith("电磁阀打不开")
    assert not app.files.path(ref.key).exists()
    async with app.db.transaction() as tx:
        purged = await tx.scalars(
            select(TicketEvent).where(TicketEvent.kind == "attachments_purged")
        )
    assert purged[0].details["count"] == 1


async def test_the_fault_report_shows_each_deadline_met_or_missed(app, clock, reporter, engineer,
                                                                 manager):
    await report_valve_fault(reporter)
    clock.advance(hours=9)  # the response deadline (8 h) is missed
    await engineer.presses("接单")
    await resolve(engineer)
    report = manager.last().text
    assert "故障处理报告 FL-000001" in report
    assert "响应：超时" in report and "解决：达标" in report
    assert "每季度检查线圈电阻" in report
    assert manager.last().files and manager.last().files[0].mime == "application/pdf"
    assert app.files.path(manager.last().files[0].key).read_bytes().startswith(b"%PDF")


async def test_a_ticket_stays_resolved_until_the_follow_up(app, reporter, engineer):
    await fixed_job(reporter, engineer)
    await reporter.presses("已解决")
    await reporter.presses("已解决")
    assert "已经确认过了" in reporter.last().text
    assert (await ticket(app)).status == TicketStatus.RESOLVED
    async with app.db.transaction() as tx:
        assert await tx.get(Ticket, 1) is not None


async def test_a_reporter_who_never_scores_still_sees_the_job_closed(app, clock, reporter,
                                                                    engineer):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    assert "打分" in reporter.last().text
    asked = len(reporter.inbox())

    await tick(app, clock, hours=4)

    t = await ticket(app)
    assert t.status == TicketStatus.CLOSED and t.survey_state == "no_response"
    assert len(reporter.inbox()) == asked  # closed quietly: no third follow-up message


async def test_a_score_without_the_optional_comment_closes_as_answered(app, clock, reporter,
                                                                      engineer):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    await reporter.presses("4 满意")

    await tick(app, clock, hours=4)

    t = await ticket(app)
    assert (t.status, t.survey_state, t.satisfaction) == (TicketStatus.CLOSED, "answered", 4)


async def test_a_low_score_comment_reaches_the_managers(app, clock, reporter, engineer, manager):
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    await reporter.presses("1 非常不满意")
    assert manager.heard("【低分评价】")

    await reporter.says("等了三天才来人")

    assert "【低分评价·留言】工单 FL-000001（1/5，报修人：李明）留言：\n等了三天才来人" in \
        manager.last().text


async def test_the_thanks_names_the_configured_follow_up_delay(app, reporter, engineer):
    app.desk.config = app.desk.config.model_copy(update={"followup_delay_hours": 6})
    await fixed_job(reporter, engineer)

    await reporter.presses("已解决")

    assert "我们会在6小时后回访" in reporter.last().text


async def test_an_answered_fix_question_cannot_reopen_the_job(app, reporter, engineer):
    await fixed_job(reporter, engineer)
    await reporter.presses("已解决")

    await reporter.presses("还没好")  # the same message's other button, pressed afterwards

    assert reporter.last().text == "工单 FL-000001 已经确认过了，谢谢。"
    assert (await ticket(app)).status == TicketStatus.RESOLVED


async def test_an_earlier_rounds_not_fixed_button_is_stale_after_a_second_fix(app, clock,
                                                                            reporter, engineer):
    await fixed_job(reporter, engineer)
    first_round = reporter.button("还没好")
    await reporter.presses_data(first_round)  # reopened
    await engineer.presses("出发去现场")
    clock.advance(minutes=5)
    await resolve(engineer)  # resolved again: a new question

    await reporter.presses_data(first_round)

    assert "已过期" in reporter.last().text
    assert (await ticket(app)).status == TicketStatus.RESOLVED


async def test_the_record_is_kept_five_calendar_years_across_a_leap_day(app, clock, reporter,
                                                                       engineer):
    clock.set(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))  # five years on spans 29 Feb 2028
    await fixed_job(reporter, engineer)
    await tick(app, clock, hours=24)
    await reporter.presses("没有复发")
    await reporter.presses("5 非常满意")
    await reporter.presses("不用了")
    closed_at = (await ticket(app)).closed_at

    clock.set(closed_at.replace(year=closed_at.year + 5) - timedelta(days=1))  # 1826 days on
    await tick(app, clock, minutes=1)
    assert await ticket(app) is not None
    clock.set(closed_at.replace(year=closed_at.year + 5))
    await tick(app, clock, minutes=1)
    assert await ticket(app) is None


async def test_a_job_that_never_closes_is_still_removed_after_the_retention_period(
    app, clock, reporter
):
    await report_valve_fault(reporter)  # nobody takes it, nobody closes it
    opened = (await ticket(app)).created_at

    clock.set(opened.replace(year=opened.year + 5))
    await tick(app, clock, minutes=1)

    assert await ticket(app) is None
