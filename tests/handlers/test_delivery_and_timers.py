"""Delivery through the outbox, and SLA timers firing through the sweep."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.messages import Outgoing, redacted
from storage.models import ChatIdentity, Outbox, OutboxState, Role, TicketEvent
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import settle


async def test_a_failed_send_is_retried_after_a_back_off_and_nothing_is_lost(
    app, clock, channel, reporter, engineer
):
    channel.fail_times = 2
    await reporter.says("/help")
    assert reporter.inbox() == []  # the platform failed: still queued

    clock.advance(seconds=1)
    await settle(app)
    assert reporter.inbox() == []  # second failure, back-off doubled
    clock.advance(seconds=2)
    await settle(app)
    assert "400-800-1234" in reporter.last().text


async def test_retry_after_from_the_platform_is_honoured(app, clock, channel, reporter):
    channel.fail_times, channel.retry_after = 1, 30
    await reporter.says("/help")
    clock.advance(seconds=29)
    await settle(app)
    assert reporter.inbox() == []
    clock.advance(seconds=1)
    await settle(app)
    assert reporter.inbox()


async def test_a_message_is_marked_dead_after_the_last_attempt(app, clock, channel, reporter):
    channel.fail_times = 100
    await reporter.says("/help")
    for _ in range(10):
        clock.advance(minutes=15)
        await settle(app)
    async with app.db.transaction() as tx:
        row = (await tx.scalars(select(Outbox)))[0]
    assert row.state == OutboxState.DEAD and row.attempts == app.settings.outbox_max_attempts


async def test_a_secret_is_masked_in_the_outbox_when_its_message_is_given_up_on(
    app, clock, channel, manager
):
    channel.fail_times = 100
    await manager.says("/invite 一号园区")
    async with app.db.transaction() as tx:
        [row] = await tx.scalars(select(Outbox))
    code = row.payload["secrets"][0]
    assert code in row.payload["text"]  # kept while it may still be sent
    for _ in range(10):
        clock.advance(minutes=15)
        await settle(app)
    async with app.db.transaction() as tx:
        [row] = await tx.scalars(select(Outbox).execution_options(populate_existing=True))
    assert row.state == OutboxState.DEAD
    assert code not in repr(row.payload) and "•••••" in row.payload["text"]


def test_redacted_masks_every_form_of_a_secret_in_text_and_buttons():
    payload = {"text": "code ABCDE-FGH23, link t.me/x?start=ABCDEFGH23", "key": "k",
               "buttons": [[["ABCDEFGH23", "copy:ABCDEFGH23"]]],
               "secrets": ["ABCDEFGH23", "ABCDE-FGH23"]}
    masked = redacted(payload)
    assert masked == {"text": "code •••••, link t.me/x?start=•••••", "key": "k",
                      "buttons": [[["•••••", "copy:•••••"]]]}
    assert Outgoing.from_json({**payload, "channel": "c", "chat_id": "1", "edits": None}
                              ).secrets == ("ABCDEFGH23", "ABCDE-FGH23")


async def test_a_person_who_blocked_the_bot_is_marked_unreachable_and_the_ticket_goes_on(
    app, channel, reporter, engineer, engineer2
):
    channel.blocked.add("e1")
    await report_valve_fault(reporter)
    async with app.db.transaction() as tx:
        ident = (await tx.scalars(select(ChatIdentity).where(ChatIdentity.chat_id == "e1")))[0]
    assert ident.unreachable
    assert "FL-000001" in reporter.last().text


async def test_an_unreachable_engineer_is_skipped_when_paging(app, channel, reporter, engineer,
                                                             engineer2):
    async with app.db.transaction() as tx:
        ident = (await tx.scalars(select(ChatIdentity).where(ChatIdentity.chat_id == "e1")))[0]
        ident.unreachable = True
        tx.add(ident)
    await report_valve_fault(reporter)
    assert "FL-000001" in engineer2.last().text


async def test_a_missed_response_deadline_alerts_the_manager_once(app, clock, reporter, engineer,
                                                                 manager):
    await report_valve_fault(reporter)  # P3: respond within 8 h
    clock.advance(hours=8, minutes=1)
    assert await app.sweeper.run_once() >= 1  # ack timeout, 75 % warning, breach
    assert await app.sweeper.run_once() == 0
    await settle(app)
    assert "超时未响应" in manager.last().text
    alerts = [m for m in manager.inbox() if "超时未响应" in m.text]
    assert len(alerts) == 1


async def test_an_acknowledged_ticket_raises_no_response_alarm(app, clock, reporter, engineer,
                                                              manager):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    clock.advance(hours=9)
    await app.sweeper.run_once()
    await settle(app)
    assert not manager.heard("超时未响应")


async def test_timers_that_came_due_while_down_fire_once_at_start(settings, clock, channel):
    from bot.bootstrap import build
    from tests.conftest import Cast
    from tests.support.fakes import valve_kb

    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=False)
    cast = Cast(fl, channel)
    reporter = await cast.add("r1", "李明", "reporter", site="一号园区")
    await cast.add("e1", "张工", "engineer", skills=["valve"])
    manager = await cast.add("m1", "陈经理", "manager")
    await report_valve_fault(reporter)
    await fl.stop()

    clock.advance(hours=30)  # the bot was down past both deadlines
    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=True)
    await settle(fl)
    await fl.stop()
    assert manager.heard("超时未响应") and manager.heard("超时未解决")
    fl2 = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    async with fl2.db.transaction() as tx:
        breaches = await tx.scalars(select(TicketEvent).where(TicketEvent.kind == "sla_breached"))
    await fl2.db.dispose()
    assert len(breaches) == 2


async def test_an_assignee_who_blocked_the_bot_is_reported_to_the_manager(
    app, channel, reporter, engineer, manager
):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    channel.blocked.add("e1")
    await reporter.says("催单")
    await settle(app)
    assert manager.heard("负责人无法联系") and manager.heard("张工")
    assert "FL-000001" in manager.last().text


async def test_the_sweep_is_not_held_up_by_a_steady_stream_of_replies(app, channel, cast):
    # Under steady traffic some replies are always being sent; the sweep waits for those
    # under way when it starts, never for all traffic to stop (or timers would never fire).
    import asyncio

    from handlers.core.messages import Incoming, Kind

    users = [await cast.add(f"s{i}", f"用户{i}", Role.REPORTER) for i in range(3)]
    slow_send = channel.send

    async def slow(out):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.01)
        return await slow_send(out)

    channel.send = slow  # type: ignore[method-assign]
    stop = asyncio.Event()

    async def traffic() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            who = users[n % 3].user_id
            await app.receive(Incoming("fake", who, who, f"steady-{n}", Kind.COMMAND,
                                       text="/help"))
            await asyncio.sleep(0.002)

    flow = asyncio.create_task(traffic())
    try:
        await asyncio.sleep(0.1)  # replies are in flight from now on
        await asyncio.wait_for(app.sweeper.run_once(), timeout=5)
    finally:
        stop.set()
        await flow
    await app.delivery.drain()


async def test_marks_that_fail_to_be_written_are_kept_and_nothing_is_sent_twice(
    app, clock, channel, reporter
):
    # The database is away when the sent messages are to be marked: the marks wait in memory
    # and are written once it is back, so the rows are never claimed and sent again.
    recorder = app.delivery._recorder
    write, failures = recorder._write, [1]

    async def flaky(batch):  # type: ignore[no-untyped-def]
        if failures[0]:
            failures[0] -= 1
            raise ConnectionError("database away")
        await write(batch)

    recorder._write = flaky
    recorder.delay = 0.01
    await reporter.says("/help")  # sent; its mark's first write fails, the next succeeds
    assert failures == [0] and len(channel.sent) == 1
    clock.advance(hours=1)  # far past the claim lease
    await app.delivery.flush()
    assert len(channel.sent) == 1
    async with app.db.transaction() as tx:
        [row] = await tx.scalars(select(Outbox).execution_options(populate_existing=True))
    assert row.state == OutboxState.SENT
