"""The built-in web chat: an aiohttp page and a WebSocket per browser tab.

Adapters translate, handlers decide: a frame from the page becomes an `Incoming`; an
`Outgoing` becomes a frame to every tab open for that chat. A message sent while nobody is
connected is not lost — it stays in the outbox, and `history` replays it on connect.

Identity: in demo mode the page chooses any demo person (`?user=`); otherwise each browser
gets a random id in an HttpOnly cookie signed with HMAC-SHA256, so nobody can pose as
someone else by editing the cookie.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from bot.channels import Receive
from handlers.messages import Incoming, Kind, Outgoing

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "frontline_web"
MAX_FRAME = 64 * 1024
HEARTBEAT = 25.0
SEND_TIMEOUT = 5.0  # seconds one tab may take to accept a frame


@dataclass(frozen=True)
class WebUser:
    user_id: str  # the web chat identity, also the chat id (one chat per person)
    name: str
    role: str
    site: str = ""


def frame(out: Outgoing) -> dict[str, Any]:
    return {
        "key": out.key,
        "text": out.text,
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in out.buttons],
        "files": [{"name": f.name, "mime": f.mime} for f in out.files],
    }


class WebChat:
    name = "web"

    def __init__(
        self, *, receive: Receive,
        history: Callable[[str], Awaitable[list[Outgoing]]],
        directory: Callable[[], Awaitable[list[WebUser]]],
        texts: Callable[[str], dict[str, str]],
        demo: bool, cookie_secret: str, max_text_chars: int = 20_000,
    ) -> None:
        self.receive, self.history, self.directory, self.texts = receive, history, directory, texts
        self.demo = demo
        self._secret = (cookie_secret or secrets.token_hex(32)).encode()
        self.max_text_chars = max_text_chars
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._seen: set[str] = set()
        self._state = "starting"

    # --- Adapter lifecycle -------------------------------------------------------------
    def attach(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/webchat/people", self._people)
        app.router.add_get("/webchat/texts", self._texts)
        app.router.add_static("/static/", STATIC, append_version=True)

    async def start(self) -> None:
        self._state = "ok"

    async def stop(self) -> None:
        self._state = "stopped"
        sockets = [ws for group in self._sockets.values() for ws in group]
        await asyncio.gather(*(ws.close(code=1001, message=b"shutdown") for ws in sockets),
                             return_exceptions=True)

    def status(self) -> str:
        return f"{self._state} ({sum(len(s) for s in self._sockets.values())} tabs)"

    # --- Channel -----------------------------------------------------------------------
    async def send(self, out: Outgoing) -> str | None:
        await self._push(out.chat_id, {"type": "message", **frame(out)})
        return out.key

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        body = frame(out)
        await self._push(out.chat_id, {"type": "edit", "key": platform_message_id,
                                       "text": body["text"], "buttons": body["buttons"]})

    async def _push(self, chat_id: str, payload: dict[str, Any]) -> None:
        # All tabs at once, each with a deadline: a dead or stalled tab must not hold up the
        # others (nor the delivery worker); the message stays in history for its next connect.
        tabs = list(self._sockets.get(chat_id, ()))
        await asyncio.gather(*(self._push_one(chat_id, ws, payload) for ws in tabs))

    async def _push_one(self, chat_id: str, ws: web.WebSocketResponse,
                        payload: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_json(payload), SEND_TIMEOUT)
        except (ConnectionError, RuntimeError, TimeoutError):
            log.info("web chat tab of %s dropped", chat_id)
            self._forget(chat_id, ws)
            with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
                await asyncio.wait_for(ws.close(code=1011, message=b"send failed"), 1.0)

    def _forget(self, chat_id: str, ws: web.WebSocketResponse) -> None:
        tabs = self._sockets.get(chat_id)
        if tabs is not None:
            tabs.discard(ws)
            if not tabs:  # no empty sets piling up for people who came and went
                del self._sockets[chat_id]

    # --- Routes (thin: translate and hand over) ----------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        if not self.demo and self._identity_from_cookie(request) is None:
            self._set_cookie(response, secrets.token_urlsafe(16))
        return response

    async def _people(self, request: web.Request) -> web.Response:
        if not self.demo:
            raise web.HTTPNotFound()
        people = await self.directory()
        return web.json_response([p.__dict__ for p in people])

    async def _texts(self, request: web.Request) -> web.Response:
        lang = request.query.get("lang", "zh")
        return web.json_response({"demo": self.demo, "texts": self.texts(lang)})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        user_id = await self._identify(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        if user_id is None:
            await ws.close(code=4403, message=b"unknown person")
            return ws
        self._sockets[user_id].add(ws)
        try:
            await self._session(ws, user_id)
        finally:
            self._forget(user_id, ws)
        return ws

    async def _session(self, ws: web.WebSocketResponse, user_id: str) -> None:
        messages = [frame(m) for m in await self.history(user_id)]
        await ws.send_json({"type": "history", "messages": messages})
        if user_id not in self._seen:
            self._seen.add(user_id)
            await self._hand_over(ws, Incoming("web", user_id, user_id, f"join:{user_id}",
                                               Kind.JOIN))
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await self._hand_over(ws, self.incoming(user_id, msg.data))
            elif msg.type == WSMsgType.ERROR:
                break

    async def _hand_over(self, ws: web.WebSocketResponse, inc: Incoming) -> None:
        try:
            await self.receive(inc)
        except Exception:
            log.exception("web chat update %s of %s failed", inc.update_id, inc.user_id)
            await ws.send_json({"type": "error", "text": self.texts("").get("error", "")})

    # --- Translation -------------------------------------------------------------------
    def incoming(self, user_id: str, data: str | bytes) -> Incoming:
        """A frame from the page as the desk's Incoming; anything unreadable is UNSUPPORTED."""
        base = {"channel": "web", "chat_id": user_id, "user_id": user_id}
        try:
            if isinstance(data, bytes):
                raise ValueError("binary frame")
            body = json.loads(data)
            kind, ident = body.get("type"), str(body["id"])[:100]
        except (ValueError, KeyError, TypeError, AttributeError):
            return Incoming(**base, update_id=f"bad:{secrets.token_hex(8)}",
                            kind=Kind.UNSUPPORTED, raw_kind="malformed")
        if kind == "text":
            text = str(body.get("text", ""))[: self.max_text_chars]
            is_command = text.lstrip().startswith("/")
            return Incoming(**base, update_id=ident, text=text,
                            kind=Kind.COMMAND if is_command else Kind.TEXT)
        if kind == "button":
            return Incoming(**base, update_id=ident, kind=Kind.BUTTON,
                            data=str(body.get("data", ""))[:200])
        return Incoming(**base, update_id=ident, kind=Kind.UNSUPPORTED, raw_kind=str(kind)[:40])

    async def _identify(self, request: web.Request) -> str | None:
        if self.demo:
            wanted = request.query.get("user", "")
            known = {p.user_id for p in await self.directory()}
            return wanted if wanted in known else None
        return self._identity_from_cookie(request)

    def _sign(self, value: str) -> str:
        return hmac.new(self._secret, value.encode(), hashlib.sha256).hexdigest()

    def _identity_from_cookie(self, request: web.Request) -> str | None:
        value, _, signature = request.cookies.get(COOKIE, "").rpartition(".")
        if value and hmac.compare_digest(signature, self._sign(value)):
            return f"visitor-{value}"
        return None

    def _set_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(COOKIE, f"{value}.{self._sign(value)}", httponly=True,
                            samesite="Lax", max_age=365 * 24 * 3600)
