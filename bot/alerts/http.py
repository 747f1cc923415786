"""POST /alerts/alertmanager and POST /alerts/generic: monitoring's webhooks into the desk.

Each request is checked in this order, and the first failure answers:

    401  no `Authorization: Bearer <FRONTLINE_ALERTS_TOKEN>` (compared in constant time)
    415  not JSON (`Content-Type: application/json`)
    413  a body over the limit (Content-Length, and what was actually read)
    400  not JSON, or a field missing or wrong: {"error": "alerts[0].startsAt: no time zone"}
    503  the desk's database is down (Retry-After: Alertmanager and most senders retry)
    200  {"accepted": n, "duplicates": m}

Every alarm of a request is parsed and checked before the first is handed on: a request
with one bad alarm hands on none. Bad input never gets a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from bot.alerts import alertmanager, generic
from bot.alerts.fields import PayloadError
from bot.alerts.intake import Counters, Item, Receive, hand_on, tally
from bot.security import bearer_ok
from handlers.core.clock import Clock
from handlers.core.dispatch import DB_FAILURES
from handlers.core.escape import visible

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
CHUNK = 64 * 1024


class AlertRoutes:
    """The two webhook routes; `attach` adds them to an app."""

    def __init__(self, receive: Receive, counters: Counters, clock: Clock, *, token: str,
                 max_body_bytes: int) -> None:
        self.receive, self.counters, self.clock = receive, counters, clock
        self.token, self.max_body_bytes = token, max_body_bytes

    def attach(self, app: web.Application) -> None:
        app.router.add_post("/alerts/alertmanager", self._handler(
            alertmanager.SOURCE, alertmanager.parse))
        app.router.add_post("/alerts/generic", self._handler(
            "generic", lambda payload: generic.parse(payload, self.clock.now())))

    def _handler(self, source: str, parse: Callable[[Any], Sequence[Item]]) -> Any:
        async def handle(request: web.Request) -> web.Response:
            return await self._handle(request, source, parse)
        return handle

    async def _handle(self, request: web.Request, source: str,
                      parse: Callable[[Any], Sequence[Item]]) -> web.Response:
        if not bearer_ok(request, self.token):
            return self._refuse(source, "refused_auth", 401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
        if not _json_type(request.content_type):
            return self._refuse(source, "malformed", 415,
                                f"Content-Type {request.content_type!r} is not "
                                "application/json")
        body = await _read(request, self.max_body_bytes)
        if body is None:
            return self._refuse(source, "too_large", 413,
                                f"body: larger than {self.max_body_bytes} bytes")
        try:
            items = parse(loads(body))
        except PayloadError as exc:
            return self._refuse(source, "malformed", 400, str(exc))
        results: list[bool] = []
        try:
            for item in items:
                results.append(await hand_on(item, self.receive, source, self.counters))
        except DB_FAILURES:
            return web.json_response(
                {"error": "the desk's database is unavailable; send again later",
                 **tally(results)},
                status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        except Exception:
            # a fault in the desk, not in the request: logged by hand_on, without the words
            return web.json_response({"error": "the desk failed to take the alarm"},
                                     status=500)
        return web.json_response(tally(results))

    def _refuse(self, source: str, outcome: str, status: int, reason: str,
                headers: dict[str, str] | None = None) -> web.Response:
        self.counters.count(source, outcome)
        log.info("alerts: refused a %s request (%d): %s", source, status, visible(reason)[:300])
        return web.json_response({"error": reason}, status=status, headers=headers)


def _json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json"))


async def _read(request: web.Request, limit: int) -> bytes | None:
    """The body, or None once it is over `limit` bytes (the rest is never read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def loads(body: bytes | str) -> Any:
    """JSON from a sender; PayloadError when it is not JSON. NaN and Infinity are refused:
    the database's JSON cannot hold them."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise PayloadError("body: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body: not JSON (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise PayloadError("body: nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise PayloadError(f"body: {name} is not a JSON number")
