"""The callback endpoint refuses forged, stale, foreign and hostile callbacks; a repeated one
is acknowledged and taken once."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.wecom.callback import CallbackEndpoint
from bot.wecom.crypto import WeComCrypto
from tests.fakes.wecom_api import CORP_ID
from tests.wecom.conftest import AES_KEY, PATH, TOKEN, Caller, plain_xml
from tests.wecom.test_crypto import OFFICIAL, OFFICIAL_ECHO, OFFICIAL_MSG

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>&lol3;</ToUserName><Encrypt>x</Encrypt></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""


class Seen:
    def __init__(self) -> None:
        self.fields: list[dict[str, str]] = []

    async def __call__(self, fields: dict[str, str]) -> None:
        self.fields.append(fields)


async def endpoint_client(endpoint: CallbackEndpoint) -> TestClient:
    app = web.Application()
    endpoint.attach(app, PATH)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


async def test_the_official_url_verification_sample_is_answered_with_the_echo():
    endpoint = CallbackEndpoint(OFFICIAL, Seen(), now=lambda: 1409659589)
    client = await endpoint_client(endpoint)
    query = urlencode({"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                       "timestamp": "1409659589", "nonce": "263014780",
                       "echostr": OFFICIAL_ECHO})
    resp = await client.get(f"{PATH}?{query}")
    assert resp.status == 200 and await resp.text() == "1616140317555161061"
    await client.close()


async def test_the_official_message_sample_is_accepted_and_handed_on():
    seen = Seen()
    endpoint = CallbackEndpoint(OFFICIAL, seen, now=lambda: 1409659813 + 10)
    client = await endpoint_client(endpoint)
    query = urlencode({"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
                       "timestamp": "1409659813", "nonce": "1372623149"})
    body = (f"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
            f"{OFFICIAL_MSG}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
    resp = await client.post(f"{PATH}?{query}", data=body)
    await endpoint.drain()
    assert resp.status == 200 and await resp.text() == ""
    assert seen.fields[0]["Content"] == "hello"
    await client.close()


async def test_our_own_signed_url_verification_is_answered(caller: Caller):
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    echo = crypto.encrypt(b"5927782489442352469")
    ts = str(int(time.time()))
    query = urlencode({"msg_signature": crypto.sign(ts, "77", echo), "timestamp": ts,
                       "nonce": "77", "echostr": echo})
    resp = await caller.client.get(f"{PATH}?{query}")
    assert await resp.text() == "5927782489442352469"


async def test_a_forged_signature_is_refused_logged_and_never_received(caller, adapter, received,
                                                                       caplog):
    caplog.set_level(logging.WARNING, logger="bot.wecom")
    status = await caller.post(plain_xml("text", Content="help"), signature="0" * 40)
    await adapter.callback.drain()
    assert status == 403 and received.got == []
    assert "bad signature" in caplog.text and "help" not in caplog.text


async def test_a_stale_timestamp_is_refused(caller, adapter, received, caplog):
    caplog.set_level(logging.WARNING, logger="bot.wecom")
    status = await caller.post(plain_xml("text", Content="hi"), timestamp=int(time.time()) - 301)
    await adapter.callback.drain()
    assert status == 403 and received.got == []
    assert "timestamp outside the window" in caplog.text


async def test_a_timestamp_from_the_future_is_refused_too(caller, received):
    status = await caller.post(plain_xml("text", Content="hi"), timestamp=int(time.time()) + 900)
    assert status == 403 and received.got == []


async def test_a_callback_for_another_corp_is_refused(caller, adapter, received, caplog):
    caplog.set_level(logging.WARNING, logger="bot.wecom")
    caller.crypto = WeComCrypto(TOKEN, AES_KEY, "wwanothercorp")  # same keys, other receiver
    status = await caller.post(plain_xml("text", Content="hi"))
    await adapter.callback.drain()
    assert status == 403 and received.got == []
    assert "wrong receive id" in caplog.text


async def test_a_retried_or_replayed_message_is_acknowledged_and_handled_once(caller, adapter,
                                                                              received, caplog):
    caplog.set_level(logging.INFO, logger="bot.wecom")
    xml = plain_xml("text", Content="电磁阀打不开", msg_id="4561255354251345929")
    assert await caller.post(xml) == 200
    # WeCom retries what it thinks went unanswered; refusing would only bring more retries
    assert await caller.post(xml, nonce="another") == 200
    await adapter.callback.drain()
    assert [i.text for i in received.got] == ["电磁阀打不开"]
    assert "wecom update 4561255354251345929 again" in caplog.text


async def test_a_billion_laughs_envelope_is_refused(caller, adapter, received):
    url, _ = caller.envelope(plain_xml("text", Content="x"))
    resp = await caller.client.post(url, data=BILLION_LAUGHS.encode())
    await adapter.callback.drain()
    assert resp.status == 400 and received.got == []


async def test_hostile_xml_inside_a_correctly_signed_envelope_is_refused(caller, adapter,
                                                                          received):
    for hostile in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        assert await caller.post(hostile) == 400
    await adapter.callback.drain()
    assert received.got == []


async def test_a_callback_without_its_parameters_is_a_bad_request(caller, received):
    resp = await caller.client.post(PATH, data=b"<xml/>")
    assert resp.status == 400 and received.got == []
    resp = await caller.client.get(PATH)
    assert resp.status == 400


async def test_the_answer_does_not_wait_for_the_desk():
    gate = asyncio.Event()
    seen = Seen()

    async def slow(fields: dict[str, str]) -> None:
        await gate.wait()
        await seen(fields)

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    endpoint = CallbackEndpoint(crypto, slow)
    client = await endpoint_client(endpoint)
    status = await Caller(client, crypto).post(plain_xml("text", Content="hi"))
    assert status == 200 and seen.fields == []  # answered while the desk is still busy
    gate.set()
    await endpoint.drain()
    assert seen.fields[0]["Content"] == "hi"
    await client.close()


async def test_a_failing_desk_is_logged_not_raised(caplog):
    async def broken(fields: dict[str, str]) -> None:
        raise RuntimeError("boom")

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    endpoint = CallbackEndpoint(crypto, broken)
    client = await endpoint_client(endpoint)
    assert await Caller(client, crypto).post(plain_xml("text", Content="hi", msg_id="9")) == 200
    await endpoint.drain()
    assert "wecom update 9 failed" in caplog.text
    await client.close()


async def test_shutdown_does_not_wait_forever_for_a_stuck_desk(caplog):
    async def stuck(fields: dict[str, str]) -> None:
        await asyncio.Event().wait()

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    endpoint = CallbackEndpoint(crypto, stuck)
    client = await endpoint_client(endpoint)
    assert await Caller(client, crypto).post(plain_xml("text", Content="hi")) == 200
    await endpoint.close(grace_seconds=0.05)
    assert "cancelled" in caplog.text
    await client.close()
