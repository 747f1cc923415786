"""The real python-telegram-bot client against a fake Bot API server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import Frontline, build
from bot.settings import Settings
from storage import people
from storage.models import ChatIdentity, Outbox, Role, Ticket
from tests.fakes.telegram_api import FakeBotApi
from tests.support.fakes import valve_kb

REPORTER, ENGINEER = 1001, 2002


async def start_desk(settings: Settings, api: FakeBotApi, clock, mode: str) -> Frontline:  # type: ignore[no-untyped-def]
    s = settings.model_copy(update={
        "channels": "telegram", "telegram_mode": mode,
        "telegram_api_base_url": api.url,  # type: ignore[attr-defined]
        "telegram_bot_token": __import__("pydantic").SecretStr(api.token),
        "telegram_webhook_secret": __import__("pydantic").SecretStr("s3cret-token"),
    })
    fl = await build(s, clock=clock, kb=valve_kb())
    fl.adapters["telegram"].poll_timeout = 1  # type: ignore[attr-defined]
    await fl.start(schedule=False)
    async with fl.db.transaction() as tx:
        now = clock.now()
        await people.add_person(tx, name="李明", role=Role.REPORTER, site="一号园区", now=now,
                                identities={"telegram": str(REPORTER)})
        await people.add_person(tx, name="张工", role=Role.ENGINEER, skills=["valve"], now=now,
                                identities={"telegram": str(ENGINEER)})
    return fl


def stored_photos(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in Path(folder).rglob("*.jpg")]


def button(api: FakeBotApi, chat: int, label: str) -> str:
    for params in reversed(api.sent_to(chat) + api.sent_to(chat, "editMessageText")):
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for b in row:
                if b["text"] == label:
                    return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} sent to {chat}: {api.texts_to(chat)}")


def heard(api: FakeBotApi, chat: int, fragment: str):  # type: ignore[no-untyped-def]
    return lambda: any(fragment in t for t in api.texts_to(chat))


async def press(api: FakeBotApi, chat: int, label: str, expect: tuple[int, str]) -> None:
    api.press(chat, "x", button(api, chat, label))
    await api.wait_for(heard(api, *expect))


async def test_a_whole_ticket_life_by_long_polling(polling, api):
    api.say(REPORTER, "李明", "3号地块电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "【新工单】FL-000001"))
    await api.wait_for(heard(api, REPORTER, "已登记工单 FL-000001"))  # two chats: any order

    await press(api, ENGINEER, "接单", (ENGINEER, "您已接下工单"))
    await api.wait_for(heard(api, REPORTER, "已接下您的工单"))
    await api.wait_for(lambda: bool(api.sent_to(ENGINEER, "editMessageText")))
    edits = api.sent_to(ENGINEER, "editMessageText")
    assert edits and edits[-1].get("reply_markup", {}).get("inline_keyboard", []) == []
    await press(api, ENGINEER, "已到现场", (REPORTER, "已到达现场"))
    await press(api, ENGINEER, "已解决", (ENGINEER, "请选择故障类型"))
    await press(api, ENGINEER, "通讯线路或硬件故障", (ENGINEER, "故障原因"))
    for text, expect in (("线圈烧坏", "处理方法"), ("更换线圈", "防止再次发生"),
                         ("定期检查", "已标记为已解决")):
        api.say(ENGINEER, "张工", text)
        await api.wait_for(heard(api, ENGINEER, expect))
    await api.wait_for(heard(api, REPORTER, "处理完毕"))
    await press(api, REPORTER, "已解决", (REPORTER, "感谢确认"))
    # words after the fix are about it: asked where they belong, not answered with articles
    articles_seen = sum("《电磁阀打不开》" in t for t in api.texts_to(REPORTER))
    api.say(REPORTER, "李明", "谢谢师傅，电磁阀好了")
    await api.wait_for(heard(api, REPORTER, "补充到已有工单"))
    await press(api, REPORTER, "补充到 FL-000001", (ENGINEER, "谢谢师傅，电磁阀好了"))
    assert sum("《电磁阀打不开》" in t for t in api.texts_to(REPORTER)) == articles_seen
    note = [p for p in api.sent_to(ENGINEER) if "电磁阀好了" in p.get("text", "")][-1]
    assert not (note.get("reply_markup") or {}).get("inline_keyboard")  # no stale work buttons

    answered = [c for c in api.calls if c.method == "answerCallbackQuery"]
    presses = [u for u in api.calls if u.method == "sendMessage"]
    assert len(answered) >= 8 and presses  # every press answered: no spinning clients
    # the reporter reads a short summary; the report's PDF goes to the managers (none here)
    assert not api.sent_to(REPORTER, "sendDocument")
    assert api.offsets == sorted(api.offsets)  # the polling offset only moves forward


async def test_the_command_menu_is_set_in_chinese_and_english(polling, api):
    menus = [c.params for c in api.calls if c.method == "setMyCommands"]
    assert any("language_code" not in m and "我的工单" in str(m["commands"]) for m in menus)
    assert any(m.get("language_code") == "en" and "my tickets" in str(m["commands"])
               for m in menus)


async def test_a_photo_is_downloaded_and_kept_and_a_huge_one_explained(polling, api):
    api.say(REPORTER, "李明", "电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    api.send_photo(REPORTER, "李明", b"\xff\xd8\xffjpeg-bytes")
    await api.wait_for(heard(api, REPORTER, "附在这次报修"))
    assert stored_photos(polling.settings.files_dir) == [b"\xff\xd8\xffjpeg-bytes"]

    api.send_photo(REPORTER, "李明", b"big", size=50 * 1024 * 1024)
    await api.wait_for(heard(api, REPORTER, "照片没有收到"))


async def test_in_a_group_the_bot_answers_only_when_addressed(polling, api):
    api.say(REPORTER, "李明", "大家好，今天浇水吗", chat_id=-500, chat_type="group")
    api.say(REPORTER, "李明", "@frontline_bot /help", chat_id=-500, chat_type="group")
    await api.wait_for(heard(api, -500, "热线"))
    assert len(api.texts_to(-500)) == 1


async def test_a_429_is_retried_after_retry_after(polling, api):
    api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 1",
                  parameters={"retry_after": 1})
    api.say(REPORTER, "李明", "/help")
    await api.wait_for(heard(api, REPORTER, "热线"))
    assert [c.method for c in api.calls].count("sendMessage:failed") == 1


async def test_a_person_who_blocked_the_bot_is_marked_unreachable(polling, api):
    for _ in range(4):  # the rate limiter does not retry a 403
        api.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    api.say(REPORTER, "李明", "/help")
    await api.wait_for(lambda: any(c.method == "sendMessage:failed" for c in api.calls))

    async def unreachable() -> bool:
        async with polling.db.transaction() as tx:
            rows = await tx.scalars(select(ChatIdentity).where(
                ChatIdentity.external_user_id == str(REPORTER)))
        return rows[0].unreachable

    for _ in range(50):
        await polling.delivery.drain()
        if await unreachable():
            break
        await api.wait_for(lambda: True, within=0.1)
    assert await unreachable()


async def test_webhook_refuses_a_missing_or_wrong_secret_and_handles_an_update_once(
    settings, api, clock
):
    fl = await start_desk(settings, api, clock, "webhook")
    client = TestClient(TestServer(fl.web_app))
    await client.start_server()
    try:
        update = api.say(REPORTER, "李明", "/help")
        path = fl.settings.telegram_webhook_path
        assert (await client.post(path, json=update)).status == 403
        bad = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
        assert (await client.post(path, json=update, headers=bad)).status == 403
        good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        assert (await client.post(path, json=update, headers=good)).status == 200
        assert (await client.post(path, json=update, headers=good)).status == 200  # again
        await fl.delivery.drain()
        await api.wait_for(heard(api, REPORTER, "热线"))
        assert len(api.texts_to(REPORTER)) == 1  # the same update twice: handled once
    finally:
        await client.close()
        await fl.stop()


async def test_a_whole_ticket_life_by_webhook(settings, api, clock):
    fl = await start_desk(settings, api, clock, "webhook")
    client = TestClient(TestServer(fl.web_app))
    await client.start_server()
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    path = fl.settings.telegram_webhook_path

    async def deliver(update: dict) -> None:  # type: ignore[type-arg]
        assert (await client.post(path, json=update, headers=headers)).status == 200

    async def tap(chat: int, label: str, expect: tuple[int, str]) -> None:
        await deliver(api.press(chat, "x", button(api, chat, label)))
        await api.wait_for(heard(api, *expect))

    try:
        await deliver(api.say(REPORTER, "李明", "电磁阀打不开"))
        await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
        await tap(REPORTER, "没解决，报修", (REPORTER, "影响范围"))
        await tap(REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
        await tap(REPORTER, "确认提交", (ENGINEER, "【新工单】"))
        await tap(ENGINEER, "接单", (ENGINEER, "您已接下工单"))
        await tap(ENGINEER, "远程处理", (ENGINEER, "一句话说明要做什么"))
        await deliver(api.say(ENGINEER, "张工", "远程改灌溉参数"))
        await api.wait_for(heard(api, REPORTER, "申请远程操作"))
        await tap(REPORTER, "同意", (ENGINEER, "可以开始远程操作"))
        await tap(ENGINEER, "已解决", (ENGINEER, "故障类型"))
        await tap(ENGINEER, "配置错误", (ENGINEER, "故障原因"))
        for text, expect in (("参数错", "处理方法"), ("改参数", "防止"), ("改前备份", "已解决")):
            await deliver(api.say(ENGINEER, "张工", text))
            await api.wait_for(heard(api, ENGINEER, expect))
        await api.wait_for(heard(api, REPORTER, "处理完毕"))
        await tap(REPORTER, "已解决", (REPORTER, "感谢确认"))
        async with fl.db.transaction() as tx:
            assert (await tx.get(Ticket, 1)).confirmed_at is not None
    finally:
        await client.close()
        await fl.stop()


async def test_the_platform_failing_for_a_while_delays_but_loses_nothing(polling, api, clock):
    for _ in range(3):
        api.fail_next("sendMessage", 500, description="Internal Server Error")
    api.say(REPORTER, "李明", "/help")
    await api.wait_for(lambda: [c.method for c in api.calls].count("sendMessage:failed") >= 1)
    for _ in range(10):  # the outbox retries with back-off on the desk's clock
        if heard(api, REPORTER, "热线")():
            break
        clock.advance(seconds=30)
        await polling.delivery.run_once()
    assert heard(api, REPORTER, "热线")()
    assert len(api.texts_to(REPORTER)) == 1


@pytest.fixture
async def impatient(settings, api, clock) -> AsyncIterator[Frontline]:  # type: ignore[no-untyped-def]
    """Long polling with Bot API calls that time out after half a second."""
    quick = settings.model_copy(update={"telegram_connect_timeout": 0.5,
                                        "telegram_write_timeout": 0.5,
                                        "telegram_read_timeout": 0.5})
    fl = await start_desk(quick, api, clock, "polling")
    yield fl
    await fl.stop()


async def settle(fl: Frontline, clock, done) -> None:  # type: ignore[no-untyped-def]
    """Retry the outbox on the desk's clock (no real waiting for back-off) until done()."""
    for _ in range(20):
        if done():
            return
        clock.advance(seconds=60)
        await fl.delivery.flush()  # as the sweep does: hand-overs under way finish first
    assert done()


async def outbox_rows(fl: Frontline) -> list[Outbox]:
    async with fl.db.transaction() as tx:
        return list(await tx.scalars(select(Outbox).order_by(Outbox.id)))  # type: ignore[arg-type]


async def test_sends_that_time_out_for_a_while_are_retried_and_arrive_once(
    impatient, api, clock, caplog
):
    # The platform never got these calls (no message appeared), it just did not answer
    # within the client's read timeout: PTB raises TimedOut, the outbox backs off and retries.
    api.hang_next("sendMessage", times=3)
    api.say(REPORTER, "李明", "/help")
    await api.wait_for(lambda: any(c.method == "sendMessage:hung" for c in api.calls))
    await settle(impatient, clock, heard(api, REPORTER, "热线"))
    assert [c.method for c in api.calls].count("sendMessage:hung") == 3
    assert len(api.texts_to(REPORTER)) == 1  # exactly once
    [row] = await outbox_rows(impatient)
    assert (row.state, row.attempts) == ("sent", 4)
    assert caplog.text.count("telegram: TimedOut") == 3  # mapped to a DeliveryError, retried


async def test_a_mix_of_500_429_and_timeouts_loses_nothing_and_doubles_nothing(
    impatient, api, clock
):
    chats = [3001, 3002, 3003, 3004, 3005, 3006]
    api.hang_next("sendMessage")
    api.fail_next("sendMessage", 500, description="Internal Server Error")
    api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 1",
                  parameters={"retry_after": 1})  # PTB's rate limiter waits and retries
    api.hang_next("sendMessage", times=2)
    api.fail_next("sendMessage", 502, description="Bad Gateway")
    for _ in range(4):  # more 429s than the rate limiter retries: the outbox's retry_after
        api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 1",
                      parameters={"retry_after": 1})
    api.hang_next("sendMessage")
    for chat in chats:
        api.say(chat, f"u{chat}", "/help")
    for _ in range(150):  # every update handled: its reply is queued
        if len(await outbox_rows(impatient)) == len(chats):
            break
        await asyncio.sleep(0.1)

    def everyone_heard() -> bool:
        return all(heard(api, chat, "热线")() for chat in chats)

    await settle(impatient, clock, everyone_heard)
    assert not api.failures  # every fault was met
    assert all(len(api.texts_to(chat)) == 1 for chat in chats)  # none lost, none doubled
    rows = await outbox_rows(impatient)
    assert len(rows) == len(chats) and all(r.state == "sent" for r in rows)


async def test_a_send_that_timed_out_after_reaching_the_platform_arrives_twice_at_most(
    impatient, api, clock
):
    # At-least-once: no chat platform has an idempotent send, so a message that reached
    # the chat but whose answer was lost is sent again — once per lost answer, no more.
    api.hang_next("sendMessage", delivered=True)
    api.say(REPORTER, "李明", "/help")
    await api.wait_for(lambda: any(c.method == "sendMessage:hung" for c in api.calls))
    await settle(impatient, clock, lambda: len(api.texts_to(REPORTER)) >= 2)
    await impatient.delivery.run_once()
    assert len(api.texts_to(REPORTER)) == 2
    [row] = await outbox_rows(impatient)
    assert (row.state, row.attempts) == ("sent", 2)
