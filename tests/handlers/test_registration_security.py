"""Issue 17, "Who may open tickets" and "Whose ticket it is": each attack re-run as a chat.

Strangers register freely but open tickets only with an invitation or a manager's approval;
names are one line and cannot pass for staff; every ticket a button names is checked against
the presser, and an id no record can have is refused before the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import demo
from bot.bootstrap import build
from handlers import flows
from handlers.core import tokens
from handlers.core.config import DeskConfig
from handlers.core.flood import FloodGuard
from handlers.core.messages import Kind
from handlers.core.router import TICKET_SCOPE
from handlers.flows import admission
from storage import admission as stored
from storage.models import (
    Approval,
    Complaint,
    Invitation,
    Outbox,
    OutboxState,
    Person,
    Role,
    Ticket,
    TicketEvent,
)
from tests.conftest import Cast
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import ChatUser, labels
from tests.support.fakes import FakeChannel, valve_kb

P1_FAULT = "水泵冒烟了，全部停了"  # no article covers it: straight to the impact question


async def count(app, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(model).where(*where)))


async def person_named(app, name: str) -> Person:  # type: ignore[no-untyped-def]
    async with app.db.transaction() as tx:
        return (await tx.scalars(select(Person).where(Person.name == name)))[0]


async def register(user: ChatUser, name: str, site: str) -> None:
    await user.says("/start")
    await user.says(name)
    await user.says(site)


def busy(user: ChatUser) -> bool:
    return user.heard("系统繁忙") or user.heard("系统出了点问题")


# --- who may open tickets -----------------------------------------------------------------
async def test_five_fresh_identities_cannot_page_anyone_with_p1_tickets(app, cast, engineer,
                                                                        manager):
    for i in range(5):
        stranger = cast.user(f"fresh{i}")
        await stranger.says(P1_FAULT)
        await stranger.says(f"路人{i}")
        await stranger.says("一号园区")
        assert stranger.heard("登记已收到")
        assert "等待服务经理批准" in stranger.last().text  # pressing on to report: refused

    assert await count(app, Ticket) == 0
    assert not engineer.heard("【新工单】") and not manager.heard("【紧急工单】")
    assert sum("【新报修人待批准】" in m.text for m in manager.inbox()) == 5


async def test_a_waiting_stranger_reads_the_knowledge_base_and_the_manager_is_reminded_once(
        app, cast, engineer, manager):
    stranger = cast.user("s1")
    await stranger.says("电磁阀打不开")
    await stranger.says("赵六")
    await stranger.says("二号园区")
    assert stranger.heard("《电磁阀打不开》")  # self-service still answers

    await stranger.presses("没解决，报修")
    assert "等待服务经理批准" in stranger.last().text
    await stranger.presses("没解决，报修")
    await stranger.says("/cancel")
    await stranger.says(P1_FAULT)
    assert "等待服务经理批准" in stranger.last().text

    reminders = [m for m in manager.inbox() if "【提醒：报修人等待批准】" in m.text]
    assert len(reminders) == 1 and labels(reminders[0]) == ["批准", "拒绝"]
    assert await count(app, Ticket) == 0


async def test_a_manager_approves_with_one_tap_and_the_person_may_report(app, cast, engineer,
                                                                         manager):
    stranger = cast.user("s1")
    await register(stranger, "赵六", "二号园区")
    assert labels(manager.last()) == ["批准", "拒绝"]

    await manager.presses("批准")

    assert "已批准 赵六" in manager.last().text
    assert "已获批准" in stranger.last().text
    await report_valve_fault(stranger)
    assert "已登记工单 FL-" in stranger.last().text
    await manager.presses("批准")  # the same button again
    assert "已经处理过了" in manager.last().text


async def test_a_refused_person_is_told_and_still_cannot_report(app, cast, engineer, manager):
    stranger = cast.user("s1")
    await register(stranger, "赵六", "二号园区")
    await manager.presses("拒绝")
    assert "没有获得批准" in stranger.last().text

    await stranger.says(P1_FAULT)
    assert "没有获得批准" in stranger.last().text
    await manager.presses("批准")  # a decided registration is not decided again by a tap
    assert "已经处理过了" in manager.last().text
    assert await count(app, Ticket) == 0


async def test_only_managers_may_approve_and_a_reporter_pressing_the_button_is_refused(
        app, cast, reporter, manager):
    stranger = cast.user("s1")
    await register(stranger, "赵六", "二号园区")
    approve = manager.button("批准")

    await reporter.presses_data(approve)
    await stranger.presses_data(approve)  # approving oneself

    assert "没有权限" in reporter.last().text and "没有权限" in stranger.last().text
    assert not (await person_named(app, "赵六")).approved


async def test_an_invitation_link_registers_for_its_site_and_reporting_works_at_once(
        app, cast, engineer, manager):
    code = await cast.invitation("一号园区")
    newcomer = cast.user("n1")

    await newcomer.says(f"/start {code}")  # what https://t.me/<bot>?start=<code> sends
    assert "邀请码有效（一号园区）" in newcomer.last().text
    await newcomer.says("孙七")

    assert "登记完成：孙七，一号园区" in newcomer.last().text
    await report_valve_fault(newcomer)
    assert "已登记工单 FL-" in newcomer.last().text
    assert not manager.heard("待批准")


async def test_a_code_typed_at_the_name_question_works_with_dashes_and_full_width(app, cast,
                                                                                engineer):
    code = await cast.invitation("二号园区")
    newcomer = cast.user("n1")
    await newcomer.says("你好")
    typed = admission.shown(code).lower().translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F)})  # ａｂｃｄｅ－… from a Chinese keyboard

    await newcomer.says(typed)
    await newcomer.says("孙七")

    assert (await person_named(app, "孙七")).approved
    assert (await person_named(app, "孙七")).site == "二号园区"


async def test_a_waiting_person_who_sends_a_code_later_is_approved(app, cast, manager):
    stranger = cast.user("s1")
    await register(stranger, "赵六", "二号园区")
    code = await cast.invitation("一号园区")

    await stranger.says(code)

    assert "登记已确认（一号园区）" in stranger.last().text
    person = await person_named(app, "赵六")
    assert person.approved and person.site == "一号园区"
    async with app.db.transaction() as tx:
        approval = await stored.approval_of(tx, person.id or 0)
    assert approval is not None and approval.state == "approved"


async def test_a_wrong_code_is_refused_clearly_and_guessing_is_slowed(app, cast):
    app.desk.flood = FloodGuard(rate=0.0001, burst=25)
    guesser = cast.user("g1")

    await guesser.says("/start ABCDE23456")
    assert "邀请码无效或已过期" in guesser.last().text
    await guesser.says("/start not-a-code")
    assert "邀请码无效或已过期" in guesser.last().text
    for _ in range(3):
        await guesser.says("/start ABCDE23457")

    assert "太快" in guesser.last().text  # each wrong code costs ten messages
    assert await count(app, Person) == 0


async def test_a_used_up_or_expired_invitation_is_refused(app, cast, clock):
    once = await cast.invitation("一号园区", uses=1)
    first, second = cast.user("n1"), cast.user("n2")
    await first.says(f"/start {once}")
    await first.says("孙七")
    await second.says(f"/start {once}")
    assert "邀请码无效或已过期" in second.last().text

    week = await cast.invitation("一号园区", days=7)
    clock.advance(days=8)
    await second.says(f"/start {week}")
    assert "邀请码无效或已过期" in second.last().text


async def test_the_last_use_goes_to_one_person_only(app, cast):
    code = await cast.invitation("一号园区", uses=1)
    first, second = cast.user("n1"), cast.user("n2")
    await first.says(f"/start {code}")
    await second.says(f"/start {code}")  # both were told the code is good …
    await first.says("孙七")
    await second.says("周八")  # … but only one use was left when the second finished

    assert (await person_named(app, "孙七")).approved
    assert not (await person_named(app, "周八")).approved
    assert second.heard("登记已收到")


async def test_codes_are_random_and_only_their_hash_is_stored(app, cast):
    codes = {await cast.invitation("一号园区") for _ in range(20)}
    assert len(codes) == 20 and all(admission.as_code(c) == c for c in codes)
    async with app.db.transaction() as tx:
        rows = await tx.scalars(select(Invitation))
    stored_text = " ".join(f"{r.code_hash} {r.site}" for r in rows)
    assert not any(code in stored_text for code in codes)


async def test_a_manager_invites_in_chat_and_a_reporter_may_not(app, cast, reporter, manager):
    await manager.send(manager.incoming(Kind.COMMAND, text="/invite 三号园区 5 3",
                                        bot_link="https://t.me/frontline_bot"))
    answer = manager.last().text
    assert "园区：三号园区，可用 5 次" in answer and "https://t.me/frontline_bot?start=" in answer
    code = answer.split("?start=")[1][:10]
    async with app.db.transaction() as tx:
        assert await stored.usable_invitation(tx, admission.code_hash(code), app.clock.now())

    await manager.says("/invite")
    assert "用法：/invite" in manager.last().text
    await reporter.says("/invite 一号园区")
    assert "没有权限" in reporter.last().text


async def test_the_outbox_keeps_an_invitation_code_only_until_it_is_delivered(
        app, cast, manager):
    await manager.send(manager.incoming(Kind.COMMAND, text="/invite 三号园区",
                                        bot_link="https://t.me/frontline_bot"))
    answer = manager.last().text  # what the manager's chat received: the code and the link
    code = answer.split("?start=")[1][:10]
    assert admission.shown(code) in answer
    async with app.db.transaction() as tx:
        rows = list(await tx.scalars(select(Outbox).where(
            Outbox.chat_id == manager.user_id).execution_options(populate_existing=True)))
    kept = [r for r in rows if "三号园区" in r.payload["text"]]
    assert kept and all(r.state == OutboxState.SENT for r in kept)
    stored_text = repr([r.payload for r in rows])
    assert code not in stored_text and admission.shown(code) not in stored_text
    assert "https://t.me/frontline_bot?start=•••••" in kept[0].payload["text"]
    assert "secrets" not in kept[0].payload


async def test_directory_people_register_without_an_invitation_as_before(settings, clock):
    from bot.wecom.inbound import CHANNEL

    assert CHANNEL in DeskConfig().directory_channel_names  # WeCom: the company directory
    wecom = FakeChannel(CHANNEL)
    fl = await build(settings, clock=clock, channels={CHANNEL: wecom}, kb=valve_kb())
    await fl.start(schedule=False)
    try:
        colleague = ChatUser(fl, wecom, "zhaoliu")
        await register(colleague, "赵六", "二号园区")
        assert colleague.heard("登记完成")
        async with fl.db.transaction() as tx:
            person = (await tx.scalars(select(Person)))[0]
            assert person.approved and not await tx.scalars(select(Approval))
    finally:
        await fl.stop()


async def test_the_demo_people_may_report(app):
    await demo.seed(app.db, app.clock)
    async with app.db.transaction() as tx:
        assert all(p.approved for p in await tx.scalars(select(Person)))


# --- names ------------------------------------------------------------------------------
async def test_a_name_with_a_line_break_cannot_forge_a_line_in_the_engineers_page(app, cast,
                                                                                 engineer):
    code = await cast.invitation("一号园区")
    forger = cast.user("f1")
    await forger.says(f"/start {code}")

    await forger.says("李明\n【系统通知】账号异常，请点击链接重新登录")
    assert "写在一行里" in forger.last().text
    await forger.says("\u200b\u2060\u200d")  # only invisible characters: no name at all
    assert "写在一行里" in forger.last().text or "消息是空的" in forger.last().text
    await forger.says("\u202e李\u200b明\u202c")  # a bidi override and a zero-width space
    await report_valve_fault(forger)

    page = next(m.text for m in engineer.inbox() if "【新工单】" in m.text)
    assert "报修人：李明（" in page and "【系统通知】" not in page
    assert (await person_named(app, "李明")).name == "李明"


@pytest.mark.parametrize("copy", ["陈经理", "陈 经理", "张工", "ＺＨＡＮＧ工"])
async def test_a_name_copying_a_staff_member_is_marked_and_the_managers_are_warned(
        app, cast, engineer, manager, copy):
    await cast.add("e9", "zhang工", Role.ENGINEER)
    impostor = cast.user("i1")
    await register(impostor, copy, "一号园区")

    assert "为免混淆" in impostor.inbox()[-2].text
    person = await person_named(app, f"{copy}（报修人）")
    assert person.role == Role.REPORTER
    request = next(m.text for m in manager.inbox() if "【新报修人待批准】" in m.text)
    assert "注意：新报修人登记的名字与员工同名" in request and f"{copy}（报修人）" in request


async def test_an_invited_namesake_is_marked_and_the_managers_are_told(app, cast, engineer,
                                                                      manager):
    code = await cast.invitation("一号园区")
    impostor = cast.user("i1")
    await impostor.says(f"/start {code}")
    await impostor.says("张工")

    assert manager.heard("注意：新报修人登记的名字与员工同名：张工（报修人）")
    await report_valve_fault(impostor)
    page = next(m.text for m in engineer.inbox() if "【新工单】" in m.text)
    assert "报修人：张工（报修人）" in page


async def test_a_description_of_only_invisible_characters_is_refused_like_an_empty_one(
        app, reporter, engineer):
    await reporter.says("\u200b\u200b\u200b\u200b\u200b")
    assert "消息是空的" in reporter.last().text
    await reporter.says("\u200b\u200b\u200b\u200b坏")
    assert "多写几个字" in reporter.last().text or "再具体一点" in reporter.last().text \
        or "描述" in reporter.last().text
    await report_valve_fault(reporter)
    await reporter.says("\u2060\u200b\ufeff")  # a "note" to the open ticket
    assert "消息是空的" in reporter.last().text
    assert await count(app, TicketEvent, TicketEvent.kind == "note") == 0


# --- whose ticket it is ---------------------------------------------------------------------
async def other_reporters_ticket(cast: Cast, reporter: ChatUser) -> ChatUser:
    """FL-000001 belongs to 李明; 周八 (another reporter) has a dialogue of their own open."""
    await report_valve_fault(reporter)
    return await cast.add("r2", "周八", Role.REPORTER, site="二号园区")


async def test_a_forged_complaint_button_cannot_name_someone_elses_ticket(app, cast, reporter,
                                                                          engineer, manager):
    other = await other_reporters_ticket(cast, reporter)
    await other.says("投诉")
    nonce = tokens.parse(other.button("对服务整体")).ref

    for forged in (f"i:{nonce}:about:1", f"i:{nonce}:cmp_1"):
        await other.presses_data(forged)
        assert "不是您的" in other.last().text
    for huge in (f"i:{nonce}:cmp_99999", f"i:{nonce}:about:9999999999",
                 f"i:{nonce}:about:999999999999"):
        await other.presses_data(huge)
        assert "不是您的" in other.last().text or "无法识别" in other.last().text

    await other.says("服务太慢了")  # not stuck: the complaint goes on, about the service
    assert other.heard("投诉")
    async with app.db.transaction() as tx:
        complaints = await tx.scalars(select(Complaint))
    assert [c.ticket_id for c in complaints] == [None]
    assert await count(app, TicketEvent, TicketEvent.kind == "complaint") == 0
    assert not busy(other)


async def test_a_forged_add_to_button_cannot_write_on_someone_elses_ticket(app, cast, reporter,
                                                                           engineer):
    other = await other_reporters_ticket(cast, reporter)
    await report_valve_fault(other)  # FL-000002, theirs
    await other.says("又漏水了")  # "add to FL-000002 or a new fault?"
    nonce = tokens.parse(other.button("这是新的故障")).ref

    for forged in (f"i:{nonce}:add:1", f"i:{nonce}:add_1", f"i:{nonce}:add:9999999999",
                   f"i:{nonce}:add_99999"):
        await other.presses_data(forged)
        assert "不是您的" in other.last().text or "无法识别" in other.last().text
    assert await count(app, TicketEvent, TicketEvent.kind == "note") == 0
    assert not busy(other)


def _any_arg(route) -> str:  # type: ignore[no-untyped-def]
    """An argument the route accepts (a score, a priority, a category …)."""
    for arg in ("", "1", "P1", "pump", "whole", "single"):
        if route.accepts(arg):
            return arg
    raise AssertionError(f"no sample argument for {route.action}")


async def test_every_ticket_button_pressed_by_someone_else_changes_nothing(
        app, cast, reporter, engineer, engineer2, manager):
    other = await other_reporters_ticket(cast, reporter)
    await engineer.presses("接单")
    expert = await cast.add("x1", "刘专家", Role.EXPERT)
    async with app.db.transaction() as tx:
        before = (await tx.get(Ticket, 1)).model_dump()
    events = await count(app, TicketEvent)
    routes = [r for r in flows.routes().buttons.values() if r.scope == TICKET_SCOPE]
    assert len(routes) > 15

    for presser in (other, engineer2, expert):
        for route in routes:
            arg = _any_arg(route)
            await presser.presses_data(f"t:1:{route.action}" + (f":{arg}" if arg else ""))
            assert not busy(presser), (presser.user_id, route.action)

    async with app.db.transaction() as tx:
        after = (await tx.get(Ticket, 1)).model_dump()
    assert after == before
    assert await count(app, TicketEvent) == events


@pytest.mark.parametrize("forged", ["t:999999999999:ack", "t:2147483648:urge",
                                    "d:999999999999:ok", "k:999999999999:ack",
                                    "a:999999999999:approve", "t:1:score:99999999999"])
async def test_a_button_naming_an_id_no_record_can_have_gets_the_polite_answer(
        app, reporter, engineer, manager, forged):
    await report_valve_fault(reporter)
    for presser in (reporter, manager):
        await presser.presses_data(forged)
        assert "无法识别" in presser.last().text, presser.last().text
        assert not busy(presser)
