"""The web chat's doors on the real app (bootstrap's wiring, the desk, the database): frames
that do not fit, visitors choosing the same frame ids, other sites' pages, identity floods,
restarts, TLS cookies, page headers and log lines."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import select

from bot.bootstrap import Frontline, build
from bot.logs import TextFormatter
from bot.security import SECRET_FILE, NewIdentityLimit
from bot.settings import Settings
from bot.webchat import COOKIE
from handlers.core import logctx
from storage.models import SeenUpdate
from tests.support.fakes import valve_kb

BAD_FRAME = "这条消息的格式不对"


async def web_app(settings: Settings, clock: Any, **extra: Any) -> Frontline:
    fl = await build(settings.model_copy(update={"channels": "web", **extra}), clock=clock,
                     kb=valve_kb())
    await fl.start(schedule=False)
    return fl


@pytest.fixture
async def web(settings, clock) -> AsyncIterator[tuple[Frontline, TestClient]]:  # type: ignore[no-untyped-def]
    fl = await web_app(settings, clock)
    async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
        yield fl, client
    await fl.stop()


async def new_visitor(client: TestClient, **headers: str) -> str:
    """A fresh browser: GET / hands out a signed cookie, returned as a Cookie header value."""
    client.session.cookie_jar.clear()
    page = await client.get("/", headers=headers)
    assert page.status == 200, await page.text()
    value = page.cookies[COOKIE].value
    client.session.cookie_jar.clear()
    return f"{COOKIE}={value}"


async def frames_until(ws: Any, kind: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        msg = await ws.receive_json(timeout=10)
        seen.append(msg)
        if msg["type"] == kind:
            return seen


async def test_frames_that_do_not_fit_the_schema_are_refused_with_a_clear_reply(web):
    fl, client = web
    cookie = await new_visitor(client)
    async with client.ws_connect("/ws", headers={"Cookie": cookie}) as ws:
        await frames_until(ws, "history")
        await frames_until(ws, "message")  # the greeting (join)
        for bad in ({"type": "text", "text": None, "id": "n1"},
                    {"type": "text", "text": ["一号园区"], "id": "n2"},
                    {"type": "text", "text": 42, "id": "n3"},
                    {"type": "button", "data": {"x": 1}, "id": "n4"},
                    {"type": "text", "text": "电磁阀", "id": "n5\n2026-12-01 ERROR forged"},
                    {"type": "text", "text": "电磁阀", "id": "n6\x00"},
                    {"type": "text", "text": "电磁阀"}, [1, 2], "text"):
            await ws.send_json(bad)
            error = (await frames_until(ws, "error"))[-1]
            assert error["text"].startswith(BAD_FRAME)
    async with fl.db.transaction() as tx:
        ids = [s.update_id for s in await tx.scalars(select(SeenUpdate))]
    assert not any(i.split(":")[-1].startswith("n") for i in ids)  # none reached the desk


async def test_a_nul_in_web_chat_text_is_removed_not_a_database_failure(web, caplog):
    _, client = web
    caplog.set_level(logging.WARNING)
    async with client.ws_connect("/ws", headers={"Cookie": await new_visitor(client)}) as ws:
        await frames_until(ws, "message")
        await ws.send_json({"type": "text", "text": "李\x00明", "id": "z1"})
        reply = (await frames_until(ws, "message"))[-1]
        assert "系统繁忙" not in reply["text"]
    assert "database failure" not in caplog.text and "bad input on web" in caplog.text


async def test_visitor_bs_message_is_not_dropped_when_visitor_a_used_the_same_frame_id(web):
    _, client = web
    a, b = await new_visitor(client), await new_visitor(client)
    assert a != b
    for cookie in (a, b):
        async with client.ws_connect("/ws", headers={"Cookie": cookie}) as ws:
            await frames_until(ws, "message")  # the greeting
            await ws.send_json({"type": "text", "text": "你好", "id": "same-id"})
            reply = (await frames_until(ws, "message"))[-1]  # each one is answered
            assert reply["text"]


async def test_only_pages_of_this_site_may_open_the_websocket(settings, clock):
    fl = await web_app(settings, clock, public_url="https://desk.example.com",
                       webchat_allowed_origins="https://chat.example.org")
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            cookie = await new_visitor(client)
            host = f"http://{client.host}:{client.port}"
            for origin in ("http://evil.example", "null", f"{host}.evil.example",
                           "https://desk.example.com.evil.example"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect("/ws", headers={"Cookie": cookie, "Origin": origin})
                assert refused.value.status == 403
            for origin in (host, "https://desk.example.com", "https://chat.example.org"):
                async with client.ws_connect("/ws", headers={"Cookie": cookie,
                                                             "Origin": origin}) as ws:
                    assert (await frames_until(ws, "history"))[-1]["type"] == "history"
    finally:
        await fl.stop()


async def test_one_address_gets_a_few_new_identities_an_hour_and_forwarded_for_is_not_trusted(
    settings, clock
):
    fl = await web_app(settings, clock, webchat_identities_per_hour=2)
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            kept = await new_visitor(client)
            await new_visitor(client, **{"X-Forwarded-For": "10.0.0.1"})
            client.session.cookie_jar.clear()
            third = await client.get("/", headers={"X-Forwarded-For": "10.0.0.2"})
            assert third.status == 429 and COOKIE not in third.cookies
            assert "太多" in await third.text()
            back = await client.get("/", headers={"Cookie": kept})  # a known visitor: fine
            assert back.status == 200
    finally:
        await fl.stop()


async def test_behind_a_configured_proxy_the_forwarded_address_is_counted(settings, clock):
    fl = await web_app(settings, clock, webchat_identities_per_hour=1, trusted_proxies=1)
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            await new_visitor(client, **{"X-Forwarded-For": "6.6.6.6, 10.0.0.1"})
            await new_visitor(client, **{"X-Forwarded-For": "6.6.6.6, 10.0.0.2"})
            client.session.cookie_jar.clear()
            again = await client.get("/", headers={"X-Forwarded-For": "7.7.7.7, 10.0.0.2"})
            assert again.status == 429  # the client's own left-hand entry changes nothing
    finally:
        await fl.stop()


def test_the_identity_limit_forgets_after_an_hour():
    now = [0.0]
    limit = NewIdentityLimit(2, now=lambda: now[0])
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a") and limit.allow("b")
    now[0] = 3600.0
    assert limit.allow("a")


async def test_a_restart_keeps_every_visitors_identity(settings, clock):
    first = await web_app(settings, clock)
    async with TestClient(TestServer(first.web_app, host="127.0.0.1")) as client:
        cookie = await new_visitor(client)
    await first.stop()
    secret_file = settings.files_dir / SECRET_FILE
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600

    second = await web_app(settings, clock)  # a restart, or a replica sharing the folder
    try:
        async with TestClient(TestServer(second.web_app, host="127.0.0.1")) as client, \
                client.ws_connect("/ws", headers={"Cookie": cookie}) as ws:
            assert (await frames_until(ws, "history"))[-1]["type"] == "history"
    finally:
        await second.stop()


async def test_the_configured_secret_wins_over_the_kept_one(settings, clock):
    fl = await web_app(settings, clock, webchat_cookie_secret=SecretStr("x" * 64))
    await fl.stop()
    assert not (settings.files_dir / SECRET_FILE).exists()


async def test_over_tls_the_cookie_is_secure(settings, clock):
    fl = await web_app(settings, clock, public_url="https://desk.example.com")
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            page = await client.get("/")
            assert "Secure" in page.headers["Set-Cookie"]
            assert "HttpOnly" in page.headers["Set-Cookie"]
    finally:
        await fl.stop()


async def test_pages_may_not_be_framed_and_run_only_our_own_scripts(web):
    _, client = web
    page = await client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Secure" not in page.headers["Set-Cookie"]  # plain http: a Secure cookie is lost
    script = await client.get("/static/app.js")
    assert script.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_frame_id_with_a_newline_cannot_forge_a_log_line(web):
    _, client = web
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(TextFormatter())
    handler.addFilter(logctx.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with client.ws_connect("/ws", headers={"Cookie": await new_visitor(client)}) as ws:
            await frames_until(ws, "message")
            forged = "c1\n2026-12-01 09:00:00,000 ERROR frontline database lost"
            await ws.send_json({"type": "text", "text": "你好", "id": forged})
            await frames_until(ws, "error")
        logging.getLogger("t").warning("an id: %s", forged)  # any value, any logger
    finally:
        root.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", ln)
                         for ln in lines)
    assert "c1\\n2026-12-01" in out.getvalue()  # the value, escaped as JSON would


async def test_a_socket_that_keeps_sending_bad_frames_is_closed(web, caplog):
    _, client = web
    caplog.set_level(logging.WARNING)
    async with client.ws_connect("/ws", headers={"Cookie": await new_visitor(client)}) as ws:
        await frames_until(ws, "message")
        for i in range(25):
            await ws.send_str(f"garbage {i}")
        while not ws.closed:
            msg = await ws.receive(timeout=10)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == 1008
    assert caplog.text.count("refused (bad input)") == 20
