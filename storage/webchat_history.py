"""The web chat's lines kept on the server: what a page shows after a reload or on another
device. Bounded: only the latest `KEEP` lines of each chat stay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import col

from storage.models import WebChatLine
from storage.uow import Tx

KEEP = 200


async def add(tx: Tx, chat_id: str, key: str, text: str, at: datetime, *, mine: bool = False,
              buttons: list[Any] | None = None, files: list[Any] | None = None) -> bool:
    """Keep one line; False when the chat has it already (the same send or frame twice)."""
    values = {"chat_id": chat_id, "key": key, "mine": mine, "text": text,
              "buttons": buttons or [], "files": files or [], "at": at}
    written = bool(await tx.insert_ignore(WebChatLine, values, ["chat_id", "key"]))
    if written:
        await _trim(tx, chat_id)
    return written


async def replace(tx: Tx, chat_id: str, key: str, text: str, buttons: list[Any]) -> bool:
    """An edit: the line under `key` shows the new text and buttons; False when it is gone."""
    stmt = (update(WebChatLine)
            .where(col(WebChatLine.chat_id) == chat_id, col(WebChatLine.key) == key)
            .values(text=text, buttons=buttons))
    return bool((await tx.execute(stmt)).rowcount)


async def lines(tx: Tx, chat_id: str, limit: int = KEEP) -> list[WebChatLine]:
    """The chat's latest lines, oldest first."""
    stmt = (select(WebChatLine).where(col(WebChatLine.chat_id) == chat_id)
            .order_by(col(WebChatLine.id).desc()).limit(limit))
    return list(reversed(await tx.scalars(stmt)))


async def line(tx: Tx, chat_id: str, key: str) -> WebChatLine | None:
    """This chat's line under `key` (a line of another chat is never found)."""
    rows = await tx.scalars(select(WebChatLine).where(col(WebChatLine.chat_id) == chat_id,
                                                      col(WebChatLine.key) == key))
    return rows[0] if rows else None


async def _trim(tx: Tx, chat_id: str) -> None:
    oldest_kept = (select(col(WebChatLine.id)).where(col(WebChatLine.chat_id) == chat_id)
                   .order_by(col(WebChatLine.id).desc()).limit(1).offset(KEEP - 1)
                   .scalar_subquery())
    await tx.execute(delete(WebChatLine).where(col(WebChatLine.chat_id) == chat_id,
                                               col(WebChatLine.id) < oldest_kept))
