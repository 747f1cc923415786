"""The HTTP client python-telegram-bot talks to the Bot API with, on aiohttp.

PTB ships an httpx client; under load it cost a replica about a fifth of its CPU (httpx,
httpcore and anyio layers for every send). aiohttp is already our web stack, and PTB's
`BaseRequest` is the documented seam for another client. Behaviour kept from PTB's client:
timeouts raise `TimedOut` (the outbox retries), other transport failures `NetworkError`.
Parameters go form-encoded (nested values JSON-encoded), files as multipart, as PTB's own
client sends them.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """One pooled aiohttp session per PTB request object (PTB uses two: calls, polling)."""

    def __init__(self, *, pool_size: int = 64, connect_timeout: float | None = 10,
                 read_timeout: float | None = 10, write_timeout: float | None = 10,
                 pool_timeout: float | None = 30, media_write_timeout: float | None = 60
                 ) -> None:
        self._pool_size = pool_size
        self._connect, self._read, self._write = connect_timeout, read_timeout, write_timeout
        self._pool, self._media_write = pool_timeout, media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector,
                                                  headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, connect: float | None, read: float | None, write: float | None,
                 pool: float | None) -> aiohttp.ClientTimeout:
        # aiohttp has no write timeout of its own: sending is bounded by the whole-call limit
        key = (connect, read, write, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            parts = (connect, write, read)
            total = None if None in parts else sum(p or 0 for p in parts)
            timeout = aiohttp.ClientTimeout(total=total, connect=pool, sock_connect=connect,
                                            sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        timeout = self._timeout(
            _given(connect_timeout, self._connect), _given(read_timeout, self._read),
            _given(write_timeout, self._media_write if files else self._write),
            _given(pool_timeout, self._pool))
        body: aiohttp.FormData | str | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and files:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                body.add_field(name, content, filename=filename, content_type=mime)
        elif request_data is not None and request_data.parameters:
            body, headers = request_data.url_encoded_parameters(), FORM
        try:
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"Bot API call timed out: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
