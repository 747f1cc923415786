"""Unit of work: one database transaction per handled update or timer.

Handlers never open sessions themselves; they receive a `Tx` for the step they run. On
PostgreSQL, `lock()` adds FOR UPDATE so two replicas serialise on the same row; on SQLite
BEGIN IMMEDIATE already serialises every writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from storage.writer_turns import WriterTurns

if TYPE_CHECKING:
    from storage.outbox import Queued

M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True)
class Claimant:
    """Who delivers the messages a transaction queues: they are written already claimed by
    `worker` (`storage.outbox.enqueue`) and, once the transaction has committed, handed to
    `hand_off` (no claim round trip). If the process dies first, the lease runs out and any
    replica's sweep delivers them. Rows queued in a savepoint that rolls back are forgotten."""

    worker: str
    lease: timedelta
    hand_off: Callable[[list[Queued]], None]


_INSERTS: dict[tuple[Any, ...], Any] = {}


class Tx:
    """The open transaction a handler step works in."""

    def __init__(self, session: AsyncSession, postgres: bool,
                 claimant: Claimant | None = None) -> None:
        self.session = session
        self.postgres = postgres
        self.claimant = claimant
        self.memo: dict[Any, Any] = {}  # read-mostly look-ups reused within this transaction
        self.queued: list[Queued] = []  # outbox rows written here, handed off after the commit

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction; what it queued is forgotten if it rolls back."""
        mark = len(self.queued)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self.queued[mark:]
            raise

    def lock(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.with_for_update() if self.postgres else stmt

    def add(self, obj: SQLModel) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def get(self, model: type[M], ident: Any, *, lock: bool = False) -> M | None:
        return await self.session.get(model, ident, with_for_update=lock and self.postgres)

    async def scalars(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        return list((await self.session.execute(stmt, params)).scalars().all())

    async def scalar(self, stmt: Any) -> Any:
        return (await self.session.execute(stmt)).scalar()

    async def execute(self, stmt: Any, params: dict[str, Any] | None = None) -> Any:
        return await self.session.execute(stmt, params)

    async def insert_ignore(
        self, model: type[SQLModel], values: dict[str, Any], conflict: list[str],
        *, returning: str = "",
    ) -> Any:
        """INSERT … ON CONFLICT DO NOTHING: True (or the `returning` column's value) if a row
        was written, False (None) if it was there already.

        On the hot path of every message: the statement is built once per shape and run on
        the session's connection as Core, skipping the ORM's bulk-insert machinery."""
        shape = (self.postgres, model, tuple(conflict), tuple(values), returning)
        stmt = _INSERTS.get(shape)
        if stmt is None:
            dialect = postgresql if self.postgres else sqlite
            stmt = dialect.insert(model).on_conflict_do_nothing(index_elements=conflict)
            if returning:
                stmt = stmt.returning(getattr(model, returning))
            _INSERTS[shape] = stmt
        conn = await self.session.connection()
        result: Any = await conn.execute(stmt, values)
        if returning:
            return result.scalar()
        return bool(result.rowcount)


class Database:
    """Owns the engine and hands out transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Set by the composition root to this process's delivery worker: the outbox rows of
        # every transaction are then written claimed by it and handed to it at the commit.
        self.claimant: Claimant | None = None
        self.postgres = engine.dialect.name == "postgresql"
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time (BEGIN IMMEDIATE). Queueing this process's
        # transactions here is fair and instant; left to SQLite's busy handler, waiting
        # connections sleep and poll, which cut throughput by half under load.
        self._one_writer = WriterTurns() if not self.postgres else None

    @asynccontextmanager
    async def transaction(self, *, background: bool = False) -> AsyncIterator[Tx]:
        """One transaction, committed when the block ends without an exception; then the
        outbox rows it queued are handed to the claimant (the only hand-over to delivery).
        `background` (monitoring's alarms): on SQLite it writes only when no one else waits."""
        if self._one_writer is None:
            async with self._sessions() as session, session.begin():
                tx = Tx(session, self.postgres, self.claimant)
                yield tx
        else:
            async with self._one_writer.turn(background=background), self._sessions() as \
                    session, session.begin():
                tx = Tx(session, self.postgres, self.claimant)
                yield tx
        if tx.queued and tx.claimant is not None:  # committed: the rows exist, deliver them
            tx.claimant.hand_off(tx.queued)

    def someone_waits(self) -> bool:
        """SQLite: a person's transaction waits for the one writer. Background work that runs
        several steps in one transaction (the timer batch) commits early when this is True."""
        return self._one_writer is not None and self._one_writer.someone_waits

    async def dispose(self) -> None:
        await self.engine.dispose()
