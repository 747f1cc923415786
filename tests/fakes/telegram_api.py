"""A fake Telegram Bot API server on 127.0.0.1, enough for python-telegram-bot to run a bot.

Tests inject updates (`say`, `press`, `send_photo`, `send_voice`), read what the bot sent (`calls`,
`sent_to`), and make the server misbehave (`fail_next`: 429 with retry_after, 403 blocked,
500; `hang_next`: no answer within the client's timeout). Requests arrive form-encoded
(values JSON-encoded) or multipart for uploads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT = {"id": 999, "is_bot": True, "first_name": "frontline", "username": "frontline_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeBotApi:
    token: str = "123:TEST"
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    delay: float = 0.0  # every send answered this much later (a slow platform)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._messages = itertools.count(100)
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self.server: TestServer | None = None

    # --- running ----------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return f"http://127.0.0.1:{self.server.port}"

    async def close(self) -> None:
        self._closing.set()  # hung requests give up now: closing never waits for them
        if self.server is not None:
            await self.server.close()

    # --- what tests do ----------------------------------------------------------------
    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    def _chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        return {"id": chat_id, "type": kind}

    def message(self, user_id: int, name: str, chat_id: int | None = None,
                chat_type: str = "private", **content: Any) -> dict[str, Any]:
        update = {"update_id": next(self._ids), "message": {
            "message_id": next(self._messages), "date": int(time.time()),
            "chat": self._chat(chat_id or user_id, chat_type),
            "from": self._user(user_id, name), **content}}
        self.updates.append(update)
        self._changed.set()
        return update

    def say(self, user_id: int, name: str, text: str, **kw: Any) -> dict[str, Any]:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] \
            if text.startswith("/") else []
        return self.message(user_id, name, text=text, entities=entities, **kw)

    def press(self, user_id: int, name: str, data: str, message_id: int = 1,
              chat_id: int | None = None, chat_type: str = "private") -> dict[str, Any]:
        update = {"update_id": next(self._ids), "callback_query": {
            "id": str(next(self._ids) + 10_000), "chat_instance": "ci",
            "from": self._user(user_id, name), "data": data,
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": self._chat(chat_id or user_id, chat_type), "text": "…",
                        "from": BOT}}}
        self.updates.append(update)
        self._changed.set()
        return update

    def send_photo(self, user_id: int, name: str, data: bytes, size: int | None = None) -> None:
        file_id = f"photo{len(self.files)}"
        self.files[file_id] = data
        photo = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800,
                  "height": 600, "file_size": size if size is not None else len(data)}]
        self.message(user_id, name, photo=photo)

    def send_voice(self, user_id: int, name: str, data: bytes, duration: int,
                   size: int | None = None, *, audio: bool = False,
                   mime: str | None = None) -> str:
        """A voice message (or, `audio=True`, an audio file); returns its file id."""
        file_id = f"voice{len(self.files)}"
        self.files[file_id] = data
        clip: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                "duration": duration,
                                "file_size": size if size is not None else len(data)}
        if mime is not None:
            clip["mime_type"] = mime
        self.message(user_id, name, **{"audio" if audio else "voice": clip})
        return file_id

    def downloads(self) -> list[str]:
        """The file ids the bot fetched (getFile), in order."""
        return [str(c.params["file_id"]) for c in self.calls if c.method == "getFile"]

    def fail_next(self, method: str, status: int, **body: Any) -> None:
        self.failures.append((method, status, body))

    def hang_next(self, method: str, times: int = 1, *, seconds: float = 30,
                  delivered: bool = False) -> None:
        """The next `times` calls of `method` get no answer for `seconds` (longer than the
        client's timeout), recorded as "<method>:hung". By default a hung call has no effect
        (the platform never got it); `delivered=True` carries it out first (the message
        reaches the chat, only the answer is lost), which is what makes delivery
        at-least-once."""
        for _ in range(times):  # status 0: no answer at all (one queue keeps the order)
            self.failures.append((method, 0, {"seconds": seconds, "delivered": delivered}))

    def sent_to(self, chat_id: int, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls
                if c.method == method and str(c.params.get("chat_id")) == str(chat_id)]

    def texts_to(self, chat_id: int) -> list[str]:
        return [p.get("text", "") for p in self.sent_to(chat_id)]

    async def wait_for(self, check: Any, within: float = 15) -> None:
        """Until check() is true: the bot works asynchronously (polling, the outbox)."""
        deadline = asyncio.get_running_loop().time() + within
        while not check():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError("the fake Bot API never saw what the test waited for")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass

    # --- the API ----------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            if hasattr(value, "file"):
                out[key] = value.file.read()
                continue
            try:
                out[key] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                out[key] = value
        return out

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        for i, (name, status, body) in enumerate(self.failures):
            if name == method:
                del self.failures[i]
                if status == 0:
                    return await self._hang(method, params, body["seconds"], body["delivered"])
                self.calls.append(Call(method + ":failed", params))
                self._changed.set()
                return web.json_response({"ok": False, "error_code": status, **body},
                                         status=status)
        if method != "getUpdates":
            self.calls.append(Call(method, params))
            self._changed.set()
        if self.delay and method.startswith("send"):
            await asyncio.sleep(self.delay)
        handler = getattr(self, f"_m_{method}", None)
        result = await handler(params) if handler else True
        return web.json_response({"ok": True, "result": result})

    async def _hang(self, method: str, params: dict[str, Any], seconds: float,
                    delivered: bool) -> web.Response:
        if delivered:  # carried out: the chat sees it, the client never hears back
            self.calls.append(Call(method, params))
            handler = getattr(self, f"_m_{method}", None)
            if handler is not None:
                await handler(params)
        self.calls.append(Call(method + ":hung", params))
        self._changed.set()
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass
        return web.json_response({"ok": False, "error_code": 504,
                                  "description": "Gateway Timeout"}, status=504)

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return BOT

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset", 0) or 0)
        self.offsets.append(offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(float(p.get("timeout", 0)), 1))
            except TimeoutError:
                pass
        return [u for u in self.updates if u["update_id"] >= offset]

    def _sent(self, p: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"message_id": next(self._messages), "date": int(time.time()),
                "chat": self._chat(int(p["chat_id"])), "from": BOT, **extra}

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        return self._sent(p, text=p.get("text", ""))

    async def _m_sendPhoto(self, p: dict[str, Any]) -> Any:
        return self._sent(p, photo=[{"file_id": "x", "file_unique_id": "x", "width": 1,
                                     "height": 1}])

    async def _m_sendVoice(self, p: dict[str, Any]) -> Any:
        return self._sent(p, voice={"file_id": "v", "file_unique_id": "v",
                                    "duration": int(p.get("duration") or 0)})

    async def _m_sendAudio(self, p: dict[str, Any]) -> Any:
        return self._sent(p, audio={"file_id": "a", "file_unique_id": "a",
                                    "duration": int(p.get("duration") or 0)})

    async def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        return self._sent(p, document={"file_id": "d", "file_unique_id": "d"})

    async def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        return self._sent(p, message_id=int(p["message_id"]), text=p.get("text", ""))

    async def _m_getFile(self, p: dict[str, Any]) -> Any:
        file_id = p["file_id"]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                "file_size": len(self.files.get(file_id, b"")), "file_path": f"photos/{file_id}"}

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["path"].rsplit("/", 1)[-1]
        if name not in self.files:
            raise web.HTTPNotFound()
        kind = "audio/ogg" if name.startswith("voice") else "image/jpeg"
        return web.Response(body=self.files[name], content_type=kind)
