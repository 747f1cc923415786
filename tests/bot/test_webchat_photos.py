"""Photos from the web chat's photo button: stored like Telegram photos (the same store and
size limit) and handed to the desk as photos; anything else is refused with a clear reply."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import select

from bot.bootstrap import Frontline
from bot.settings import Settings
from bot.webchat import COOKIE
from handlers.core.messages import Outgoing
from storage.models import SeenUpdate
from tests.bot.test_webchat_history import frames_until, web_app


def png(size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (40, 120, 60)).save(out, "PNG")
    return out.getvalue()


def form(data: bytes, frame_id: str = "ph1", name: str = "IMG_0001.png",
         mime: str = "image/png") -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("id", frame_id)
    body.add_field("photo", data, filename=name, content_type=mime)
    return body


@pytest.fixture
async def web(settings: Settings, clock: Any) -> AsyncIterator[tuple[Frontline, TestClient]]:
    fl = await web_app(settings.model_copy(update={"max_photo_bytes": 20_000}), clock,
                       demo=True)
    async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
        yield fl, client
    await fl.stop()


async def seen(fl: Frontline) -> list[str]:
    async with fl.db.transaction() as tx:
        rows = await tx.scalars(select(SeenUpdate).where(SeenUpdate.channel == "web"))
    return [r.update_id for r in rows]


async def test_a_photo_reaches_the_desk_as_a_photo_and_is_kept(web):
    fl, client = web
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        await frames_until(ws, "history")
        await frames_until(ws, "message")  # the greeting
        sent = await client.post("/webchat/photo?user=demo-reporter", data=form(png()))
        assert sent.status == 200, await sent.text()
        assert "已收到照片" in (await frames_until(ws, "message", "照片"))[-1]["text"]
        again = await client.post("/webchat/photo?user=demo-reporter", data=form(png()))
        assert again.status == 200  # the same upload twice: handled once
    stored = [p for p in (fl.settings.files_dir).rglob("*.png")]
    assert len(stored) == 1 and stored[0].read_bytes() == png()
    assert (await seen(fl)).count("demo-reporter:ph1") == 1
    async with client.ws_connect("/ws?user=demo-reporter") as ws:
        history = (await frames_until(ws, "history"))[-1]
    assert [m["text"] for m in history["mine"]] == ["📷 照片"]


async def test_a_file_that_is_no_image_is_refused_with_a_clear_reply(web):
    fl, client = web
    for data, name, mime in ((b"%PDF-1.7 not a photo", "report.jpg", "image/jpeg"),
                             (png()[:60], "cut.png", "image/png"),  # broken half-way
                             (b"", "empty.png", "image/png")):
        refused = await client.post("/webchat/photo?user=demo-reporter",
                                    data=form(data, name=name, mime=mime))
        assert refused.status in (400, 415)
        assert "不是照片" in (await refused.json())["error"]
    not_a_form = await client.post("/webchat/photo?user=demo-reporter", json={"photo": "x"})
    assert not_a_form.status == 400 and "没有上传成功" in (await not_a_form.json())["error"]
    assert not any(u.startswith("demo-reporter:ph") for u in await seen(fl))
    assert not list(fl.settings.files_dir.rglob("*.jpg"))


async def test_a_photo_over_the_limit_is_refused_and_not_stored(web):
    fl, client = web
    noisy = io.BytesIO()  # noise does not compress: well over the 20 000-byte limit
    Image.effect_noise((300, 300), 80).convert("RGB").save(noisy, "PNG")
    assert len(noisy.getvalue()) > 20_000
    refused = await client.post("/webchat/photo?lang=en&user=demo-reporter",
                                data=form(noisy.getvalue()))
    assert refused.status == 413
    assert "too large" in (await refused.json())["error"]
    assert (await seen(fl)) == [] and not list(fl.settings.files_dir.rglob("*.png"))


async def test_only_our_own_pages_and_known_people_may_upload(web, settings, clock):
    _, client = web
    other_site = await client.post("/webchat/photo?user=demo-reporter", data=form(png()),
                                   headers={"Origin": "http://evil.example"})
    assert other_site.status == 403
    assert (await client.post("/webchat/photo?user=mallory", data=form(png()))).status == 403
    fl = await web_app(settings, clock, demo=False)
    try:
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as visitor:
            assert (await visitor.post("/webchat/photo", data=form(png()))).status == 403
            page = await visitor.get("/")
            cookie = f"{COOKIE}={page.cookies[COOKIE].value}"
            ok = await visitor.post("/webchat/photo", data=form(png()),
                                    headers={"Cookie": cookie})
            assert ok.status == 200
    finally:
        await fl.stop()


async def test_a_file_the_bot_sent_opens_for_its_chat_only(web):
    """A manager's fault report PDF is a link on the page; nobody else can open it."""
    fl, client = web
    pdf = await fl.files.save(b"%PDF-1.7 the report", "FL-000001 故障处理报告.pdf",
                              "application/pdf")
    page = await fl.files.save(b"<script>alert(1)</script>", "x.html", "text/html")
    await fl.adapters["web"].send(Outgoing(
        channel="web", chat_id="demo-manager", text="【故障处理报告】FL-000001", key="t:rep:1",
        files=(pdf, page)))
    async with client.ws_connect("/ws?user=demo-manager") as ws:
        history = (await frames_until(ws, "history"))[-1]
    (report,) = [m for m in history["messages"] if m["key"] == "t:rep:1"]
    url = report["files"][0]["url"]
    assert url == "/webchat/file/t%3Arep%3A1/0"

    got = await client.get(url + "?user=demo-manager")
    assert got.status == 200 and await got.read() == b"%PDF-1.7 the report"
    assert got.content_type == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("inline; filename*=UTF-8''FL-000001")
    html = await client.get(report["files"][1]["url"] + "?user=demo-manager")
    assert html.content_type == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment")

    for other in ("/webchat/file/t%3Arep%3A1/0?user=demo-reporter",  # not their chat
                  "/webchat/file/t%3Arep%3A1/7?user=demo-manager",  # no such file
                  "/webchat/file/nope/0?user=demo-manager"):
        refused = await client.get(other)
        assert refused.status == 404 and "不在了" in await refused.text()
    assert (await client.get(url)).status == 403  # nobody named
