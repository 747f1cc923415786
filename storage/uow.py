"""Unit of work: one database transaction per handled update or timer.

Handlers never open sessions themselves; they receive a `Tx` for the step they run. On
PostgreSQL, `lock()` adds FOR UPDATE so two replicas serialise on the same row; on SQLite
BEGIN IMMEDIATE already serialises every writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)


class Tx:
    """The open transaction a handler step works in."""

    def __init__(self, session: AsyncSession, postgres: bool) -> None:
        self.session = session
        self.postgres = postgres
        self.memo: dict[Any, Any] = {}  # read-mostly look-ups reused within this transaction

    def lock(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.with_for_update() if self.postgres else stmt

    def add(self, obj: SQLModel) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def get(self, model: type[M], ident: Any, *, lock: bool = False) -> M | None:
        return await self.session.get(model, ident, with_for_update=lock and self.postgres)

    async def scalars(self, stmt: Any) -> list[Any]:
        return list((await self.session.execute(stmt)).scalars().all())

    async def scalar(self, stmt: Any) -> Any:
        return (await self.session.execute(stmt)).scalar()

    async def execute(self, stmt: Any) -> Any:
        return await self.session.execute(stmt)

    async def insert_ignore(
        self, model: type[SQLModel], values: dict[str, Any], conflict: list[str]
    ) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True if a row was written."""
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(model).values(**values).on_conflict_do_nothing(
            index_elements=conflict
        )
        result: Any = await self.session.execute(stmt)
        return bool(result.rowcount)


class Database:
    """Owns the engine and hands out transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time (BEGIN IMMEDIATE). Queueing this process's
        # transactions here is fair and instant; left to SQLite's busy handler, waiting
        # connections sleep and poll, which cut throughput by half under load.
        self._one_writer = asyncio.Lock() if not self.postgres else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        if self._one_writer is None:
            async with self._sessions() as session, session.begin():
                yield Tx(session, self.postgres)
            return
        async with self._one_writer, self._sessions() as session, session.begin():
            yield Tx(session, self.postgres)

    async def dispose(self) -> None:
        await self.engine.dispose()
