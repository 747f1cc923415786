"""The built-in web chat: an aiohttp page and a WebSocket per browser tab.

Adapters translate, handlers decide: a frame from the page becomes an `Incoming`; an
`Outgoing` becomes a frame to every tab open for that chat. A message sent while nobody is
connected is not lost — it stays in the outbox, and `history` replays it on connect.

Identity: in demo mode the page chooses any demo person (`?user=`); otherwise each browser
gets a random id in an HttpOnly cookie signed with HMAC-SHA256, so nobody can pose as
someone else by editing the cookie. One client address gets at most N new identities an hour
(`NewIdentityLimit`); the cookie is `Secure` when the site is served over TLS; the WebSocket
only opens for pages of our own origin (bot/security.py).

History lives on the server (storage/webchat_history.py, through `Transcript`): what the bot
sent, edits folded in, and what the person typed or pressed, so a reload or another device
shows the whole conversation; the buttons of a message that a later one of the same ticket or
dialogue replaced are marked not live. A photo is uploaded over HTTP (`POST /webchat/photo`),
stored like a Telegram photo and handed to the desk as one. In demo mode `POST
/webchat/demo/skip` moves the desk's clock a day on and runs the timers (`DemoTime`).

Frames from the page are checked against a schema (`TextFrame`, `ButtonFrame`, `LangFrame`):
a frame that does not fit (`"text": null`, a list, a frame id with control characters) is
refused with an error frame and one log line, and never reaches the desk. Frame ids are scoped per
visitor: two visitors' pages may pick the same id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import io
import json
import logging
import secrets
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypedDict
from urllib.parse import quote

from aiohttp import BodyPartReader, WSMsgType, web
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from bot.badinput import NUL, scrub
from bot.channels import DeliveryError, Receive
from bot.security import NewIdentityLimit, client_address, origin_allowed
from handlers.core.messages import FileRef, Incoming, Kind, Outgoing

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "frontline_web"
MAX_FRAME = 64 * 1024
HEARTBEAT = 25.0
SEND_TIMEOUT = 5.0  # seconds one tab may take to accept a frame
# files the page may show in the browser; anything else (HTML, SVG …) only downloads
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp",
                          "image/gif", "audio/ogg", "audio/mpeg", "audio/mp4"})
REMEMBERED = 2000  # message keys a tab remembers for de-duplication (history shows ≤ 200)


# What a page may use as a frame id: printable ASCII, no spaces (the page sends UUIDs).
FrameId = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                           pattern=r"^[\x21-\x7e]+$")]
MAX_UPDATE_ID = 150  # SeenUpdate.update_id holds 160
MAX_BAD_FRAMES = 20  # refused frames before a socket is closed
MAX_LABEL = 100  # a pressed button's label, as the person's own line shows it
PHOTO_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
DEMO_SKIP_HOURS = 24


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
    label: str = ""  # what the button said: the person's own line in history


class LangFrame(Frame):
    """The page's 中文/English selector: the person's language, as `/lang` sets it."""

    type: Literal["lang"]
    lang: Annotated[str, StringConstraints(max_length=10)]


FRAMES: dict[str, type[Frame]] = {"text": TextFrame, "button": ButtonFrame, "lang": LangFrame}


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
    buttons = [[{"label": b.label, "data": b.data} for b in row] for row in out.buttons]
    return {
        "key": out.key,
        "text": out.text,
        "buttons": buttons,
        "files": [{"name": f.name, "mime": f.mime, "url": file_url(out.key, i)}
                  for i, f in enumerate(out.files)],
        "group": button_group(out.key, buttons),
    }


def file_url(key: str, index: int) -> str:
    """Where the page opens a file the bot sent: only the chat it was sent to may."""
    return f"/webchat/file/{quote(key, safe='')}/{index}"


def edit_frame(target: str, body: dict[str, Any]) -> dict[str, Any]:
    """The page's frame for an edit of message `target` to what `body` shows."""
    return {"type": "edit", "key": target, "text": body["text"], "buttons": body["buttons"],
            "group": button_group(target, body["buttons"])}


def button_group(key: str, buttons: list[list[dict[str, str]]]) -> str:
    """Which buttons a later message replaces: those of the same ticket (`t:12`) or record,
    and any earlier dialogue's (`i`: a person is in one dialogue at a time)."""
    first = next((b["data"] for row in buttons for b in row), None)
    if first is None:
        return ""
    scope, _, rest = first.partition(":")
    if scope == "i":
        return "i"
    ref = rest.partition(":")[0]
    return f"{scope}:{ref}" if len(scope) == 1 and ref else f"key:{key}"


def mark_live(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot messages of a history, each with `live`: False when a later message has
    buttons of its group, or the person already pressed one of its buttons (pressing again
    would only get the desk's "no longer valid" answer)."""
    later: set[str] = set()
    pressed: set[str] = set()
    messages: list[dict[str, Any]] = []
    for body in reversed(lines):
        if body.get("mine"):
            pressed.add(body.get("pressed") or "")
            continue
        buttons = body.get("buttons") or []
        group = body.get("group") or button_group(body["key"], buttons)
        used = any(b["data"] in pressed for row in buttons for b in row)
        messages.append({**body, "group": group,
                         "live": bool(group) and group not in later and not used})
        if group:
            later.add(group)
    return messages[::-1]


def own_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The person's own lines of a history, each with the bot message it came before (None:
    after the last one), so the page can weave them in."""
    mine: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    for line in lines:
        if line.get("mine"):
            item = {"key": line["key"], "text": line["text"], "before": None}
            mine.append(item)
            waiting.append(item)
        else:
            for item in waiting:
                item["before"] = line["key"]
            waiting = []
    return mine


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


class Transcript(Protocol):
    """Where the chat's lines are kept for history (storage/webchat_history.py)."""

    async def sent(self, out: Outgoing, target: str | None) -> None: ...

    async def said(self, chat_id: str, key: str, text: str, pressed: str) -> None: ...

    async def file(self, chat_id: str, key: str, index: int) -> FileRef | None: ...


class PhotoStore(Protocol):
    """bot/files.py FileStore: the same store and size limit Telegram photos get."""

    max_bytes: int

    async def save(self, data: bytes, name: str, mime: str) -> FileRef: ...

    async def read(self, key: str) -> bytes: ...


class DemoTime(Protocol):
    """The demo's clock: shown on the page, moved on by the time control."""

    def shown(self, lang: str) -> str: ...

    async def skip(self, hours: int) -> int:
        """Move on `hours` and run the timers now due; how many fired."""
        ...


class Refused(Exception):
    """An upload the desk will not take; `text_key` names the page text that says why."""

    def __init__(self, status: int, text_key: str) -> None:
        super().__init__(text_key)
        self.status, self.text_key = status, text_key


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
        history: Callable[[str], Awaitable[list[dict[str, Any]]]],
        directory: Callable[[], Awaitable[list[WebUser]]],
        texts: Callable[[str], dict[str, str]],
        demo: bool, cookie_secret: str, max_text_chars: int = 20_000,
        fanout: Fanout | None = None, allowed_origins: frozenset[str] = frozenset(),
        secure_cookies: bool = False, identity_limit: NewIdentityLimit | None = None,
        trusted_proxies: int = 0, transcript: Transcript | None = None,
        photos: PhotoStore | None = None, demo_time: DemoTime | None = None,
    ) -> None:
        """`history(chat_id)`: the chat's lines oldest first, bot messages as `frame` makes
        them and the person's own as `{"key", "text", "mine": True}`."""
        self.receive, self.history, self.directory, self.texts = receive, history, directory, texts
        self.transcript, self.photos = transcript, photos
        self.demo_time = demo_time if demo else None  # never outside demo mode
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
        app.router.add_post("/webchat/photo", self._photo)
        app.router.add_get(r"/webchat/file/{key}/{index:\d{1,3}}", self._file)
        app.router.add_get("/webchat/demo/time", self._demo_time)
        app.router.add_post("/webchat/demo/skip", self._demo_skip)
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
        await self._keep(out, None)
        await self.deliver(out, None)
        await self._publish(out, None)
        return out.key

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        await self._keep(out, platform_message_id)
        await self.deliver(out, platform_message_id)
        await self._publish(out, platform_message_id)

    async def _keep(self, out: Outgoing, target: str | None) -> None:
        """In history first: a page (re)connecting meanwhile finds it there."""
        if self.transcript is None:
            return
        try:
            await self.transcript.sent(out, target)
        except Exception as exc:  # not kept means a reload would lose it: send it again later
            raise DeliveryError(f"web chat history not written: {type(exc).__name__}") from exc

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
            push = Push(f"edit:{out.key}", edit_frame(target, body), (target, look(body)))
        await self._push(out.chat_id, push)

    async def resync(self) -> None:
        """Bring every tab up to date from history: messages it missed, edits it missed
        (after the fan-out listener was disconnected, nothing is lost)."""
        for chat_id in list(self._sockets):
            tabs = [ws for ws in self._sockets.get(chat_id, ()) if self._tab(ws).ready]
            if not tabs:
                continue
            try:
                messages = [m for m in await self.history(chat_id) if not m.get("mine")]
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
                push = Push(None, edit_frame(body["key"], body), (body["key"], look(body)))
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
        return web.json_response({"demo": self.demo, "time_control": self.demo_time is not None,
                                  "photos": self.photos is not None,
                                  "texts": self.texts(lang)})

    # --- Demo time (demo mode only: 404 otherwise) ---------------------------------------
    async def _demo_time(self, request: web.Request) -> web.Response:
        if self.demo_time is None:
            raise web.HTTPNotFound()
        return web.json_response({"now": self.demo_time.shown(request.query.get("lang", ""))})

    async def _demo_skip(self, request: web.Request) -> web.Response:
        if self.demo_time is None:
            raise web.HTTPNotFound()
        if not origin_allowed(request, self.allowed_origins):
            raise web.HTTPForbidden()
        fired = await self.demo_time.skip(DEMO_SKIP_HOURS)
        log.info("demo clock moved %s hours on; %s timers fired", DEMO_SKIP_HOURS, fired)
        return web.json_response({"now": self.demo_time.shown(request.query.get("lang", "")),
                                  "fired": fired})

    # --- Photos ------------------------------------------------------------------------
    async def _photo(self, request: web.Request) -> web.Response:
        """One photo from the page's camera/photo button: stored, then handed to the desk as
        a photo, exactly as a Telegram photo is. Refusals answer with a text for the page."""
        if not origin_allowed(request, self.allowed_origins):
            raise web.HTTPForbidden()
        user_id = await self._identify(request)
        if user_id is None or self.photos is None:
            raise web.HTTPForbidden() if self.photos is not None else web.HTTPNotFound()
        texts = self.texts(request.query.get("lang", ""))
        try:
            frame_id, data = await self._read_upload(request, self.photos.max_bytes)
            ref = await self._store_photo(data)
        except Refused as exc:
            log.info("web chat photo of %s refused: %s", user_id, exc.text_key)
            text = texts.get(exc.text_key, exc.text_key)
            return web.json_response({"error": text.format(mb=self._limit_mb())},
                                     status=exc.status)
        inc = Incoming("web", user_id, user_id, update_id(user_id, frame_id), Kind.PHOTO,
                       photo=ref)
        line = texts.get("page.photo_line", "📷")
        await self._say(user_id, inc, line, None)  # every tab of the person, this one too
        try:
            await self.receive(inc)
        except Exception:
            log.exception("web chat photo %s of %s failed", inc.update_id, user_id)
            return web.json_response({"error": texts.get("error", "")}, status=500)
        return web.json_response({"ok": True, "key": f"me:{inc.update_id}", "text": line})

    async def _file(self, request: web.Request) -> web.Response:
        """A file the bot sent (a fault report PDF, a photo): to the chat it was sent to only.
        Types a browser could run as a page are sent as a download, never shown inline."""
        user_id = await self._identify(request)
        if user_id is None:
            raise web.HTTPForbidden()
        transcript, store = self.transcript, self.photos
        ref = await transcript.file(user_id, request.match_info["key"],
                                    int(request.match_info["index"])) \
            if transcript is not None and store is not None else None
        if ref is None or store is None or not ref.key:
            raise web.HTTPNotFound(text=self.texts(request.query.get("lang", ""))
                                   .get("page.file_gone", "file not found"))
        try:
            data = await store.read(ref.key)
        except (OSError, ValueError):
            raise web.HTTPNotFound(text=self.texts(request.query.get("lang", ""))
                                   .get("page.file_gone", "file not found")) from None
        shown = ref.mime in INLINE_TYPES
        disposition = "inline" if shown else "attachment"
        name = quote(ref.name or "file", safe="")
        return web.Response(body=data,
                            content_type=ref.mime if shown else "application/octet-stream",
                            headers={"Content-Disposition": f"{disposition}; "
                                                            f"filename*=UTF-8''{name}",
                                     "Cache-Control": "private, no-store"})

    def _limit_mb(self) -> str:
        size = self.photos.max_bytes if self.photos is not None else 0
        return f"{size / 1024 / 1024:.0f}" if size >= 1024 * 1024 else f"{size / 1024 / 1024:.2f}"

    @staticmethod
    async def _read_upload(request: web.Request, limit: int) -> tuple[str, bytes]:
        """The form's `id` and `photo` parts; read no further than the limit allows."""
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            raise Refused(400, "page.photo_failed") from None
        frame_id, data = "", b""
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise Refused(400, "page.photo_failed")
            if part.name == "id":
                frame_id = (await part.read(decode=False))[:MAX_UPDATE_ID].decode(
                    "ascii", "replace")
            elif part.name == "photo":
                chunks, size = [], 0
                while chunk := await part.read_chunk(64 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise Refused(413, "page.photo_too_big")
                    chunks.append(chunk)
                data = b"".join(chunks)
            else:
                await part.release()
        try:
            checked = Frame.model_validate({"type": "photo", "id": frame_id}).id
        except ValidationError:
            raise Refused(400, "page.photo_failed") from None
        if not data:
            raise Refused(400, "page.photo_not_image")
        return checked, data

    async def _store_photo(self, data: bytes) -> FileRef:
        assert self.photos is not None
        kind = await asyncio.to_thread(image_format, data)
        if kind not in PHOTO_FORMATS:
            raise Refused(415, "page.photo_not_image")
        mime = Image.MIME.get(kind, "application/octet-stream")
        try:
            return await self.photos.save(data, f"web-photo{PHOTO_FORMATS[kind]}", mime)
        except ValueError:
            raise Refused(413, "page.photo_too_big") from None
        except OSError:
            log.exception("web chat photo could not be stored")
            raise Refused(500, "page.photo_failed") from None

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
        lines = await self.history(user_id)
        messages = mark_live(lines)
        for body in messages:
            tab.remember(body["key"], look(body))
        await ws.send_json({"type": "history", "messages": messages,
                            "mine": own_lines(lines)})
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
                clean = scrub(inc)
                if clean is None:
                    continue
                await self._say(user_id, clean, self._as_seen(msg.data, clean), ws)
                await self._hand_over(ws, clean)
            elif msg.type == WSMsgType.ERROR:
                break

    @staticmethod
    def _as_seen(data: str | bytes, inc: Incoming) -> str:
        """The person's own line as their page showed it ("" for what it does not show)."""
        if inc.kind is Kind.BUTTON:
            label = json.loads(data).get("label")
            label = label.replace(NUL, "")[:MAX_LABEL] if isinstance(label, str) else ""
            return f"「{label}」" if label else ""
        if inc.kind is Kind.TEXT or (inc.kind is Kind.COMMAND
                                     and json.loads(data).get("type") == "text"):
            return inc.text  # the selector's language choice is not a line the person wrote
        return ""

    async def _say(self, user_id: str, inc: Incoming, text: str,
                   sender: web.WebSocketResponse | None) -> None:
        """Keep the person's line for history and show it on their other tabs; a line not
        kept costs only the history (the desk still gets the message)."""
        if not text or not inc.private:
            return
        key = f"me:{inc.update_id}"
        if self.transcript is not None:
            try:
                pressed = inc.data if inc.kind is Kind.BUTTON else ""
                await self.transcript.said(user_id, key, text, pressed)
            except Exception:
                log.exception("web chat line %s of %s not kept", inc.update_id, user_id)
        push = Push(key, {"type": "mine", "key": key, "text": text})
        others = [ws for ws in self._sockets.get(user_id, ()) if ws is not sender]
        await asyncio.gather(*(self._push_one(user_id, ws, push) for ws in others))

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
        if isinstance(frame_, LangFrame):  # the desk answers a language it does not know
            return Incoming(**base, update_id=ident, kind=Kind.COMMAND,
                            text=f"/lang {frame_.lang}")
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


def image_format(data: bytes) -> str:
    """The image format Pillow reads in these bytes ("" when they are no image it knows)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format or ""
            img.verify()  # a truncated or corrupt file fails here, not at the engineer's
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        return ""
    return kind
