"""Update → Incoming conversion, without any network (the adapter is never started)."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.telegram import TelegramAdapter, keyboard
from handlers.core.messages import Button, FileRef, Kind, Outgoing

BOT_ID = 999
USER = {"id": 7, "is_bot": False, "first_name": "Ah", "last_name": "Lin"}


class NoFiles:
    async def save(self, data: bytes, name: str, mime: str) -> FileRef:
        raise AssertionError("no download expected")

    async def read(self, key: str) -> bytes:
        raise AssertionError("no read expected")


async def _ignore(_: Any) -> None:
    return None


@pytest.fixture
def adapter() -> TelegramAdapter:
    tg = TelegramAdapter(token="1:x", api_base_url="http://127.0.0.1:9", receive=_ignore,
                         files=NoFiles(), max_photo_bytes=100)
    tg.bot_id, tg.username = BOT_ID, "orchardbot"
    return tg


def update(chat_type: str = "private", **fields: Any) -> Update:
    chat = {"id": -5 if chat_type == "group" else 7, "type": chat_type}
    msg = {"message_id": 1, "date": 0, "chat": chat, "from": USER, **fields}
    return Update.de_json({"update_id": 42, "message": msg}, None)


async def test_private_text_becomes_text_with_ids_and_full_name(adapter: TelegramAdapter) -> None:
    inc = await adapter.to_incoming(update(text="  pump is down "))
    assert inc is not None
    assert (inc.kind, inc.text, inc.chat_id, inc.user_id, inc.update_id, inc.user_name) == (
        Kind.TEXT, "pump is down", "7", "7", "42", "Ah Lin")


async def test_a_command_loses_the_bot_name(adapter: TelegramAdapter) -> None:
    inc = await adapter.to_incoming(update(text="/status@OrchardBot 12"))
    assert inc is not None and (inc.kind, inc.text) == (Kind.COMMAND, "/status 12")


async def test_a_callback_query_becomes_a_button_press(adapter: TelegramAdapter) -> None:
    msg = {"message_id": 3, "date": 0, "chat": {"id": 7, "type": "private"},
           "from": {"id": BOT_ID, "is_bot": True, "first_name": "bot"}}
    data = {"update_id": 43, "callback_query": {"id": "q", "from": USER, "chat_instance": "c",
                                                "message": msg, "data": "t:1:ack"}}
    inc = await adapter.to_incoming(Update.de_json(data, None))
    assert inc is not None
    assert (inc.kind, inc.data, inc.update_id) == (Kind.BUTTON, "t:1:ack", "43")


async def test_a_location_and_an_own_contact_are_passed_on(adapter: TelegramAdapter) -> None:
    loc = await adapter.to_incoming(update(location={"latitude": 22.5, "longitude": 113.9}))
    assert loc is not None and (loc.kind, loc.location) == (Kind.LOCATION, (22.5, 113.9))
    own = {"phone_number": "+8613800000000", "first_name": "Ah", "user_id": 7}
    contact = await adapter.to_incoming(update(contact=own))
    assert contact is not None
    assert (contact.kind, contact.phone) == (Kind.CONTACT, own["phone_number"])


async def test_someone_elses_contact_and_a_sticker_are_unsupported(
    adapter: TelegramAdapter,
) -> None:
    other = {"phone_number": "+1", "first_name": "X", "user_id": 8}
    inc = await adapter.to_incoming(update(contact=other))
    assert inc is not None and inc.kind is Kind.UNSUPPORTED
    sticker = {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
               "is_animated": False, "is_video": False, "type": "regular"}
    inc = await adapter.to_incoming(update(sticker=sticker))
    assert inc is not None and (inc.kind, inc.raw_kind) == (Kind.UNSUPPORTED, "sticker")


async def test_a_photo_bigger_than_the_limit_arrives_without_the_photo(
    adapter: TelegramAdapter,
) -> None:
    huge = [{"file_id": "p", "file_unique_id": "u", "width": 9, "height": 9, "file_size": 101}]
    inc = await adapter.to_incoming(update(photo=huge))
    assert inc is not None and (inc.kind, inc.photo) == (Kind.PHOTO, None)


async def test_a_voice_over_the_limits_is_described_and_never_downloaded(
    adapter: TelegramAdapter,
) -> None:
    voice = {"file_id": "v", "file_unique_id": "uv", "duration": 301, "file_size": 50,
             "mime_type": "audio/ogg"}
    inc = await adapter.to_incoming(update(voice=voice))
    assert inc is not None and inc.kind == Kind.VOICE
    assert inc.voice == FileRef("", "uv.ogg", "audio/ogg", 50, 301)  # NoFiles: no save


async def test_an_audio_file_over_the_size_limit_is_described_as_audio(
    adapter: TelegramAdapter,
) -> None:
    audio = {"file_id": "a", "file_unique_id": "ua", "duration": 10,
             "file_size": 11 * 1024 * 1024, "file_name": "../../etc/passwd.mp3"}
    inc = await adapter.to_incoming(update(audio=audio))
    assert inc is not None and inc.kind == Kind.VOICE and inc.voice is not None
    assert (inc.voice.key, inc.voice.name, inc.voice.mime) == ("", "ua.mp3", "audio/mpeg")


@pytest.mark.parametrize(("fields", "passed"), [
    ({"text": "just chatting"}, False),
    ({"text": "@orchardbot the pump"}, True),
    ({"text": "/help"}, True),
    ({"text": "yes", "reply_to_message": {
        "message_id": 2, "date": 0, "chat": {"id": -5, "type": "group"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "bot"}, "text": "?"}}, True),
])
async def test_in_a_group_only_messages_addressing_the_bot_are_passed_on(
    adapter: TelegramAdapter, fields: dict[str, Any], passed: bool,
) -> None:
    inc = await adapter.to_incoming(update("group", **fields))
    assert (inc is not None) is passed


def test_an_edit_without_buttons_removes_the_keyboard_and_long_data_is_refused() -> None:
    edit = Outgoing(channel="telegram", chat_id="7", text="done", key="k1", edits="k0")
    assert keyboard(edit) is not None and keyboard(edit).inline_keyboard == ()  # type: ignore[union-attr]
    too_long = Outgoing(channel="telegram", chat_id="7", text="x", key="k2",
                        buttons=[[Button("ok", "x" * 65)]])
    with pytest.raises(ValueError):
        keyboard(too_long)
