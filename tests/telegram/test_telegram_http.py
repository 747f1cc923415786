"""The aiohttp client PTB sends through: errors map to PTB's, bodies are what the API expects."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.telegram_http import AiohttpRequest
from tests.support.cluster import free_port


async def serve(handler) -> TestServer:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_form_and_multipart_bodies_reach_the_api_as_ptb_builds_them():
    seen: list[tuple[str, dict[str, object]]] = []

    async def api(request: web.Request) -> web.Response:
        form = await request.post()
        fields = {k: getattr(v, "filename", v) for k, v in form.items()}
        seen.append((request.content_type, fields))
        result = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": result})

    server = await serve(api)
    request = AiohttpRequest(read_timeout=5)
    bot = Bot("1:T", base_url=f"http://127.0.0.1:{server.port}/bot", request=request)
    try:
        await request.initialize()
        await bot.send_message(5, "你好", reply_markup=None)
        await bot.send_document(5, b"# FL-000001", filename="FL-000001.md")
    finally:
        await request.shutdown()
        await server.close()
    (kind1, text), (kind2, doc) = seen
    assert kind1 == "application/x-www-form-urlencoded" and text["text"] == "你好"
    assert kind2 == "multipart/form-data" and doc["document"] == "FL-000001.md"


async def test_a_silent_api_is_a_timeout_and_a_closed_port_a_network_error():
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    server = await serve(silent)
    request = AiohttpRequest(read_timeout=0.2, connect_timeout=0.5, write_timeout=0.5)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{server.port}/bot1:T/getMe")
        with pytest.raises(NetworkError) as refused:
            await request.post(f"http://127.0.0.1:{free_port()}/bot1:T/getMe")
        assert not isinstance(refused.value, TimedOut)
    finally:
        await request.shutdown()
        await server.close()
    with pytest.raises(RuntimeError):  # shut down: no silent reconnect behind PTB's back
        await request.do_request("http://127.0.0.1:1/", "POST")
