"""Callbacks whose numbers and fields no WeCom would send: a 400 and one log line, or a clear
"cannot handle this" — never a 500 with a traceback."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest

from handlers.core.messages import Kind
from tests.wecom.conftest import PATH, plain_xml

HUGE = "9" * 400


@pytest.mark.parametrize("timestamp", [HUGE, "-5", "1e9", "١٢٣٤٥٦٧٨٩٠", "12 34", "0x10"])
async def test_a_timestamp_that_is_no_number_of_seconds_is_a_400_with_one_log_line(
    caller, received, caplog, timestamp
):
    caplog.set_level(logging.WARNING)
    query = urlencode({"msg_signature": "x", "timestamp": timestamp, "nonce": "1",
                       "echostr": "e"})
    assert (await caller.client.get(f"{PATH}?{query}")).status == 400
    url, body = caller.envelope(plain_xml("text", Content="你好"))
    forged = url.replace(f"timestamp={int(time.time())}", f"timestamp={timestamp}")
    if forged != url:  # the same second, unless the clock ticked meanwhile
        assert (await caller.client.post(forged, data=body)).status == 400
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refused and all("\n" not in r.getMessage() and not r.exc_info for r in refused)
    assert received.got == []


async def test_signed_garbage_is_refused_not_a_500(caller, received):
    signed = caller.crypto.sign(str(int(time.time())), "1372623149", "!!!not-base64!!!")
    query = urlencode({"msg_signature": signed, "timestamp": str(int(time.time())),
                       "nonce": "1372623149"})
    body = b"<xml><Encrypt><![CDATA[!!!not-base64!!!]]></Encrypt></xml>"
    assert (await caller.client.post(f"{PATH}?{query}", data=body)).status in (400, 403)
    assert received.got == []


@pytest.mark.parametrize(("x", "y"), [("nan", "113.5"), ("23.1", "inf"), ("-inf", "1"),
                                      ("91", "113"), ("23", "181")])
async def test_a_location_that_is_no_place_becomes_unsupported(caller, adapter, received, x, y):
    xml = plain_xml("location", Location_X=x, Location_Y=y, Scale="15", Label="园区")
    assert await caller.post(xml) == 200
    await adapter.callback.drain()
    assert received.got[-1].kind is Kind.UNSUPPORTED and received.got[-1].location is None


async def test_a_real_location_still_arrives(caller, adapter, received):
    assert await caller.post(plain_xml("location", Location_X="23.13",
                                       Location_Y="113.26")) == 200
    await adapter.callback.drain()
    assert received.got[-1].location == (23.13, 113.26)
