"""Web chat fan-out across replicas: PostgreSQL LISTEN/NOTIFY.

The replica that delivers an outbox row pushes it to its own tabs and publishes it with
`pg_notify`; every replica holds one dedicated asyncpg connection that LISTENs and pushes
what it hears to its local tabs (the publisher skips its own notes). A note carries the whole
`Outgoing` when it fits in PostgreSQL's 8000-byte payload limit; otherwise only its outbox key,
and listeners load the message from the outbox table.

A listener that loses its connection (database restart, network) reconnects with back-off;
once it LISTENs again it asks the web chat to re-sync its tabs from the outbox history, so
nothing sent while it was deaf is missed. Tabs de-duplicate by message key (bot/webchat.py).
SQLite is one process: no fan-out there, the web chat pushes in-process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from handlers.core.messages import Outgoing
from storage import outbox
from storage.uow import Database

log = logging.getLogger(__name__)

CHANNEL = "frontline_webchat"
MAX_NOTIFY_BYTES = 7800  # PostgreSQL refuses payloads of 8000 bytes or more; some headroom
CONNECT_TIMEOUT = 10.0
KEEPALIVE = 15.0  # seconds between pings of an idle listener connection (a silent network loss)
RETRY_FIRST, RETRY_MAX = 0.2, 10.0


class Hub(Protocol):
    """What the fan-out feeds: the web chat's local tabs."""

    async def deliver(self, out: Outgoing, target: str | None) -> None: ...

    async def resync(self) -> None: ...


class Listener(Protocol):
    """The part of an asyncpg connection the listener uses (asyncpg ships no type hints)."""

    def add_termination_listener(self, callback: Callable[[Any], None]) -> None: ...

    async def add_listener(
        self, channel: str, callback: Callable[[Any, int, str, str], None]
    ) -> None: ...

    async def fetchval(self, query: str) -> Any: ...

    def terminate(self) -> None: ...


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    """A termination callback that sets this connection's own `lost` event."""
    return lambda _conn: event.set()


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://u:p@h/db` (SQLAlchemy) as the `postgresql://…` asyncpg takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def encode(origin: str, out: Outgoing, target: str | None) -> str:
    """The note for one send (target None) or edit (target = the edited message's key)."""
    note = json.dumps({"o": origin, "t": target, "m": out.to_json()}, ensure_ascii=False,
                      separators=(",", ":"))
    if len(note.encode()) < MAX_NOTIFY_BYTES:
        return note
    return json.dumps({"o": origin, "t": target, "k": out.key}, ensure_ascii=False,
                      separators=(",", ":"))


class _Resync:
    """Queue marker: the listener (re)connected; tabs catch up from history."""


RESYNC = _Resync()


class PgFanout:
    def __init__(
        self, dsn: str, db: Database, *,
        connect: Callable[[str], Awaitable[Listener]] | None = None,
        keepalive: float = KEEPALIVE,
    ) -> None:
        self.dsn, self.db, self.keepalive = dsn, db, keepalive
        self._connect: Callable[[str], Awaitable[Listener]] = connect or (
            lambda dsn: asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT))
        self.origin = secrets.token_hex(8)  # this process: its own notes are skipped
        self.state = "stopped"
        self.reconnects = 0
        self._hub: Hub | None = None
        self._queue: asyncio.Queue[str | _Resync] = asyncio.Queue()
        self._listening = asyncio.Event()
        self._deaf = asyncio.Event()  # set while not listening (tests, after a drop)
        self._tasks: list[asyncio.Task[None]] = []

    def status(self) -> str:
        return f"{self.state}, {self.reconnects} reconnects"

    async def start(self, hub: Hub, *, wait: float = 5.0) -> None:
        """Start listening; waits up to `wait` seconds for the first LISTEN (then keeps trying
        in the background: the page still gets history on connect)."""
        self._hub = hub
        self.state = "connecting"
        self._tasks = [asyncio.create_task(self._listen(), name="webchat-listen"),
                       asyncio.create_task(self._consume(), name="webchat-fanout")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait)

    async def wait_listening(self, within: float) -> None:
        await asyncio.wait_for(self._listening.wait(), within)

    async def wait_deaf(self, within: float) -> None:
        await asyncio.wait_for(self._deaf.wait(), within)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._listening.clear()
        self.state = "stopped"

    async def publish(self, out: Outgoing, target: str | None) -> None:
        note = encode(self.origin, out, target)
        async with self.db.transaction() as tx:
            await tx.execute(text("SELECT pg_notify(:channel, :note)")
                             .bindparams(channel=CHANNEL, note=note))

    # --- Listening ---------------------------------------------------------------------
    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._queue.put_nowait(payload)

    async def _listen(self) -> None:
        delay = RETRY_FIRST
        while True:
            conn: Listener | None = None
            try:
                conn = await asyncio.wait_for(self._connect(self.dsn), CONNECT_TIMEOUT)
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._on_notify)
                # From here on every note reaches us; what was sent before is in the outbox.
                self._queue.put_nowait(RESYNC)
                self.state = "listening"
                self._deaf.clear()
                self._listening.set()
                delay = RETRY_FIRST
                await self._hold(conn, lost)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.terminate()
                raise
            except Exception as exc:
                if self._listening.is_set():
                    log.warning("web chat listener lost its connection (%s); reconnecting",
                                type(exc).__name__)
                    self.reconnects += 1
                self._listening.clear()
                self._deaf.set()
                self.state = f"reconnecting ({type(exc).__name__})"
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(delay)  # back-off between connection attempts
            delay = min(delay * 2, RETRY_MAX)

    async def _hold(self, conn: Listener, lost: asyncio.Event) -> None:
        """Until the connection is gone; an idle one is pinged so a silent loss is noticed."""
        while True:
            try:
                await asyncio.wait_for(lost.wait(), self.keepalive)
            except TimeoutError:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), self.keepalive)
            else:
                raise ConnectionError("listener connection closed")

    async def _consume(self) -> None:
        """One at a time, in the order heard: a chat's messages reach its tabs in order."""
        while True:
            item = await self._queue.get()
            try:
                await self._handle(item)
            except Exception:
                log.exception("web chat fan-out could not handle a note")

    async def _handle(self, item: str | _Resync) -> None:
        assert self._hub is not None
        if isinstance(item, _Resync):
            await self._hub.resync()
            return
        note = json.loads(item)
        if note.get("o") == self.origin:
            return  # published here: our tabs had it already
        if "m" in note:
            out = Outgoing.from_json(note["m"])
        else:
            async with self.db.transaction() as tx:
                row = await outbox.by_key(tx, str(note["k"]))
            if row is None:
                log.warning("web chat note for %s: no such outbox row", note["k"])
                return
            out = Outgoing.from_json(row.payload)
        await self._hub.deliver(out, note.get("t"))
