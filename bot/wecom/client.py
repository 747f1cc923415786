"""A thin aiohttp client for the WeCom server API: token, message/send, media/get, card update.

The access token is cached until shortly before it expires; when WeCom says it is invalid or
expired (40014, 42001, 40001) it is fetched again once, by one caller only (single flight),
and the call retried once. Every failure leaves as a DeliveryError (never with the URL in it:
the URL carries the access token).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels import DeliveryError, RecipientUnreachable

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40014, 42001, 40001})  # invalid / expired / invalid credential
RATE_LIMITED = 45009
SYSTEM_BUSY = -1
UNREACHABLE = frozenset({81013, 60111})  # every recipient invalid / user id not found
RATE_LIMIT_RETRY_SECONDS = 60.0  # WeCom does not say how long; its limits are per minute
TOKEN_MARGIN_SECONDS = 300.0  # refresh this long before WeCom's own expiry
MEDIA_MAX_BYTES = 20 * 1024 * 1024  # WeCom's own ceiling for a file; never buffer more


class WeComApiError(DeliveryError):
    """WeCom answered with a non-zero errcode (never retried as-is unless retryable)."""

    def __init__(self, errcode: int, retry_after: float | None = None) -> None:
        super().__init__(f"wecom errcode {errcode}", retry_after)
        self.errcode = errcode

    @property
    def retryable(self) -> bool:
        return self.errcode in (RATE_LIMITED, SYSTEM_BUSY)


@dataclass(frozen=True)
class Media:
    data: bytes
    mime: str
    name: str


@dataclass
class _Token:
    value: str
    expires_at: float


class WeComClient:
    def __init__(
        self, base_url: str, corp_id: str, secret: str, *,
        timeout: float = 10.0, now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._corp_id, self._secret = corp_id, secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._now = now
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self.token_fetches = 0  # diagnostics and tests: how often gettoken was called

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    # -- access token -------------------------------------------------------------------

    async def token(self) -> str:
        cached = self._token
        if cached is not None and cached.expires_at > self._now():
            return cached.value
        return await self._refresh(stale=cached.value if cached else None)

    async def _refresh(self, stale: str | None) -> str:
        async with self._lock:
            current = self._token
            # Someone refreshed while we waited: use theirs instead of fetching again.
            if current is not None and current.value != stale and current.expires_at > self._now():
                return current.value
            self._token = await self._fetch_token()
            return self._token.value

    async def _fetch_token(self) -> _Token:
        self.token_fetches += 1
        params = {"corpid": self._corp_id, "corpsecret": self._secret}
        body = await self._request("GET", "/cgi-bin/gettoken", params=params)
        _check(body)
        lifetime = float(body.get("expires_in", 7200))
        margin = min(TOKEN_MARGIN_SECONDS, lifetime / 10)
        return _Token(str(body["access_token"]), self._now() + lifetime - margin)

    # -- API calls ----------------------------------------------------------------------

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the access token; refresh and retry once on a token error."""

        async def call(token: str) -> dict[str, Any]:
            return await self._request("POST", path, params={"access_token": token},
                                       json=payload)

        return await self._with_token(call)

    async def upload_media(self, kind: str, data: bytes, name: str, mime: str) -> str:
        """media/upload (kind "image" or "file"); returns the media_id for message/send."""

        async def call(token: str) -> dict[str, Any]:
            form = aiohttp.FormData()  # a FormData can be sent once: build one per attempt
            form.add_field("media", data, filename=name or "file", content_type=mime)
            return await self._request("POST", "/cgi-bin/media/upload",
                                       params={"access_token": token, "type": kind}, data=form)

        body = await self._with_token(call)
        return str(body.get("media_id", ""))

    async def get_media(self, media_id: str) -> Media:
        result: Media | None = None

        async def call(token: str) -> dict[str, Any]:
            nonlocal result
            got = await self._request_media({"access_token": token, "media_id": media_id})
            if isinstance(got, Media):
                result = got
                return {"errcode": 0}
            return got

        await self._with_token(call)
        if result is None:
            raise DeliveryError("media/get returned no file")
        return result

    async def _with_token(
        self, call: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        token = await self.token()
        body = await call(token)
        if _errcode(body) in TOKEN_ERRORS:
            log.info("wecom token rejected (%s), refreshing", _errcode(body))
            body = await call(await self._refresh(stale=token))
        _check(body)
        return body

    # -- HTTP -----------------------------------------------------------------------------

    async def _request(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            async with self.session().request(method, self.base_url + path, **kw) as resp:
                _check_status(resp)
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # str(exc) may hold the URL and so the token: name the type only.
            raise DeliveryError(f"wecom {path}: {type(exc).__name__}") from None
        if not isinstance(body, dict):
            raise DeliveryError(f"wecom {path}: not a JSON object")
        return body

    async def _request_media(self, params: dict[str, str]) -> Media | dict[str, Any]:
        url = self.base_url + "/cgi-bin/media/get"
        try:
            async with self.session().get(url, params=params) as resp:
                _check_status(resp)
                mime = resp.content_type or "application/octet-stream"
                if mime in ("application/json", "text/plain"):
                    body = await resp.json(content_type=None)
                    return body if isinstance(body, dict) else {"errcode": SYSTEM_BUSY}
                data = await _read_capped(resp, MEDIA_MAX_BYTES)
                name = _filename(resp.headers.get("Content-Disposition", ""))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DeliveryError(f"wecom media/get: {type(exc).__name__}") from None
        return Media(data=data, mime=mime, name=name)


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if (resp.content_length or 0) > limit:
        raise DeliveryError("wecom media/get: file too large")
    data = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise DeliveryError("wecom media/get: file too large")
    return bytes(data)


def _check_status(resp: aiohttp.ClientResponse) -> None:
    if resp.status >= 400:
        raise DeliveryError(f"wecom http {resp.status}")


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", 0))
    except (TypeError, ValueError):
        return SYSTEM_BUSY


def _check(body: dict[str, Any]) -> None:
    code = _errcode(body)
    if code == 0:
        return
    if code in UNREACHABLE:
        raise RecipientUnreachable(f"wecom errcode {code}")
    retry_after = RATE_LIMIT_RETRY_SECONDS if code == RATE_LIMITED else None
    raise WeComApiError(code, retry_after)


_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


def _filename(disposition: str) -> str:
    m = _FILENAME.search(disposition)
    if not m:
        return ""
    return m.group(1).replace("/", "_").replace("\\", "_")[:100]
