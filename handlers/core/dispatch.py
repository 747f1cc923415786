"""The desk's front door: every update and every due timer comes through here.

One update = one transaction: idempotency record, conversation row, the flow step, ticket
changes, audit events, timers and outgoing messages commit together or not at all.
A `DeskError` rolls the step back and answers politely in a second, small transaction; a
database failure rolls back and returns a direct "please retry" reply (the outbox may be
unreachable too); any other exception is logged with ids and answered, never re-raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import col

from handlers.core import logctx, tokens
from handlers.core.clock import Clock
from handlers.core.config import DeskConfig
from handlers.core.context import IDLE, Ctx, FileKeeper, Searcher
from handlers.core.errors import BadButton, DeskError, NotAllowed, StaleAction
from handlers.core.flood import FloodGuard
from handlers.core.inputs import seen
from handlers.core.locks import KeyedLocks
from handlers.core.messages import Alarm, Heartbeat, Incoming, Kind, Outgoing
from handlers.core.recent import RecentIds
from handlers.core.router import (
    DIALOGUE_SCOPE,
    TICKET_SCOPE,
    ButtonRoute,
    Routes,
    TimerRoute,
)
from handlers.core.texts import Texts
from handlers.rules.lifecycle import OPEN
from storage import conversations, tickets
from storage.models import Ticket, TicketStatus, Timer, TimerState
from storage.uow import Database, Tx

log = logging.getLogger(__name__)
DB_FAILURES = (OperationalError, DBAPIError, PoolTimeout, OSError, ConnectionError)
SEEN_EVERY = timedelta(minutes=5)
CANCEL = "cancel"  # the one command every dialogue shares: handled here, not by a flow


class Desk:
    def __init__(
        self, db: Database, clock: Clock, config: DeskConfig, texts: Texts, routes: Routes,
        kb: Searcher | None = None, files: FileKeeper | None = None,
        flood: FloodGuard | None = None, alarm_lanes: int = 1,
    ) -> None:
        self.db, self.clock, self.config, self.texts, self.kb = db, clock, config, texts, kb
        self.files, self.routes = files, routes
        self.locks = KeyedLocks()
        # Alarms come in storms; people must still get their replies. At most this many
        # alarm steps hold a database connection and the event loop at once in a process;
        # the rest wait their turn (the sender waits, MQTT reads slower), chat never does.
        self.alarm_lane = asyncio.Semaphore(max(1, alarm_lanes))
        # Senders resend (Alertmanager's repeat interval, retries after a timeout, a copy to
        # each replica): a replay this process has handled is answered without a
        # transaction, which in a storm was half the writes.
        self.recent_alarms = RecentIds()
        self.flood = flood  # None: no flood control (command-line and scheduled work)
        self._busy, self._idle = 0, asyncio.Event()
        self._idle.set()

    async def quiesce(self, limit: float = 30.0) -> None:
        """Wait (up to `limit` seconds) until no update is being handled (shutdown)."""
        try:
            await asyncio.wait_for(self._idle.wait(), limit)
        except TimeoutError:
            log.warning("shutdown: %s updates still running after %ss", self._busy, limit)

    async def handle(self, inc: Incoming) -> list[Outgoing]:
        """Handle one update. Returns replies to send directly (only when the DB failed)."""
        self._busy += 1
        self._idle.clear()
        try:
            return await self._handle(inc)
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    @logctx.binds(update=lambda a: f"{a['inc'].channel}:{a['inc'].update_id}")
    async def _handle(self, inc: Incoming) -> list[Outgoing]:
        verdict = self.flood.check((inc.channel, inc.user_id)) if self.flood else "ok"
        if verdict != "ok":
            log.warning("flood from %s user %s: %s", inc.channel, inc.user_id, verdict)
            return [self._direct(inc, "error.too_fast")] if verdict == "warn" else []
        async with self.locks.hold((inc.channel, inc.chat_id, inc.user_id)):
            await self._prepare_search(inc)
            try:
                await self._step(inc)
            except DeskError as err:
                if isinstance(err, BadButton):  # forged or mangled: the sender's error
                    log.warning("bad input: a button we never issued on %s update %s",
                                inc.channel, inc.update_id)
                if err.cost and self.flood:
                    self.flood.charge((inc.channel, inc.user_id), err.cost)
                await self._answer_error(inc, err)
            except DB_FAILURES as exc:
                log.warning("database failure on %s update %s: %s", inc.channel, inc.update_id,
                            type(exc).__name__)
                return [self._direct(inc, "error.busy")]
            except Exception:
                log.exception("handler failed on %s update %s", inc.channel, inc.update_id)
                return await self._answer_internal(inc)
        return []

    async def _prepare_search(self, inc: Incoming) -> None:
        """A free-text message may be a fault to search for: with sentence embeddings (the
        hybrid engine) its vectors are computed here, in a thread, before the transaction,
        so the step's search neither blocks the event loop nor holds SQLite's one writer
        (a message of several clauses costs 50-150 ms to embed)."""
        prepare = getattr(self.kb, "prepare", None)
        if prepare is None or not getattr(self.kb, "needs_preparing", True) \
                or inc.kind is not Kind.TEXT or not inc.private or not seen(inc.text):
            return
        try:
            await asyncio.to_thread(prepare, inc.text)
        except Exception:  # the step's own search tries again, and reports what fails
            log.exception("search preparation failed on %s update %s", inc.channel,
                          inc.update_id)

    async def _open(self, tx: Tx, inc: Incoming) -> Ctx | None:
        now = self.clock.now()
        opened = await conversations.open_update(tx, inc.channel, inc.update_id, inc.chat_id,
                                                 inc.user_id, now)
        if opened is None:
            log.info("duplicate %s update %s ignored", inc.channel, inc.update_id)
            return None
        conv, ident, person = opened
        if ident is not None and (ident.last_seen is None or now - ident.last_seen > SEEN_EVERY):
            ident.last_seen = now  # only to pick the channel a person used last: coarse is fine
            tx.add(ident)
        if ident is not None and inc.private and ident.chat_id != inc.chat_id:
            ident.chat_id = inc.chat_id  # reached where they write privately, never a group
            tx.add(ident)
        return Ctx(tx=tx, now=now, config=self.config, texts=self.texts, kb=self.kb,
                   files=self.files,
                   origin=f"{inc.channel}:{inc.update_id}", incoming=inc, person=person,
                   conv=conv)

    async def _step(self, inc: Incoming) -> None:
        async with self.db.transaction() as tx:
            ctx = await self._open(tx, inc)
            if ctx is not None:
                await route(self.routes, ctx, inc)

    async def _answer_error(self, inc: Incoming, err: DeskError) -> None:
        async with self.db.transaction() as tx:
            ctx = await self._open(tx, inc)
            if ctx is None:
                return
            if err.reset:
                ctx.set_state(IDLE)
            await ctx.reply(err.text_key, **err.fields)

    async def _answer_internal(self, inc: Incoming) -> list[Outgoing]:
        try:
            await self._answer_error(inc, DeskError("error.internal"))
        except SQLAlchemyError:
            return [self._direct(inc, "error.busy")]
        return []

    async def run_job(self, origin: str, job: Callable[[Ctx], Awaitable[None]]) -> None:
        """Run a scheduled job (digest, report) in one transaction, like a message would.

        The origin names the job's run (e.g. the day), so replicas that all run it produce the
        same outbox keys and each message is queued once.
        """
        async with self.db.transaction() as tx:
            ctx = Ctx(tx=tx, now=self.clock.now(), config=self.config, texts=self.texts,
                      kb=self.kb, files=self.files, origin=origin)
            await job(ctx)

    async def alarm(self, item: Alarm | Heartbeat) -> bool:
        """An alarm or heartbeat from monitoring, in one transaction like a message.

        False: its event id was handled before (a replay). Alarms of one key are taken one at a
        time in this process; across replicas the open-incident constraint decides, and the
        loser of that race is run once more and finds the winner's incident."""
        name = "alarm" if isinstance(item, Alarm) else "heartbeat"
        entry = self.routes.entries.get(name)
        if entry is None:
            raise LookupError(f"no flow takes {name}s")
        if (name, item.event_id) in self.recent_alarms:
            log.info("duplicate %s %s ignored (handled here)", name, item.event_id)
            return False
        lock = ("alarm", item.key if isinstance(item, Alarm) else item.device)
        async with self.locks.hold(lock), self.alarm_lane:
            for attempt in (1, 2):
                try:
                    async with self.db.transaction(background=True) as tx:
                        now = self.clock.now()
                        if not await conversations.mark_seen(tx, name, item.event_id, now):
                            log.info("duplicate %s %s ignored", name, item.event_id)
                            fresh = False
                        else:
                            ctx = Ctx(tx=tx, now=now, config=self.config, texts=self.texts,
                                      kb=self.kb, files=self.files,
                                      origin=f"{name}:{item.event_id}")
                            await entry(ctx, item)
                            fresh = True
                    self.recent_alarms.add((name, item.event_id))  # committed
                    return fresh
                except IntegrityError:
                    if attempt == 2:
                        raise
                    log.info("%s %s raced another replica; once more", name, item.event_id)
        return False

    async def unreachable(self, channel: str, chat_id: str) -> None:
        """A platform said this chat blocked us: the jobs go on; their managers must know."""
        lost = self.routes.entries.get("unreachable")
        if lost is not None:
            await self.run_job(f"unreachable:{channel}:{chat_id}:{self.clock.now():%Y%m%d%H%M}",
                               lambda ctx: lost(ctx, channel, chat_id))

    def _direct(self, inc: Incoming, key: str) -> Outgoing:
        text = self.texts(None, key, hotline=self.config.support_hotline)
        return Outgoing(channel=inc.channel, chat_id=inc.chat_id, text=text,
                        key=f"{inc.channel}:{inc.update_id}:direct")


async def route(routes: Routes, ctx: Ctx, inc: Incoming) -> None:
    """The fixed order in which an update finds its flow."""
    if inc.kind in (Kind.TEXT, Kind.COMMAND) and not seen(inc.text):
        await ctx.reply("error.empty")  # zero-width characters alone say nothing either
    elif inc.kind is Kind.COMMAND:
        await _command(routes, ctx, inc)
    elif not inc.private:
        await _in_group(routes, ctx, inc)
    elif inc.kind is Kind.JOIN:
        await routes.entries["join"](ctx)
    elif inc.kind is Kind.CONTACT:
        await routes.entries["contact"](ctx)
    elif inc.kind is Kind.UNSUPPORTED:
        await ctx.reply("error.unsupported")
    elif ctx.person is None:
        await (routes.entries["stranger"](ctx) if inc.kind is Kind.TEXT
               else ctx.reply("registration.first"))
    elif inc.kind is Kind.BUTTON:
        await _button(routes, ctx, inc.data)
    elif inc.kind in (Kind.PHOTO, Kind.VOICE):  # files sent in chat take the same routes
        photo = routes.photos.get(ctx.state) or routes.photos[""]
        await photo(ctx, inc.voice if inc.kind is Kind.VOICE else inc.photo)
    elif inc.kind is Kind.LOCATION and inc.location is not None:
        where = routes.locations.get(ctx.state) or routes.locations[""]
        await where(ctx, inc.location)
    elif inc.kind is Kind.TEXT:
        await _text(routes, ctx, inc.text)
    else:
        await ctx.reply("error.unsupported")


def parse_command(text: str) -> tuple[str, str]:
    """'/Lang@bot en' → ('lang', 'en')."""
    head, _, rest = text.strip().partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return name, rest.strip()


async def _command(routes: Routes, ctx: Ctx, inc: Incoming) -> None:
    name, arg = parse_command(inc.text)
    command = routes.commands.get(name)
    if name == CANCEL:
        await _cancel(routes, ctx)
    elif command is None:
        await ctx.reply("command.unknown", command=inc.text.strip()[:40])
    elif command.private and not inc.private:
        await private_only(ctx)
    elif ctx.person is None and command.registered:
        await routes.entries["join"](ctx)
    elif command.roles and (ctx.person is None or ctx.person.role not in command.roles):
        raise NotAllowed()
    else:
        await command.handler(ctx, arg)


async def _in_group(routes: Routes, ctx: Ctx, inc: Incoming) -> None:
    """A group chat sees only what a route declares public: whatever a person reports,
    presses or shares there is answered in private."""
    words = routes.words.get(inc.text.strip().lower()) if inc.kind is Kind.TEXT else None
    if words is not None and not words.private and ctx.person is not None:
        await words.handler(ctx, inc.text)
    else:
        await private_only(ctx)


async def private_only(ctx: Ctx) -> None:
    """"Please message me privately", with a link to the private chat when there is one."""
    link = ctx.incoming.bot_link if ctx.incoming else ""
    await (ctx.reply("error.private_only", link=link) if link
           else ctx.reply("error.private_only_nolink"))


async def _cancel(routes: Routes, ctx: Ctx) -> None:
    """`/cancel` ends whatever dialogue the person is in, with that flow's own words."""
    reply = routes.cancels.get(ctx.state)
    if reply is None:
        await ctx.reply("command.nothing_to_cancel")
        return
    ctx.set_state(IDLE)
    await ctx.reply(reply)


async def _text(routes: Routes, ctx: Ctx, words: str) -> None:
    state = ctx.state
    by_words = routes.words.get(words.strip().lower())
    if by_words is not None:
        await by_words.handler(ctx, words)
    elif state in routes.texts:
        await routes.texts[state](ctx, words)
    else:
        if state != IDLE:  # a dialogue whose flow takes no text (or no longer exists)
            ctx.set_state(IDLE)
        for idle in routes.idle:
            if await idle(ctx, words):
                return


async def _button(routes: Routes, ctx: Ctx, data: str) -> None:
    token = tokens.parse(data)
    found = routes.button(token.scope, token.action, token.arg)
    if found is None:
        raise BadButton()
    route, arg = found
    if route.roles and (ctx.person is None or ctx.person.role not in route.roles):
        raise NotAllowed()
    if token.scope == TICKET_SCOPE:
        await route.handler(ctx, await _pressed_ticket(ctx, route, token.ticket_id), arg)
    elif token.scope == DIALOGUE_SCOPE:
        if ctx.conv is None or ctx.conv.data.get("n") != token.ref:
            raise StaleAction("error.stale_report")  # a dialogue that has ended
        if ctx.state not in route.states:  # the same dialogue, an earlier step's button
            raise StaleAction("error.earlier_step")
        await route.handler(ctx, arg)
    else:
        await route.handler(ctx, int(token.ref), arg)


async def _pressed_ticket(ctx: Ctx, route: ButtonRoute, ticket_id: int) -> Ticket:
    ticket = await tickets.get(ctx.tx, ticket_id, lock=True)
    if ticket is None:
        raise BadButton()
    logctx.ticket(ticket.id)
    for guard in route.guards:
        guard(ctx, ticket)
    return ticket


class TimerRunner:
    """Runs claimed timers through the same context and outbox as messages."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def run_batch(self, timer_ids: list[int], worker: str) -> int:
        """Fire claimed timers in one background transaction, each in its own savepoint.

        One commit for a batch keeps a burst of due timers fast; the savepoint keeps one
        failing timer from undoing the others (its lease runs out and it is tried again).
        On SQLite a person's step waiting for the one writer ends the batch's transaction
        after the timer in hand: the rest fire in the next one, after the person's reply (an
        alarm storm's grace timers, each opening a ticket, held the writer 100-370 ms).
        """
        fired, left = 0, list(timer_ids)
        while left:
            async with self.desk.db.transaction(background=True) as tx:
                await _preload(tx, left)
                while left:
                    timer_id = left.pop(0)
                    try:
                        async with tx.savepoint():
                            fired += await self._fire(tx, timer_id, worker)
                    except Exception:
                        log.exception("timer %s failed", timer_id)
                    if self.desk.db.someone_waits():
                        break
        return fired

    @logctx.binds(timer="timer_id")
    async def _fire(self, tx: Tx, timer_id: int, worker: str) -> int:
        d = self.desk
        timer = await tx.get(Timer, timer_id)
        if timer is None or timer.state != TimerState.PENDING or timer.claimed_by != worker:
            return 0  # cancelled, done, or taken over by another replica meanwhile
        if timer.claimed_until is not None and d.clock.now() >= timer.claimed_until:
            return 0  # our lease ran out: another replica may be firing it now
        now = d.clock.now()
        ctx = Ctx(tx=tx, now=now, config=d.config, texts=d.texts, kb=d.kb, files=d.files,
                  origin=f"timer:{timer.key}:{timer.due_at.timestamp():.0f}")
        await fire(d.routes, ctx, timer)
        if timer.claimed_by == worker:  # else its handler re-armed it (storage.timers.schedule)
            timer.state, timer.fired_at = str(TimerState.DONE), now
            tx.add(timer)
        return 1


async def _preload(tx: Tx, timer_ids: list[int]) -> None:
    """Load a batch's tickets (locked, in id order, as message steps lock them) and then its
    timers in two statements, so each timer's step finds them in the session."""
    ticket_ids = select(col(Timer.ticket_id)).where(col(Timer.id).in_(timer_ids))
    await tx.scalars(tx.lock(
        select(Ticket).where(col(Ticket.id).in_(ticket_ids)).order_by(col(Ticket.id))
    ).execution_options(populate_existing=True))
    await tx.scalars(tx.lock(select(Timer).where(col(Timer.id).in_(timer_ids))))


async def fire(routes: Routes, ctx: Ctx, timer: Timer) -> None:
    """A due timer runs its flow's handler; a ticket's timer first re-reads the ticket, since
    the job may have moved on after the timer was claimed."""
    route: TimerRoute | None = routes.timers.get(timer.kind)
    if route is None:
        log.warning("timer %s (%s) has no handler", timer.key, timer.kind)
        return
    if not route.ticket:
        await route.handler(ctx, timer)
        return
    logctx.ticket(timer.ticket_id)
    log.debug("timer fires: %s", timer.kind)
    # the batch preloaded (and on PostgreSQL locked) the ticket: this is a session look-up
    ticket = await ctx.tx.get(Ticket, timer.ticket_id) if timer.ticket_id else None
    if ticket is None:
        log.warning("timer %s (%s) has no ticket", timer.key, timer.kind)
        return
    if not route.only_open or TicketStatus(ticket.status) in OPEN:
        await route.handler(ctx, ticket, timer)
