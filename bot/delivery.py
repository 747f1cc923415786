"""The delivery worker: drains the outbox through the channel adapters.

At-least-once: a row is claimed with a lease, sent, then marked sent. A crash between the
send and the mark means one resend after the lease, which adapters tolerate (the key is the
same). Failures back off exponentially (or as the platform's retry_after says) up to a cap;
after the last attempt, or when the person blocked us, the row is marked dead and logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.channels import Channel, DeliveryError, RecipientUnreachable
from handlers.clock import Clock
from handlers.messages import Outgoing
from storage import outbox
from storage.models import ChatIdentity, Outbox, OutboxState
from storage.uow import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 600.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(retry_after, 0.0)
        return min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))


@dataclass
class Outcomes:
    """What a send came to, written back in one transaction (sent_ids: shared by the batch,
    so an edit can follow its message within the same batch)."""

    updates: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    unreachable: set[tuple[str, str]] = field(default_factory=set)
    sent_ids: dict[str, str | None] = field(default_factory=dict)

    def dead(self, row: Outbox, reason: str) -> None:
        self.updates.append((row.id or 0, {"state": str(OutboxState.DEAD),
                                           "last_error": reason[:500]}))


class DeliveryWorker:
    def __init__(
        self, db: Database, clock: Clock, channels: Mapping[str, Channel],
        policy: RetryPolicy | None = None, worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=120),
        on_unreachable: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.clock, self.channels = db, clock, channels
        self.policy = policy or RetryPolicy()
        self.worker_id = worker_id or f"{socket.gethostname()}:{id(self):x}"
        self.lease = lease
        self.on_unreachable = on_unreachable
        self._lock = asyncio.Lock()
        self._again = False
        self._tasks: set[asyncio.Task[None]] = set()

    def kick(self) -> None:
        """Deliver soon, without making the caller wait."""
        if self._lock.locked():
            self._again = True
            return
        task = asyncio.create_task(self.run_once())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for kicked deliveries (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_once(self) -> int:
        """Deliver every due message; returns how many were handled."""
        handled = 0
        async with self._lock:
            while True:
                self._again = False
                batch = await self._claim()
                await self._deliver_batch(batch)
                handled += len(batch)
                if not batch and not self._again:
                    return handled

    async def _deliver_batch(self, batch: list[Outbox]) -> None:
        """Chats in parallel, each chat's messages in order (they were claimed by id)."""
        chats: dict[tuple[str, str], list[Outbox]] = {}
        for row in batch:
            chats.setdefault((row.channel, row.chat_id), []).append(row)

        sent_ids: dict[str, str | None] = {}

        async def one_chat(rows: list[Outbox]) -> None:
            for row in rows:
                # Recorded right after each send: a crash between the two is the only way a
                # message goes out twice (at-least-once), so that window is kept small.
                outcomes = Outcomes(sent_ids=sent_ids)
                await self._deliver(row, outcomes)
                await self._record(outcomes)

        await asyncio.gather(*(one_chat(rows) for rows in chats.values()))

    async def _record(self, outcomes: Outcomes) -> None:
        """What happened to a whole batch, written in one transaction."""
        if not outcomes.updates and not outcomes.unreachable:
            return
        async with self.db.transaction() as tx:
            for row_id, values in outcomes.updates:
                await tx.execute(update(Outbox).where(col(Outbox.id) == row_id).values(**values))
            for channel, chat_id in outcomes.unreachable:
                await tx.execute(
                    update(ChatIdentity)
                    .where(col(ChatIdentity.channel) == channel,
                           col(ChatIdentity.chat_id) == chat_id)
                    .values(unreachable=True)
                )
        for channel, chat_id in outcomes.unreachable:
            if self.on_unreachable is not None:
                await self.on_unreachable(channel, chat_id)

    async def _claim(self) -> list[Outbox]:
        async with self.db.transaction() as tx:
            return await outbox.claim_due(tx, self.clock.now(), self.worker_id, self.lease)

    async def _deliver(self, row: Outbox, outcomes: Outcomes) -> None:
        if row.claimed_until is not None and self.clock.now() >= row.claimed_until:
            # Our lease ran out while earlier sends were slow: another replica may have
            # claimed this row by now, and sending it too would deliver it twice.
            log.warning("outbox %s: lease expired before sending; left to the next claim", row.id)
            return
        out = Outgoing.from_json(row.payload)
        channel = self.channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no channel {row.channel!r} in this process")
            message_id = await self._send(channel, out, outcomes)
        except RecipientUnreachable as exc:
            log.warning("outbox %s: recipient on %s unreachable", row.id, row.channel)
            outcomes.dead(row, str(exc))
            outcomes.unreachable.add((row.channel, row.chat_id))
        except DeliveryError as exc:
            self._failed(row, str(exc), exc.retry_after, outcomes)
        except Exception as exc:  # an adapter bug must not stop the queue
            log.exception("adapter %s failed on outbox %s", row.channel, row.id)
            self._failed(row, type(exc).__name__, None, outcomes)
        else:
            outcomes.sent_ids[out.key] = message_id
            outcomes.updates.append((row.id or 0, {
                "state": str(OutboxState.SENT), "sent_at": self.clock.now(),
                "platform_message_id": message_id, "claimed_until": None, "last_error": "",
            }))

    async def _send(self, channel: Channel, out: Outgoing, outcomes: Outcomes) -> str | None:
        if not out.edits:
            return await channel.send(out)
        target_id = outcomes.sent_ids.get(out.edits)  # sent earlier in this very batch
        if target_id is None:
            async with self.db.transaction() as tx:
                target = await outbox.by_key(tx, out.edits)
            if target is None:
                return None  # nothing to edit: the original was never queued
            if target.platform_message_id is None:
                if target.state == OutboxState.DEAD:
                    return None
                raise DeliveryError("the message to edit is not delivered yet")
            target_id = target.platform_message_id
        await channel.edit(out, target_id)
        return target_id

    def _failed(self, row: Outbox, reason: str, retry_after: float | None,
                outcomes: Outcomes) -> None:
        if row.attempts >= self.policy.max_attempts:
            log.error("outbox %s to %s gave up after %s attempts: %s", row.id, row.channel,
                      row.attempts, reason)
            outcomes.dead(row, reason)
            return
        delay = self.policy.delay(row.attempts, retry_after)
        log.warning("outbox %s to %s failed (attempt %s), retry in %.0fs: %s", row.id,
                    row.channel, row.attempts, delay, reason)
        outcomes.updates.append((row.id or 0, {
            "next_attempt_at": self.clock.now() + timedelta(seconds=delay),
            "claimed_until": None, "claimed_by": None, "last_error": reason[:500],
        }))

    async def send_direct(self, out: Outgoing) -> None:
        """Send without the outbox (the database is down): best effort, logged on failure."""
        channel = self.channels.get(out.channel)
        if channel is None:
            return
        try:
            await channel.send(out)
        except Exception as exc:
            log.warning("direct reply on %s failed: %s", out.channel, type(exc).__name__)
