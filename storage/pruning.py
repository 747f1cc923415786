"""Rows that only grow, pruned on a schedule (scheduler/jobs.py `prune`, daily).

- `SeenUpdate` (idempotency records): needed only while a platform may deliver the same
  update again (WeCom retries for seconds, Telegram for hours; web chat frames never come
  back): rows older than the retention (7 days by default) are deleted.
- `Conversation` rows of people nobody knows — visitors and strangers who never registered
  (no `ChatIdentity` for their user id on that channel) — idle for longer than their
  retention (30 days by default): deleted. A registered person's conversation is kept.

`frontline_messages_in_total` counts idempotency records; so that it never goes down, the
number of records pruned per channel is added to a tally kept in the same transaction as the
delete (a `Conversation` row of the pseudo-channel `~tally`, `data = {"pruned": n}` — no new
table), and `/metrics` adds it (`pruned_updates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlmodel import col

from storage.models import ChatIdentity, Conversation, SeenUpdate
from storage.uow import Tx

TALLY = "~tally"  # a channel no adapter has
TALLY_CHAT = "seen_update"


@dataclass(frozen=True)
class Pruned:
    updates: int
    conversations: int


async def prune(tx: Tx, *, updates_before: datetime, idle_before: datetime) -> Pruned:
    """Delete idempotency records older than `updates_before` and unknown people's
    conversations idle since before `idle_before`."""
    return Pruned(await prune_seen_updates(tx, updates_before),
                  await prune_anonymous_conversations(tx, idle_before))


async def prune_seen_updates(tx: Tx, before: datetime) -> int:
    old = col(SeenUpdate.at) < before
    counts = (await tx.execute(select(col(SeenUpdate.channel), func.count())
                               .where(old).group_by(col(SeenUpdate.channel)))).all()
    if not counts:
        return 0
    await tx.execute(delete(SeenUpdate).where(old))
    for channel, n in counts:
        await _add_to_tally(tx, channel, int(n), before)
    return sum(int(n) for _, n in counts)


async def prune_anonymous_conversations(tx: Tx, idle_before: datetime) -> int:
    known = exists().where(col(ChatIdentity.channel) == col(Conversation.channel),
                           col(ChatIdentity.external_user_id) == col(Conversation.user_id))
    stmt = delete(Conversation).where(col(Conversation.updated_at) < idle_before,
                                      col(Conversation.channel) != TALLY, ~known)
    result = await tx.execute(stmt)
    return int(result.rowcount or 0)


async def pruned_updates(tx: Tx) -> dict[str, int]:
    """Idempotency records pruned so far, per channel."""
    rows = await tx.scalars(select(Conversation).where(col(Conversation.channel) == TALLY))
    return {row.user_id: int(row.data.get("pruned", 0)) for row in rows}


async def _add_to_tally(tx: Tx, channel: str, n: int, now: datetime) -> None:
    values = {"channel": TALLY, "chat_id": TALLY_CHAT, "user_id": channel, "state": "idle",
              "data": {"pruned": 0}, "language": "", "updated_at": now}
    await tx.insert_ignore(Conversation, values, ["channel", "chat_id", "user_id"])
    row = (await tx.scalars(tx.lock(select(Conversation).where(
        col(Conversation.channel) == TALLY, col(Conversation.chat_id) == TALLY_CHAT,
        col(Conversation.user_id) == channel)).execution_options(populate_existing=True)))[0]
    row.data = {"pruned": int(row.data.get("pruned", 0)) + n}
    row.updated_at = now
    tx.add(row)
