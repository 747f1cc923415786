"""Issue 17, Telegram groups: what is personal is answered only in private, registration only
in private, and nobody is reached in a group. The real PTB client against the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate, people
from storage.models import ChatIdentity, Person, Role, TicketEvent
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram.test_telegram import ENGINEER, REPORTER, heard, press

GROUP, MANAGER, STRANGER = -500, 3003, 4004
PRIVATELY = "请私聊我：https://t.me/frontline_bot"


async def open_a_ticket(api: FakeBotApi) -> None:
    api.say(REPORTER, "李明", "3号地块电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "【新工单】FL-000001"))


def group_texts(api: FakeBotApi) -> list[str]:
    return api.texts_to(GROUP)


async def test_personal_and_staff_commands_answer_only_in_private(polling, api):
    async with polling.db.transaction() as tx:
        await people.add_person(tx, name="陈经理", role=Role.MANAGER, now=polling.clock.now(),
                                identities={"telegram": str(MANAGER)})
    await open_a_ticket(api)

    asks = [(REPORTER, "李明", "/status"), (REPORTER, "李明", "@frontline_bot 我的工单"),
            (ENGINEER, "张工", "/open"), (MANAGER, "陈经理", "/report"),
            (MANAGER, "陈经理", "/invite 一号园区"), (REPORTER, "李明", "/complain"),
            (ENGINEER, "张工", "/duty off")]
    for who, name, words in asks:
        api.say(who, name, words, chat_id=GROUP, chat_type="group")
    await api.wait_for(lambda: len(group_texts(api)) == len(asks))

    assert all(PRIVATELY in t for t in group_texts(api)), group_texts(api)
    assert not any("FL-000001" in t or "邀请码" in t for t in group_texts(api))
    api.say(REPORTER, "李明", "/help", chat_id=GROUP, chat_type="group")
    await api.wait_for(heard(api, GROUP, "热线"))  # what is nobody's business still answers


async def test_a_stranger_cannot_register_in_a_group(polling, api):
    api.say(STRANGER, "路人", "/start", chat_id=GROUP, chat_type="group")
    api.say(STRANGER, "路人", "@frontline_bot 电磁阀打不开", chat_id=GROUP, chat_type="group")
    await api.wait_for(lambda: len(group_texts(api)) == 2)

    assert all(PRIVATELY in t for t in group_texts(api))
    assert not any("姓名" in t for t in group_texts(api))
    api.say(STRANGER, "路人", "/start")
    await api.wait_for(heard(api, STRANGER, "请问您的姓名"))  # in private it begins


async def test_a_button_pressed_in_a_group_acts_on_nothing(polling, api):
    await open_a_ticket(api)
    api.press(REPORTER, "李明", "t:1:urge", chat_id=GROUP, chat_type="group")
    await api.wait_for(heard(api, GROUP, PRIVATELY))

    async with polling.db.transaction() as tx:
        urged = await tx.scalars(select(TicketEvent).where(TicketEvent.kind == "urged"))
    assert urged == [] and not heard(api, ENGINEER, "在催工单")()


async def test_someone_who_registered_from_a_group_is_reached_privately_again(polling, api):
    async with polling.db.transaction() as tx:  # as registration from a group once left it
        person = await people.add_person(tx, name="赵六", role=Role.REPORTER,
                                         now=polling.clock.now())
        await people.link_identity(tx, person, "telegram", str(STRANGER), str(GROUP))

    api.say(STRANGER, "赵六", "/help", chat_id=GROUP, chat_type="group")
    await api.wait_for(heard(api, GROUP, "热线"))
    assert await chat_of(polling, STRANGER) == str(GROUP)  # nothing said privately yet
    api.say(STRANGER, "赵六", "/help")
    await api.wait_for(heard(api, STRANGER, "热线"))
    assert await chat_of(polling, STRANGER) == str(STRANGER)
    api.say(STRANGER, "赵六", "/help", chat_id=GROUP, chat_type="group")
    await api.wait_for(lambda: len(group_texts(api)) == 2)
    assert await chat_of(polling, STRANGER) == str(STRANGER)  # a group never takes it back


async def chat_of(fl, user: int) -> str:  # type: ignore[no-untyped-def]
    async with fl.db.transaction() as tx:
        ident = (await tx.scalars(select(ChatIdentity).where(
            ChatIdentity.external_user_id == str(user))))[0]
    return str(ident.chat_id)


async def test_the_migration_moves_group_chats_of_telegram_people_to_their_private_chat(
        tmp_path: Path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    await migrate.upgrade(engine, "0002")
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO person (id, name, phone, role, site, skills, language, on_duty, rota,"
            " active, created_at) VALUES (1, '赵六', '', 'reporter', '', '[]', 'zh', 1, '', 1,"
            " '2026-12-01 00:00:00')"))
        await conn.execute(text(
            "INSERT INTO chatidentity (person_id, channel, external_user_id, chat_id,"
            " unreachable) VALUES (1, 'telegram', '4004', '-500', 0),"
            " (1, 'wecom', 'zhaoliu', 'zhaoliu', 0)"))
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        chats = (await conn.execute(text(
            "SELECT channel, chat_id FROM chatidentity ORDER BY channel"))).all()
        approved = (await conn.execute(select(Person.approved))).scalar()
    await engine.dispose()
    assert [tuple(c) for c in chats] == [("telegram", "4004"), ("wecom", "zhaoliu")]
    assert approved  # everyone already registered stays trusted
