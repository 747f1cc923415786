"""The callback endpoint: URL verification (GET) and encrypted messages (POST).

A POST is checked (timestamp window, signature, receive id), answered at once with an empty
200 — WeCom retries anything slower than about five seconds — and handed to `on_message` in a
background task. A genuine callback whose update was taken already (WeCom's retry, or a
replay) gets the same empty 200 and is dropped: a refusal would only make WeCom retry again.
Refusals are logged with the reason and ids only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.wecom.cache import TtlCache
from bot.wecom.crypto import CryptoError, ReceiveIdError, SignatureError, WeComCrypto
from bot.wecom.inbound import update_id
from bot.wecom.xmlmsg import XmlError, parse_fields

log = logging.getLogger(__name__)

OnMessage = Callable[[dict[str, str]], Awaitable[None]]
REPLAY_CACHE_SIZE = 50_000
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; a longer number is nobody's clock


class Refused(Exception):
    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class CallbackEndpoint:
    def __init__(
        self, crypto: WeComCrypto, on_message: OnMessage, *, window_seconds: float = 300,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._crypto, self._on_message = crypto, on_message
        self._window, self._now = window_seconds, now
        # A replay older than the window fails the timestamp check, so the guard only has
        # to remember ids for twice the window (clock skew either way).
        self._seen: TtlCache[bool] = TtlCache(2 * window_seconds + 60, REPLAY_CACHE_SIZE, now)
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, app: web.Application, path: str) -> None:
        app.router.add_get(path, self.verify_url)
        app.router.add_post(path, self.receive)

    async def verify_url(self, request: web.Request) -> web.Response:
        """WeCom's URL check: answer the decrypted echostr."""
        try:
            q = _params(request, "msg_signature", "timestamp", "nonce", "echostr")
            self._check_time(q["timestamp"])
            plain = self._open(q, q["echostr"])
        except Refused as exc:
            return _refuse(request, exc)
        return web.Response(text=plain.decode())

    async def receive(self, request: web.Request) -> web.Response:
        try:
            fields = await self._read(request)
        except Refused as exc:
            return _refuse(request, exc)
        if not self._seen.add_new(update_id(fields), True):
            log.info("wecom update %s again (a retry or a replay): taken already, dropped",
                     update_id(fields))
            return web.Response(text="")
        task = asyncio.create_task(self._handle(fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(text="")

    async def drain(self) -> None:
        """Wait for callbacks still being handled (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Shutdown: let running callbacks finish for a while, then cancel the rest."""
        try:
            await asyncio.wait_for(self.drain(), grace_seconds)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            log.warning("wecom: callbacks still running at shutdown were cancelled")

    async def _read(self, request: web.Request) -> dict[str, str]:
        q = _params(request, "msg_signature", "timestamp", "nonce")
        self._check_time(q["timestamp"])
        outer = _xml(await request.read())
        if not outer.get("Encrypt"):
            raise Refused("no Encrypt element", 400)
        return _xml(self._open(q, outer["Encrypt"]))

    def _check_time(self, timestamp: str) -> None:
        if not TIMESTAMP.fullmatch(timestamp):
            raise Refused("timestamp not a number of seconds", 400)
        skew = abs(self._now() - int(timestamp))
        if skew > self._window:
            raise Refused(f"timestamp outside the window ({skew:.0f}s)")

    def _open(self, q: dict[str, str], encrypt: str) -> bytes:
        try:
            return self._crypto.verify_and_decrypt(q["msg_signature"], q["timestamp"],
                                                   q["nonce"], encrypt)
        except SignatureError:
            raise Refused("bad signature") from None
        except ReceiveIdError:
            raise Refused("wrong receive id") from None
        except CryptoError as exc:
            raise Refused(f"undecryptable ({exc})") from None

    async def _handle(self, fields: dict[str, str]) -> None:
        try:
            await self._on_message(fields)
        except Exception:  # nobody awaits this task: log here or lose it
            log.exception("wecom update %s failed", update_id(fields))


def _params(request: web.Request, *names: str) -> dict[str, str]:
    q = {name: request.query.get(name, "") for name in names}
    missing = [name for name, value in q.items() if not value]
    if missing:
        raise Refused(f"missing {', '.join(missing)}", 400)
    return q


def _xml(data: bytes) -> dict[str, str]:
    try:
        return parse_fields(data)
    except XmlError as exc:
        raise Refused(f"xml refused ({exc})", 400) from None


def _refuse(request: web.Request, exc: Refused) -> web.Response:
    log.warning("wecom callback refused from %s: %s", request.remote, exc.reason)
    return web.Response(status=exc.status, text="")
