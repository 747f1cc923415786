"""Reports in chat: /report for managers, refused for reporters, the scheduled summaries."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.chat import settle


async def test_a_manager_asks_for_a_month_in_chat(history, manager):
    await manager.says("/report 2026-10")
    text = manager.last().text
    assert text.startswith("服务报表 2026-10（荔枝智慧果园）")
    assert "服务及时率（按时响应）：75%（6/8，目标 98%）✗ 未达标" in text
    assert "故障解决率（按时解决）：62.5%（5/8，目标 95%）✗ 未达标" in text
    assert "客户满意度（4–5 分占比）：60%（3/5，目标 90%）✗ 未达标" in text


async def test_without_a_period_the_report_is_this_month_so_far(history, manager):
    await manager.says("/report")
    assert manager.last().text.startswith("服务报表 2026-11")
    assert "本期没有工单" not in manager.last().text  # T10 opened on 1 November


async def test_a_manager_gets_the_fault_classification_on_demand(history, manager):
    await manager.says("/report faults 2026-Q4")
    text = manager.last().text
    assert text.startswith("季度故障分类统计 2026-Q4")
    assert "2 次 · 通讯线路或硬件故障 · 线圈烧坏" in text
    assert "2 次 · 一号园区 / 3号阀" in text
    assert "3 次 · valve-wont-open" in text


async def test_a_bad_period_gets_the_forms_we_understand(manager):
    await manager.says("/report last-year")
    assert "看不懂这个时间段：last-year" in manager.last().text


async def test_a_reporter_may_not_see_reports(history, reporter):
    await reporter.says("/report 2026-10")
    assert reporter.last().text == "抱歉，您没有权限做这个操作。"


async def test_the_weekly_summary_reaches_the_manager_once(app, history, manager, reporter):
    # the clock says Monday 23 November, 09:00 in Shanghai
    await app.jobs.run("weekly")
    await app.jobs.run("weekly")  # a second replica, or a retry: the same outbox keys
    await settle(app)
    summaries = [m for m in manager.inbox() if m.text.startswith("每周服务小结 2026-W47")]
    assert len(summaries) == 1
    assert "本期没有工单" in summaries[0].text  # October's history is not last week's
    assert reporter.inbox() == []


async def test_the_weekly_summary_carries_charts_when_there_is_something(app, history, manager):
    app.clock.set(datetime(2026, 10, 12, 1, tzinfo=UTC))  # covers 5–11 October
    await app.jobs.run("weekly")
    await settle(app)
    summary = manager.last()
    assert summary.text.startswith("每周服务小结 2026-W41")
    assert "工单数：5" in summary.text
    assert [f.mime for f in summary.files] == ["image/png", "image/png"]
    assert (await app.files.read(summary.files[0].key)).startswith(b"\x89PNG")


async def test_the_quarterly_classification_goes_to_the_manager(app, history, manager):
    app.clock.set(datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
    await app.jobs.run("quarterly")
    await settle(app)
    assert manager.last().text.startswith("季度故障分类统计 2026-Q4")


async def test_this_months_report_counts_what_the_named_month_counts(app, clock, reporter,
                                                                    engineer, manager):
    from tests.handlers.test_ticket_life import report_valve_fault

    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # 20:00 in Shanghai
    await report_valve_fault(reporter)  # P3: response due 04:00 tomorrow, site time
    await engineer.presses("接单")

    await manager.says("/report")
    so_far = manager.last().text
    await manager.says("/report 2026-11")
    named = manager.last().text

    assert "服务及时率（按时响应）：100%（1/1" in so_far
    assert so_far.splitlines()[2:] == named.splitlines()[2:]
