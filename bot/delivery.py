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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

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


class DeliveryWorker:
    def __init__(
        self, db: Database, clock: Clock, channels: Mapping[str, Channel],
        policy: RetryPolicy | None = None, worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=120),
    ) -> None:
        self.db, self.clock, self.channels = db, clock, channels
        self.policy = policy or RetryPolicy()
        self.worker_id = worker_id or f"{socket.gethostname()}:{id(self):x}"
        self.lease = lease
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
                for row in batch:
                    await self._deliver(row)
                handled += len(batch)
                if not batch and not self._again:
                    return handled

    async def _claim(self) -> list[Outbox]:
        async with self.db.transaction() as tx:
            return await outbox.claim_due(tx, self.clock.now(), self.worker_id, self.lease)

    async def _deliver(self, row: Outbox) -> None:
        out = Outgoing.from_json(row.payload)
        channel = self.channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no channel {row.channel!r} in this process")
            message_id = await self._send(channel, out)
        except RecipientUnreachable as exc:
            await self._unreachable(row, str(exc))
        except DeliveryError as exc:
            await self._failed(row, str(exc), exc.retry_after)
        except Exception as exc:  # an adapter bug must not stop the queue
            log.exception("adapter %s failed on outbox %s", row.channel, row.id)
            await self._failed(row, type(exc).__name__, None)
        else:
            await self._sent(row, message_id)

    async def _send(self, channel: Channel, out: Outgoing) -> str | None:
        if not out.edits:
            return await channel.send(out)
        async with self.db.transaction() as tx:
            target = await outbox.by_key(tx, out.edits)
        if target is None:
            return None  # nothing to edit: the original was never queued
        if target.platform_message_id is None:
            if target.state == OutboxState.DEAD:
                return None
            raise DeliveryError("the message to edit is not delivered yet")
        await channel.edit(out, target.platform_message_id)
        return target.platform_message_id

    async def _sent(self, row: Outbox, message_id: str | None) -> None:
        await self._update(row, state=str(OutboxState.SENT), sent_at=self.clock.now(),
                           platform_message_id=message_id, claimed_until=None, last_error="")

    async def _failed(self, row: Outbox, reason: str, retry_after: float | None) -> None:
        if row.attempts >= self.policy.max_attempts:
            log.error("outbox %s to %s gave up after %s attempts: %s", row.id, row.channel,
                      row.attempts, reason)
            await self._update(row, state=str(OutboxState.DEAD), last_error=reason[:500])
            return
        delay = self.policy.delay(row.attempts, retry_after)
        log.warning("outbox %s to %s failed (attempt %s), retry in %.0fs: %s", row.id,
                    row.channel, row.attempts, delay, reason)
        await self._update(row, next_attempt_at=self.clock.now() + timedelta(seconds=delay),
                           claimed_until=None, claimed_by=None, last_error=reason[:500])

    async def _unreachable(self, row: Outbox, reason: str) -> None:
        log.warning("outbox %s: recipient on %s unreachable", row.id, row.channel)
        await self._update(row, state=str(OutboxState.DEAD), last_error=reason[:500])
        async with self.db.transaction() as tx:
            await tx.execute(
                update(ChatIdentity)
                .where(ChatIdentity.channel == row.channel, ChatIdentity.chat_id == row.chat_id)
                .values(unreachable=True)
            )

    async def _update(self, row: Outbox, **values: object) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(update(Outbox).where(Outbox.id == row.id).values(**values))

    async def send_direct(self, out: Outgoing) -> None:
        """Send without the outbox (the database is down): best effort, logged on failure."""
        channel = self.channels.get(out.channel)
        if channel is None:
            return
        try:
            await channel.send(out)
        except Exception as exc:
            log.warning("direct reply on %s failed: %s", out.channel, type(exc).__name__)
