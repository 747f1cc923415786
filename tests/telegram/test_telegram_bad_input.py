"""A webhook POST with the right secret but a body that is not a Bot API update, and updates
the database could not keep: answered 200 and dropped, or answered clearly — never a 500
(which Telegram retries for hours) nor "系统繁忙"."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import Frontline
from storage.models import Ticket
from tests.telegram.test_telegram import ENGINEER, REPORTER, button, heard, start_desk

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
MALFORMED = [b"{not json", b"\xff\xfe", b"[]", b"null", b"{}", b'"text"', b'{"update_id": true}',
             b'{"update_id": 5, "message": "hi"}', b'{"update_id": 6, "message": 7}',
             b'{"update_id": 7, "callback_query": []}']


@pytest.fixture
async def webhook(settings, api, clock) -> AsyncIterator[tuple[Frontline, TestClient]]:  # type: ignore[no-untyped-def]
    fl = await start_desk(settings, api, clock, "webhook")
    async with TestClient(TestServer(fl.web_app)) as client:
        yield fl, client
    await fl.stop()


async def post(client: TestClient, fl: Frontline, body: bytes | dict) -> int:  # type: ignore[type-arg]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = await client.post(fl.settings.telegram_webhook_path, data=data, headers=SECRET)
    await fl.delivery.flush_all()
    return answer.status


@pytest.mark.parametrize("body", MALFORMED)
async def test_a_malformed_webhook_body_is_answered_200_dropped_and_logged_once(
    webhook, api, caplog, body
):
    fl, client = webhook
    caplog.set_level(logging.WARNING)
    assert await post(client, fl, body) == 200
    dropped = [r for r in caplog.records if "dropped (bad input)" in r.getMessage()]
    assert len(dropped) == 1 and not [r for r in caplog.records if r.exc_info]
    assert not [c for c in api.calls if c.method == "sendMessage"]


@pytest.mark.parametrize("field", [{"text": 42}, {"text": None}, {"text": ["a"]},
                                   {"caption": {"x": 1}}, {"contact": {"phone_number": 1}},
                                   {"location": "here"}])
async def test_a_message_with_a_field_of_the_wrong_type_is_dropped_not_a_500(
    webhook, api, caplog, field
):
    fl, client = webhook
    update = api.message(REPORTER, "李明", **field)
    assert await post(client, fl, update) == 200
    assert "dropped (bad input)" in caplog.text
    assert await post(client, fl, api.say(REPORTER, "李明", "/help")) == 200
    await api.wait_for(heard(api, REPORTER, "热线"))  # the next good update is handled


async def test_a_nan_location_and_a_nul_in_the_text_are_bad_input_not_an_outage(
    webhook, api, caplog
):
    fl, client = webhook
    caplog.set_level(logging.WARNING)
    update = api.message(REPORTER, "李明", location={"latitude": 1.0, "longitude": 2.0})
    raw = json.dumps(update).replace("1.0", "NaN").encode()  # Python's json reads NaN
    assert await post(client, fl, raw) == 200
    await api.wait_for(heard(api, REPORTER, "无法处理这类消息"))

    assert await post(client, fl, api.say(REPORTER, "李明", "电磁阀打不开\x00\x00")) == 200
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    assert not any("系统繁忙" in t for t in api.texts_to(REPORTER))
    assert "database failure" not in caplog.text
    assert "bad input on telegram" in caplog.text


async def test_markup_in_a_report_reaches_the_engineer_literally_without_a_parse_mode(
    webhook, api
):
    fl, client = webhook
    hostile = "电磁阀打不开 <b>加急</b> *全部* [点我](http://evil.example) &amp;"
    assert await post(client, fl, api.say(REPORTER, "李明", hostile)) == 200
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    for label in ("没解决，报修", "单个设备", "确认提交"):
        assert await post(client, fl, api.press(REPORTER, "李明",
                                                button(api, REPORTER, label))) == 200
    await api.wait_for(heard(api, ENGINEER, hostile))  # exactly what the reporter wrote
    sent = [c.params for c in api.calls if c.method in ("sendMessage", "editMessageText")]
    assert sent and not any("parse_mode" in p for p in sent)  # plain text: nothing is markup
    async with fl.db.transaction() as tx:
        assert (await tx.scalars(select(Ticket)))[0].description.startswith(hostile)
