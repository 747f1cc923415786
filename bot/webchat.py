"""The built-in web chat: an aiohttp page and a WebSocket per browser tab.

Adapters translate, handlers decide: a frame from the page becomes an `Incoming`; an
`Outgoing` becomes a frame to every tab open for that chat. A message sent while nobody is
connected is not lost — it stays in the outbox, and `history` replays it on connect.

Identity: in demo mode the page chooses any demo person (`?user=`); otherwise each browser
gets a random id in an HttpOnly cookie signed with HMAC-SHA256, so nobody can pose as
someone else by editing the cookie. One client address gets at most N new identities an hour
(`NewIdentityLimit`); the cookie is `Secure` when the site is served over TLS; the WebSocket
only opens for pages of our own origin (bot/security.py).

Frames from the page are checked against a schema (`TextFrame`, `ButtonFrame`): a frame that
does not fit (`"text": null`, a list, a frame id with control characters) is refused with
an error frame and one log line, and never reaches the desk. Frame ids are scoped per
visitor: two visitors' pages may pick the same id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import secrets
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypedDict

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from bot.badinput import scrub
from bot.channels import DeliveryError, Receive
from bot.security import NewIdentityLimit, client_address, origin_allowed
from handlers.core.messages import Incoming, Kind, Outgoing

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "frontline_web"
MAX_FRAME = 64 * 1024
HEARTBEAT = 25.0
SEND_TIMEOUT = 5.0  # seconds one tab may take to accept a frame
REMEMBERED = 2000  # message keys a tab remembers for de-duplication (history shows ≤ 200)


# What a page may use as a frame id: printable ASCII, no spaces (the page sends UUIDs).
FrameId = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                           pattern=r"^[\x21-\x7e]+$")]
MAX_UPDATE_ID = 150  # SeenUpdate.update_id holds 160
MAX_BAD_FRAMES = 20  # refused frames before a socket is closed


class Frame(BaseModel):
    """Any frame: a type and an id (a type we do not know is answered as unsupported)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    type: Annotated[str, StringConstraints(max_length=40)]
    id: FrameId


class TextFrame(Frame):
    type: Literal["text"]
    text: str


class ButtonFrame(Frame):
    type: Literal["button"]
    data: str


FRAMES: dict[str, type[Frame]] = {"text": TextFrame, "button": ButtonFrame}


class BadFrame(ValueError):
    """A frame that does not fit the schema; the message names the field, never its value."""


def parse_frame(data: str | bytes) -> Frame:
    """A frame from the page, checked; `BadFrame` when it does not fit."""
    if isinstance(data, bytes):
        raise BadFrame("binary frame")
    try:
        body = json.loads(data)
    except ValueError:
        raise BadFrame("not JSON") from None
    if not isinstance(body, dict):
        raise BadFrame("not a JSON object")
    kind = body.get("type")
    model = FRAMES.get(kind, Frame) if isinstance(kind, str) else Frame
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['type']}"
                          for e in exc.errors()[:3])
        raise BadFrame(wrong) from None


class _Origin(TypedDict):
    """The fields every Incoming from one person's page shares."""

    channel: str
    chat_id: str
    user_id: str


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


def look(body: dict[str, Any]) -> str:
    """What a message shows (text and buttons): a re-sync sends an edit when it changed."""
    return hashlib.blake2b(json.dumps([body.get("text"), body.get("buttons")],
                                      ensure_ascii=False).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Push:
    ident: str | None  # de-dup id (message key, or edit:<edit key>); None = always send
    payload: dict[str, Any]
    shows: tuple[str, str] | None = None  # (message key, look) this frame leaves on the page


@dataclass
class Tab:
    """One WebSocket's view: what it was shown; frames held back until history is sent."""

    ready: bool = False
    shown: OrderedDict[str, str] = field(default_factory=OrderedDict)
    waiting: list[Push] = field(default_factory=list)

    def admit(self, push: Push) -> bool:
        """Record the frame as shown; False when this tab had it already."""
        if push.ident is not None:
            if push.ident in self.shown:
                return False
            self.remember(push.ident, "")
        if push.shows is not None:
            key, shown_look = push.shows
            if key == push.ident or key in self.shown:  # an edit of a message never shown
                self.remember(key, shown_look)        # here stays unshown (re-sync sends it)
        return True

    def remember(self, key: str, seen_look: str) -> None:
        self.shown[key] = seen_look
        self.shown.move_to_end(key)
        while len(self.shown) > REMEMBERED:
            self.shown.popitem(last=False)


class Fanout(Protocol):
    """Carries sends and edits to the other replicas' tabs (bot/webchat_fanout.py)."""

    async def start(self, hub: WebChat) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, out: Outgoing, target: str | None) -> None: ...

    def status(self) -> str: ...


class WebChat:
    name = "web"

    def __init__(
        self, *, receive: Receive,
        history: Callable[[str], Awaitable[list[Outgoing]]],
        directory: Callable[[], Awaitable[list[WebUser]]],
        texts: Callable[[str], dict[str, str]],
        demo: bool, cookie_secret: str, max_text_chars: int = 20_000,
        fanout: Fanout | None = None, allowed_origins: frozenset[str] = frozenset(),
        secure_cookies: bool = False, identity_limit: NewIdentityLimit | None = None,
        trusted_proxies: int = 0,
    ) -> None:
        self.receive, self.history, self.directory, self.texts = receive, history, directory, texts
        self.demo = demo
        self._secret = (cookie_secret or secrets.token_hex(32)).encode()
        self.max_text_chars = max_text_chars
        self.fanout = fanout
        self.allowed_origins, self.secure_cookies = allowed_origins, secure_cookies
        self.identity_limit = identity_limit or NewIdentityLimit(0)
        self.trusted_proxies = trusted_proxies
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._tabs: dict[web.WebSocketResponse, Tab] = {}
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
        if self.fanout is not None:
            await self.fanout.start(self)
        self._state = "ok"

    async def stop(self) -> None:
        self._state = "stopped"
        if self.fanout is not None:
            await self.fanout.stop()
        sockets = [ws for group in self._sockets.values() for ws in group]
        await asyncio.gather(*(ws.close(code=1001, message=b"shutdown") for ws in sockets),
                             return_exceptions=True)

    def status(self) -> str:
        tabs = f"{self._state} ({sum(len(s) for s in self._sockets.values())} tabs)"
        return tabs if self.fanout is None else f"{tabs}; fan-out {self.fanout.status()}"

    # --- Channel -----------------------------------------------------------------------
    async def send(self, out: Outgoing) -> str | None:
        await self.deliver(out, None)
        await self._publish(out, None)
        return out.key

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        await self.deliver(out, platform_message_id)
        await self._publish(out, platform_message_id)

    async def _publish(self, out: Outgoing, target: str | None) -> None:
        if self.fanout is None:
            return
        try:
            await self.fanout.publish(out, target)
        except Exception as exc:  # this replica's tabs have it; the retry reaches the others
            raise DeliveryError(f"web chat fan-out failed: {type(exc).__name__}") from exc

    # --- Local tabs (called by send/edit here, and by the fan-out for other replicas) ---
    async def deliver(self, out: Outgoing, target: str | None) -> None:
        """Push a send (target None) or an edit of message `target` to this process's tabs."""
        body = frame(out)
        if target is None:
            push = Push(out.key, {"type": "message", **body}, (out.key, look(body)))
        else:
            push = Push(f"edit:{out.key}", {"type": "edit", "key": target, "text": body["text"],
                                            "buttons": body["buttons"]}, (target, look(body)))
        await self._push(out.chat_id, push)

    async def resync(self) -> None:
        """Bring every tab up to date from history: messages it missed, edits it missed
        (after the fan-out listener was disconnected, nothing is lost)."""
        for chat_id in list(self._sockets):
            tabs = [ws for ws in self._sockets.get(chat_id, ()) if self._tab(ws).ready]
            if not tabs:
                continue
            try:
                messages = [frame(m) for m in await self.history(chat_id)]
            except Exception:
                log.exception("web chat re-sync of %s failed", chat_id)
                continue
            await asyncio.gather(*(self._catch_up(chat_id, ws, messages) for ws in tabs))

    async def _catch_up(self, chat_id: str, ws: web.WebSocketResponse,
                        messages: list[dict[str, Any]]) -> None:
        tab = self._tab(ws)
        for body in messages:
            shown = tab.shown.get(body["key"])
            if shown is None:
                push = Push(body["key"], {"type": "message", **body}, (body["key"], look(body)))
            elif shown != look(body):
                push = Push(None, {"type": "edit", "key": body["key"], "text": body["text"],
                                   "buttons": body["buttons"]}, (body["key"], look(body)))
            else:
                continue
            if not await self._push_one(chat_id, ws, push):
                return

    async def _push(self, chat_id: str, push: Push) -> None:
        # All tabs at once, each with a deadline: a dead or stalled tab must not hold up the
        # others (nor the delivery worker); the message stays in history for its next connect.
        tabs = list(self._sockets.get(chat_id, ()))
        await asyncio.gather(*(self._push_one(chat_id, ws, push) for ws in tabs))

    def _tab(self, ws: web.WebSocketResponse) -> Tab:
        tab = self._tabs.get(ws)
        if tab is None:  # a socket added from outside the session (tests)
            tab = self._tabs[ws] = Tab(ready=True)
        return tab

    async def _push_one(self, chat_id: str, ws: web.WebSocketResponse, push: Push) -> bool:
        """False when the tab is gone."""
        tab = self._tab(ws)
        if not tab.ready:  # its history is on the way: sent after it, unless history had it
            tab.waiting.append(push)
            return True
        return await self._send_to(chat_id, ws, tab, push)

    async def _send_to(self, chat_id: str, ws: web.WebSocketResponse, tab: Tab,
                       push: Push) -> bool:
        if not tab.admit(push):
            return True
        try:
            await asyncio.wait_for(ws.send_json(push.payload), SEND_TIMEOUT)
        except (ConnectionError, RuntimeError, TimeoutError):
            log.info("web chat tab of %s dropped", chat_id)
            self._forget(chat_id, ws)
            with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
                await asyncio.wait_for(ws.close(code=1011, message=b"send failed"), 1.0)
            return False
        return True

    def _forget(self, chat_id: str, ws: web.WebSocketResponse) -> None:
        self._tabs.pop(ws, None)
        tabs = self._sockets.get(chat_id)
        if tabs is not None:
            tabs.discard(ws)
            if not tabs:  # no empty sets piling up for people who came and went
                del self._sockets[chat_id]

    # --- Routes (thin: translate and hand over) ----------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        if not self.demo and self._identity_from_cookie(request) is None:
            address = client_address(request, self.trusted_proxies)
            if not self.identity_limit.allow(address):
                if self.identity_limit.worth_logging(address):
                    log.warning("web chat: new identities from %s over the hourly limit",
                                address)
                return self._too_many()
            self._set_cookie(response, secrets.token_urlsafe(16))
        return response

    def _too_many(self) -> web.Response:
        text = html.escape(self.texts("").get("too_many_visitors", "429"))
        body = f"<!doctype html><meta charset=utf-8><title>429</title><p>{text}</p>"
        return web.Response(status=429, text=body, content_type="text/html",
                            headers={"Retry-After": "3600"})

    async def _people(self, request: web.Request) -> web.Response:
        if not self.demo:
            raise web.HTTPNotFound()
        people = await self.directory()
        return web.json_response([p.__dict__ for p in people])

    async def _texts(self, request: web.Request) -> web.Response:
        lang = request.query.get("lang", "zh")
        return web.json_response({"demo": self.demo, "texts": self.texts(lang)})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        if not origin_allowed(request, self.allowed_origins):
            log.warning("web chat socket refused: origin %r is not this site's",
                        request.headers.get("Origin", "")[:100])
            raise web.HTTPForbidden()
        user_id = await self._identify(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        if user_id is None:
            await ws.close(code=4403, message=b"unknown person")
            return ws
        self._tabs[ws] = Tab()
        self._sockets[user_id].add(ws)
        try:
            await self._session(ws, user_id)
        finally:
            self._forget(user_id, ws)
        return ws

    async def _session(self, ws: web.WebSocketResponse, user_id: str) -> None:
        tab = self._tab(ws)
        messages = [frame(m) for m in await self.history(user_id)]
        for body in messages:
            tab.remember(body["key"], look(body))
        await ws.send_json({"type": "history", "messages": messages})
        while tab.waiting:  # pushed while history was loading: not lost, not shown twice
            if not await self._send_to(user_id, ws, tab, tab.waiting.pop(0)):
                return
        tab.ready = True
        if user_id not in self._seen:
            self._seen.add(user_id)
            await self._hand_over(ws, Incoming("web", user_id, user_id, f"join:{user_id}",
                                               Kind.JOIN))
        refused = 0
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                try:
                    inc = self.incoming(user_id, msg.data)
                except BadFrame as exc:
                    refused += 1
                    await self._refuse(ws, user_id, exc)
                    if refused >= MAX_BAD_FRAMES:  # no page of ours does this: a script
                        await ws.close(code=1008, message=b"bad frames")
                        break
                    continue
                await self._hand_over(ws, inc)
            elif msg.type == WSMsgType.ERROR:
                break

    async def _refuse(self, ws: web.WebSocketResponse, user_id: str, exc: BadFrame) -> None:
        log.warning("web chat frame of %s refused (bad input): %s", user_id, exc)
        await ws.send_json({"type": "error", "text": self.texts("").get("bad_frame", "")})

    async def _hand_over(self, ws: web.WebSocketResponse, raw: Incoming) -> None:
        inc = scrub(raw)
        if inc is None:
            return
        try:
            await self.receive(inc)
        except Exception:
            log.exception("web chat update %s of %s failed", inc.update_id, inc.user_id)
            await ws.send_json({"type": "error", "text": self.texts("").get("error", "")})

    # --- Translation -------------------------------------------------------------------
    def incoming(self, user_id: str, data: str | bytes) -> Incoming:
        """A frame from the page as the desk's Incoming (a type we do not know: UNSUPPORTED);
        `BadFrame` when it does not fit the schema."""
        frame_ = parse_frame(data)
        base: _Origin = {"channel": "web", "chat_id": user_id, "user_id": user_id}
        ident = update_id(user_id, frame_.id)
        if isinstance(frame_, TextFrame):
            text = frame_.text[: self.max_text_chars]
            is_command = text.lstrip().startswith("/")
            return Incoming(**base, update_id=ident, text=text,
                            kind=Kind.COMMAND if is_command else Kind.TEXT)
        if isinstance(frame_, ButtonFrame):
            return Incoming(**base, update_id=ident, kind=Kind.BUTTON, data=frame_.data[:200])
        return Incoming(**base, update_id=ident, kind=Kind.UNSUPPORTED, raw_kind=frame_.type)

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
                            samesite="Lax", max_age=365 * 24 * 3600,
                            secure=self.secure_cookies)


def update_id(user_id: str, frame_id: str) -> str:
    """The desk's update id of a frame: scoped to the visitor, so visitor B's frame is never
    taken for a repeat of visitor A's with the same id; hashed when it would be too long."""
    scoped = f"{user_id}:{frame_id}"
    if len(scoped) <= MAX_UPDATE_ID:
        return scoped
    return "h:" + hashlib.sha256(scoped.encode()).hexdigest()
