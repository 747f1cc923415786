"""The delivery worker: sends the outbox through the channel adapters.

How messages reach it — one way for every reply, one for everything else:

- **Hand-over** (every reply). The composition root sets `db.claimant = worker.claimant()`;
  `storage.outbox.enqueue` then writes each row already claimed by this worker, and once the
  transaction has committed, `Database.transaction` passes its rows (`Queued` records) to
  `submit`, which sends them at once: no claim round trip on the path of every reply.
- **Claim** (`run_once`): due rows — retries after a failure, rows of a replica that died
  before sending (their lease ran out) — claimed with a lease. The sweep runs it after every
  tick through `flush`; `kick` starts one without waiting for it.

Waiting for deliveries: `flush` (the sweep) waits for the hand-overs under way when it starts,
then claims; `flush_all` (tests, shutdown) waits until none is under way, then claims, and
returns once every send is marked. `send_direct` bypasses the outbox (the database is down).

A chat's messages go out one at a time, in order, on either path; different chats in
parallel. What sends came to is written back by the `Recorder`, many per transaction.
At-least-once: a crash between a send and its mark means one resend after the lease, which
adapters tolerate (the key is the same). Failures back off exponentially (or as the
platform's retry_after says) up to a cap; after the last attempt, or when the person blocked
us, the row is marked dead and logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.channels import Channel, DeliveryError, RecipientUnreachable
from handlers.core import logctx
from handlers.core.clock import Clock
from handlers.core.locks import KeyedLocks
from handlers.core.messages import Outgoing, redacted
from storage import outbox
from storage.models import OutboxState
from storage.outbox import Queued
from storage.uow import Claimant, Database

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
    """What sends came to, to be written back: rows sent, rows to retry later, rows given
    up on, (channel, chat id) identities found unreachable, and the masked payloads of
    settled rows that held secrets."""

    sent: list[outbox.Sent] = field(default_factory=list)
    retries: list[outbox.Retry] = field(default_factory=list)
    dead: list[outbox.Dead] = field(default_factory=list)
    unreachable: set[tuple[str, str]] = field(default_factory=set)
    redactions: list[outbox.Redaction] = field(default_factory=list)

    def urgent(self) -> bool:
        """Anything but sent marks: what follows it (back-off, telling a manager) must see it."""
        return bool(self.retries or self.dead or self.unreachable)

    def empty(self) -> bool:
        return not (self.sent or self.redactions or self.urgent())

    def take(self, other: Outcomes) -> None:
        self.sent += other.sent
        self.retries += other.retries
        self.dead += other.dead
        self.unreachable |= other.unreachable
        self.redactions += other.redactions

    def settled(self, row: Queued) -> None:
        """A row sent or given up on: its secrets need not be kept any longer."""
        if row.payload.get("secrets"):
            self.redactions.append({"row_id": row.id, "payload": redacted(row.payload)})


RECENT_SENDS = 2000  # platform ids kept in memory so an edit need not look its target up
RETRY_MARKS_MAX_SECONDS = 30.0  # well inside the claim lease that a lost mark would run into


class Recorder:
    """Writes outcomes back, many per transaction (group commit).

    Sends that went through are marked a moment later (`delay`), together with the others
    of that moment: one transaction for many replies instead of one each. Nothing waits for
    that mark (the platform ids of this process's sends are in memory for edits), and the
    window in which a crash means one resend grows by no more than `delay` — far inside the
    claim lease that bounds it anyway. Failures, dead rows and unreachable people are
    written at once: what follows them (back-off, telling a manager) must see them.
    """

    def __init__(self, db: Database, delay: float = 0.05) -> None:
        self.db, self.delay = db, delay
        self._waiting = Outcomes()
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, outcomes: Outcomes) -> None:
        if outcomes.empty():
            return
        self._waiting.take(outcomes)
        if outcomes.urgent():
            try:
                await self.flush()
                return
            except Exception:
                self._flush_later()  # kept, and tried again
                raise
        self._flush_later()

    def _flush_later(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        delay = self.delay
        while True:
            await asyncio.sleep(delay)
            try:
                await self.flush()
                return
            except Exception as exc:  # database away: the marks wait and are tried again
                log.warning("marking sent messages failed (%s); trying again in %.0fs",
                            type(exc).__name__, delay)
                delay = min(max(delay * 2, 1.0), RETRY_MARKS_MAX_SECONDS)

    async def flush(self) -> None:
        """Write everything gathered so far; returns once it is committed. If the write
        fails, what it held is kept for the next one: a mark lost here would mean the
        message is sent again once its lease runs out."""
        async with self._lock:
            batch, self._waiting = self._waiting, Outcomes()
            if batch.empty():
                return
            try:
                await self._write(batch)
            except BaseException:
                batch.take(self._waiting)
                self._waiting = batch
                raise

    async def _write(self, batch: Outcomes) -> None:
        async with self.db.transaction() as tx:
            await outbox.mark_sent(tx, batch.sent)
            await outbox.retry_later(tx, batch.retries)
            await outbox.mark_dead(tx, batch.dead)
            await outbox.mark_unreachable(tx, batch.unreachable)
            await outbox.redact(tx, batch.redactions)


class DeliveryWorker:
    """Sends what the outbox holds for this process: rows handed over at commit (`submit`)
    and due rows it claims (`run_once`). See the module docstring for the ways in."""

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
        self._chats = KeyedLocks()  # one chat's messages one at a time, in order
        self._recorder = Recorder(db)
        self._sent_ids: dict[str, str | None] = {}

    def claimant(self) -> Claimant:
        """For `Database.claimant`: rows are written claimed by this worker and, at each
        commit, handed to `submit`."""
        return Claimant(self.worker_id, self.lease, self.submit)

    def submit(self, rows: Sequence[Queued]) -> None:
        """Send rows a committed transaction of this process queued, claimed by this worker
        (the hand-over). Returns at once; `drain` or `flush_all` waits for them."""
        self._spawn(self._deliver_batch(rows))

    def _spawn(self, work: Awaitable[object]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:  # the rows keep their lease and are claimed again after it
                log.exception("delivery failed; left to the next claim")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def kick(self) -> None:
        """Claim and deliver what is due soon, without making the caller wait."""
        if self._lock.locked():
            self._again = True
            return
        self._spawn(self.run_once())

    async def drain(self) -> None:
        """Wait until no handed-over or kicked delivery is under way, then write their marks
        (if the database is away, the marks stay in memory for the next write)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        try:
            await self._recorder.flush()
        except Exception as exc:  # database away: the marks stay queued in memory
            log.warning("marking sent messages failed: %s", type(exc).__name__)

    async def flush(self) -> int:
        """Finish the hand-overs under way now, then claim and deliver what is due (the
        sweep). Only those under way now: under steady traffic there always are new ones,
        and waiting for none would hold the sweep, and every timer, for as long as it lasts."""
        under_way = list(self._tasks)
        if under_way:
            await asyncio.gather(*under_way, return_exceptions=True)
        await self._recorder.flush()  # marked before claiming: a lease may have run out
        return await self.run_once()

    async def flush_all(self) -> int:
        """Deliver everything, for tests and shutdown: wait until no delivery is under way
        (`drain`: hand-overs, kicks, and any started meanwhile), then claim and send what is
        due (`run_once`). Returns how many rows were claimed, once every send is marked.
        Not for the sweep (see `flush`): under steady traffic it would wait for the lull."""
        await self.drain()
        return await self.run_once()

    async def run_once(self) -> int:
        """Claim and deliver every due message; returns how many were handled, once what
        was sent is marked."""
        handled = 0
        async with self._lock:
            while True:
                self._again = False
                batch = await self._claim()
                await self._deliver_batch(batch)
                handled += len(batch)
                if not batch and not self._again:
                    break
        await self._recorder.flush()
        return handled

    async def _deliver_batch(self, batch: Sequence[Queued]) -> None:
        """Chats in parallel, each chat's messages in order (they were claimed by id)."""
        chats: dict[tuple[str, str], list[Queued]] = {}
        for row in batch:
            chats.setdefault((row.channel, row.chat_id), []).append(row)

        async def one_chat(chat: tuple[str, str], rows: list[Queued]) -> None:
            async with self._chats.hold(chat):
                for row in rows:
                    # Recorded right after each send: a crash between the two is the only
                    # way a message goes out twice (at-least-once); the window stays small.
                    outcomes = Outcomes()
                    await self._deliver(row, outcomes)
                    await self._record(outcomes)

        await asyncio.gather(*(one_chat(chat, rows) for chat, rows in chats.items()))

    async def _record(self, outcomes: Outcomes) -> None:
        await self._recorder.record(outcomes)
        for channel, chat_id in outcomes.unreachable:
            if self.on_unreachable is not None:
                await self.on_unreachable(channel, chat_id)

    async def _claim(self) -> list[Queued]:
        async with self.db.transaction() as tx:
            return await outbox.claim_due(tx, self.clock.now(), self.worker_id, self.lease)

    @logctx.binds(outbox=lambda a: a["row"].id)
    async def _deliver(self, row: Queued, outcomes: Outcomes) -> None:
        if self.clock.now() >= row.claimed_until:
            # Our lease ran out while earlier sends were slow: another replica may have
            # claimed this row by now, and sending it too would deliver it twice.
            log.warning("outbox %s: lease expired before sending; left to the next claim", row.id)
            return
        out = Outgoing.from_json(row.payload)
        channel = self.channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no channel {row.channel!r} in this process")
            message_id = await self._send(channel, out)
        except RecipientUnreachable as exc:
            log.warning("outbox %s: recipient on %s unreachable", row.id, row.channel)
            outcomes.dead.append({"row_id": row.id, "error": str(exc)})
            outcomes.unreachable.add((row.channel, row.chat_id))
            outcomes.settled(row)
        except DeliveryError as exc:
            self._failed(row, str(exc), exc.retry_after, outcomes)
        except Exception as exc:  # an adapter bug must not stop the queue
            log.exception("adapter %s failed on outbox %s", row.channel, row.id)
            self._failed(row, type(exc).__name__, None, outcomes)
        else:
            self._remember(out.key, message_id)
            outcomes.sent.append({"row_id": row.id, "at": self.clock.now(),
                                  "message_id": message_id})
            outcomes.settled(row)

    def _remember(self, key: str, message_id: str | None) -> None:
        self._sent_ids[key] = message_id
        if len(self._sent_ids) > RECENT_SENDS:  # oldest first: dicts keep insertion order
            del self._sent_ids[next(iter(self._sent_ids))]

    async def _send(self, channel: Channel, out: Outgoing) -> str | None:
        if not out.edits:
            return await channel.send(out)
        target_id = self._sent_ids.get(out.edits)  # sent by this process a moment ago
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

    def _failed(self, row: Queued, reason: str, retry_after: float | None,
                outcomes: Outcomes) -> None:
        if row.attempts >= self.policy.max_attempts:
            log.error("outbox %s to %s gave up after %s attempts: %s", row.id, row.channel,
                      row.attempts, reason)
            outcomes.dead.append({"row_id": row.id, "error": reason})
            outcomes.settled(row)
            return
        delay = self.policy.delay(row.attempts, retry_after)
        log.warning("outbox %s to %s failed (attempt %s), retry in %.0fs: %s", row.id,
                    row.channel, row.attempts, delay, reason)
        outcomes.retries.append({"row_id": row.id, "error": reason,
                                 "at": self.clock.now() + timedelta(seconds=delay)})

    async def send_direct(self, out: Outgoing) -> None:
        """Send without the outbox (the database is down): best effort, logged on failure."""
        channel = self.channels.get(out.channel)
        if channel is None:
            return
        try:
            await channel.send(out)
        except Exception as exc:
            log.warning("direct reply on %s failed: %s", out.channel, type(exc).__name__)
