"""Spare parts used (备品备件): right after a job is resolved, the engineer is asked which
parts it took — a few as buttons (the ticket's category first, then the most used), 其他 to
type a name or code (matched against the orchard's parts list), or 没有用备件 — then how many
(1 2 3 or a typed whole number), then 添加 another or 完成.

The ticket is resolved before the question, so the parts never hold up the resolution or the
reporter's notice; what waits is the managers' fault report, which should list the parts: it
goes when the engineer answers (完成, 没有用备件), or after `parts_report_wait_minutes` when they
do not (/cancel, another job, silence). Parts recorded after that send the report again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from handlers.core import logctx, tokens
from handlers.core.context import IDLE, Ctx, Rows
from handlers.core.errors import BadButton, NotAllowed, StaleAction
from handlers.core.inputs import one_line
from handlers.core.messages import FileRef
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.jobs.summary import STAFF, number
from handlers.flows.records import fault_report, parts_used
from handlers.flows.records.ticket_files import utc
from handlers.rules.parts import Part
from storage import parts, tickets, timers
from storage.models import PartUsage, Person, Ticket, Timer

router = Router("parts")
# p:<ticket id>:<action>[:<arg>] — not t:, so the web chat keeps the ticket's other buttons of
# the same moment (保存为知识库草稿) pressable: it greys out earlier buttons of one group only
SCOPE = "p"
QUICK = 4  # parts offered as buttons: with 其他 and 没有用备件, one WeCom card (6 buttons)
MAX_QUANTITY = 999
QUICK_QUANTITIES = (1, 2, 3)
ECHO_CHARS = 20  # of a typed word, quoted back when it names nothing
FINISH_WORDS = frozenset({"完成", "好了", "没有", "没有了", "无", "没用", "没用备件", "没有用备件",
                          "不用", "done", "finish", "none", "no", "nothing"})
CHINESE_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9, "十": 10}
UNIT_WORDS = (r"(?:个|只|件|根|块|张|条|米|套|卷|盒|对"
              r"|pcs?|pieces?|m|sets?|rolls?|box(?:es)?|pairs?)")
TYPED_QUANTITY = re.compile(rf"(\S+?)\s*{UNIT_WORDS}?", re.IGNORECASE)


class State(StrEnum):
    PART = "parts_part"  # which part: a button, or a typed name or code
    QUANTITY = "parts_quantity"  # how many of it
    MORE = "parts_more"  # another part, or done


class Action(StrEnum):
    PICK = "part_pick"  # arg: the part's code
    OTHER = "part_other"
    NONE = "part_none"
    QUANTITY = "part_qty"  # arg: how many
    MORE = "part_more"
    DONE = "part_done"


class Due(StrEnum):
    REPORT = "parts_report"  # the engineer did not answer: the managers' report goes anyway


class Event(StrEnum):
    USED = "parts_used"


@dataclass
class Picking:
    ticket: int = 0
    code: str = ""  # the part whose quantity is being asked
    recorded: int = 0  # parts recorded in this dialogue


router.cancellable(State, "parts.cancelled")


async def ask(ctx: Ctx, ticket: Ticket) -> None:
    """The question after a resolution; with no parts list, the report goes at once."""
    if not ctx.config.parts.parts:
        await fault_report.send(ctx, ticket)
        return
    wait = timedelta(minutes=ctx.config.parts_report_wait_minutes)
    await timers.schedule(ctx.tx, _key(ticket), Due.REPORT, ctx.now + wait, ticket_id=ticket.id)
    ctx.set_state(State.PART, Picking(ticket=ticket.id or 0))
    await ctx.reply("parts.ask", await _offer(ctx, ticket), number=number(ticket))


def holder(ctx: Ctx, ticket: Ticket) -> None:
    """Only the engineer who resolved the job records its parts."""
    if ctx.person is None or ctx.person.role not in STAFF:
        raise NotAllowed()
    if ticket.assignee_id != ctx.person.id:
        raise NotAllowed("error.not_assignee", number=number(ticket))


@router.record_button(SCOPE, Action.PICK, arg=r"[A-Za-z0-9_]{1,20}")
async def pick(ctx: Ctx, ticket_id: int, arg: str) -> None:
    ticket = await _pressed(ctx, ticket_id)
    data = _in_dialogue(ctx, ticket, State.PART)
    part = ctx.config.parts.get(arg)
    if part is None:  # the list changed since the button was sent
        raise StaleAction("parts.gone", number=number(ticket))
    await _ask_quantity(ctx, data, part)


@router.record_button(SCOPE, Action.OTHER)
async def other(ctx: Ctx, ticket_id: int, arg: str) -> None:
    _in_dialogue(ctx, await _pressed(ctx, ticket_id), State.PART)
    await ctx.reply("parts.ask_name")


@router.record_button(SCOPE, Action.NONE)
async def none_used(ctx: Ctx, ticket_id: int, arg: str) -> None:
    ticket = await _pressed(ctx, ticket_id)
    await _finish(ctx, ticket, _in_dialogue(ctx, ticket, State.PART))


@router.record_button(SCOPE, Action.QUANTITY, arg=r"[1-9][0-9]{0,2}")
async def quantity_pressed(ctx: Ctx, ticket_id: int, arg: str) -> None:
    ticket = await _pressed(ctx, ticket_id)
    await _record(ctx, ticket, _in_dialogue(ctx, ticket, State.QUANTITY), int(arg))


@router.record_button(SCOPE, Action.MORE)
async def another(ctx: Ctx, ticket_id: int, arg: str) -> None:
    ticket = await _pressed(ctx, ticket_id)
    data = _in_dialogue(ctx, ticket, State.MORE)
    ctx.set_state(State.PART, data)
    await ctx.reply("parts.ask_another", await _offer(ctx, ticket))


@router.record_button(SCOPE, Action.DONE)
async def done(ctx: Ctx, ticket_id: int, arg: str) -> None:
    ticket = await _pressed(ctx, ticket_id)
    await _finish(ctx, ticket, _in_dialogue(ctx, ticket, State.MORE, State.PART))


@router.text(State.PART, State.MORE)
async def part_typed(ctx: Ctx, text: str) -> None:
    """A name or code (matched against the list), or a word that says there are no more."""
    ticket = await _ticket(ctx)
    data = ctx.data(Picking)
    word = one_line(text) or ""
    if not word:  # several lines: one part at a time
        await ctx.reply("parts.ask_name")
        return
    if word.casefold() in FINISH_WORDS:
        await _finish(ctx, ticket, data)
        return
    catalog = ctx.config.parts
    exact = catalog.exact(word)
    if exact is not None:
        await _ask_quantity(ctx, data, exact)
        return
    ctx.set_state(State.PART, data)  # after 还有别的吗, a typed name is the next part
    found = catalog.find(word)
    echo = word[:ECHO_CHARS]
    if found:
        await ctx.reply("parts.matches", _rows(ticket, found), text=echo)
    else:
        await ctx.reply("parts.no_match", await _offer(ctx, ticket), text=echo)


@router.text(State.QUANTITY)
async def quantity_typed(ctx: Ctx, text: str) -> None:
    ticket = await _ticket(ctx)
    n = typed_quantity(text)
    if n is None:
        part = ctx.config.parts.get(ctx.data(Picking).code)
        await ctx.reply("parts.bad_quantity", _quantity_rows(ticket.id or 0),
                        text=(one_line(text) or "")[:ECHO_CHARS], max=MAX_QUANTITY,
                        part=part.name(ctx.lang) if part else "-")
        return
    await _record(ctx, ticket, ctx.data(Picking), n)


@router.photo(State.PART, State.QUANTITY, State.MORE)
async def photo_instead(ctx: Ctx, ref: FileRef | None) -> None:
    await ctx.reply("parts.words_please")


@router.location(State.PART, State.QUANTITY, State.MORE)
async def location_instead(ctx: Ctx, where: tuple[float, float]) -> None:
    await ctx.reply("parts.words_please")


@router.ticket_timer(Due.REPORT)
async def report_due(ctx: Ctx, ticket: Ticket, timer: Timer) -> None:
    """Nobody answered the parts question: the report must not wait any longer."""
    if ticket.resolved_at is not None and not await _reported(ctx, ticket):
        await fault_report.send(ctx, ticket)


def typed_quantity(text: str) -> int | None:
    """A whole number from 1 to MAX_QUANTITY, written "2", "２", "2个", "两" or "3 m"."""
    m = TYPED_QUANTITY.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        return None
    word = m[1]
    n = CHINESE_NUMBERS.get(word) or (int(word) if word.isascii() and word.isdigit()
                                      and len(word) <= 4 else None)
    return n if n is not None and 1 <= n <= MAX_QUANTITY else None


async def _ask_quantity(ctx: Ctx, data: Picking, part: Part) -> None:
    data.code = part.code
    ctx.set_state(State.QUANTITY, data)
    await ctx.reply("parts.ask_quantity", _quantity_rows(data.ticket),
                    part=part.name(ctx.lang), unit=lazy(f"parts.unit.{part.unit}"),
                    max=MAX_QUANTITY)


async def _record(ctx: Ctx, ticket: Ticket, data: Picking, quantity: int) -> None:
    part = ctx.config.parts.get(data.code)
    if part is None:
        raise StaleAction("parts.gone", number=number(ticket), reset=True)
    me = _me(ctx)
    await parts.record(ctx.tx, PartUsage(
        ticket_id=ticket.id or 0, code=part.code, name=part.name_zh, name_en=part.name_en,
        unit=part.unit, quantity=quantity, engineer_id=me.id, recorded_at=ctx.now))
    await tickets.add_event(ctx.tx, ticket, Event.USED, ctx.now, me.id, code=part.code,
                            quantity=quantity)
    data.code, data.recorded = "", data.recorded + 1
    ctx.set_state(State.MORE, data)
    rows = [[("parts.button.more", _token(ticket.id, Action.MORE)),
             ("parts.button.done", _token(ticket.id, Action.DONE))]]
    await ctx.reply("parts.recorded", rows, part=part.name(ctx.lang), quantity=quantity,
                    unit=lazy(f"parts.unit.{part.unit}"))


async def _finish(ctx: Ctx, ticket: Ticket, data: Picking) -> None:
    """The dialogue ends; the managers get the report with the parts in it."""
    ctx.set_state(IDLE)
    await timers.cancel(ctx.tx, _key(ticket))
    used = await parts_used.of_ticket(ctx, ticket)
    if used:
        listing = "\n".join(parts_used.lines(ctx, ctx.lang, used))
        await ctx.reply("parts.done", number=number(ticket), parts=listing)
    else:
        await ctx.reply("parts.none", number=number(ticket))
    # the report waited for this answer; if it went meanwhile, only new parts send it again
    if data.recorded or not await _reported(ctx, ticket):
        await fault_report.send(ctx, ticket)


async def _offer(ctx: Ctx, ticket: Ticket) -> Rows:
    """A few parts: the ticket's category first, then the most used, then the list's order."""
    catalog = ctx.config.parts.parts
    rank = {code: i for i, code in enumerate(await parts.most_used(ctx.tx, len(catalog)))}
    order = sorted(range(len(catalog)), key=lambda i: (
        catalog[i].category != ticket.category, rank.get(catalog[i].code, len(rank)), i))
    rows = [list(row) for row in _rows(ticket, [catalog[i] for i in order[:QUICK]])]
    return [*rows, [("parts.button.other", _token(ticket.id, Action.OTHER)),
                    ("parts.button.none", _token(ticket.id, Action.NONE))]]


def _rows(ticket: Ticket, found: list[Part]) -> Rows:
    cells = [(lazy("parts.label", name=p.name), _token(ticket.id, Action.PICK, p.code))
             for p in found]
    return [cells[i:i + 2] for i in range(0, len(cells), 2)]


def _quantity_rows(ticket_id: int) -> Rows:
    return [[(lazy("parts.label", name=str(n)), _token(ticket_id, Action.QUANTITY, n))
             for n in QUICK_QUANTITIES]]


async def _pressed(ctx: Ctx, ticket_id: int) -> Ticket:
    """The ticket a button names, locked; only its assignee may press."""
    ticket = await tickets.get(ctx.tx, ticket_id, lock=True)
    if ticket is None:
        raise BadButton()
    logctx.ticket(ticket.id)
    holder(ctx, ticket)
    return ticket


def _in_dialogue(ctx: Ctx, ticket: Ticket, *states: State) -> Picking:
    """The press belongs to this ticket's parts dialogue, at a step where it means something."""
    data = ctx.data(Picking)
    if ctx.state not in states or data.ticket != ticket.id:
        raise StaleAction("parts.stale", number=number(ticket))
    return data


async def _ticket(ctx: Ctx) -> Ticket:
    tid = ctx.data(Picking).ticket
    logctx.ticket(tid)
    ticket = await tickets.get(ctx.tx, tid, lock=True)
    me = ctx.person.id if ctx.person else None
    if ticket is None or ticket.assignee_id != me:
        raise StaleAction("parts.stale", number=tickets.number(tid), reset=True)
    return ticket


async def _reported(ctx: Ctx, ticket: Ticket) -> bool:
    """Whether the managers have had the report of this resolution."""
    if ticket.resolved_at is None:
        return False
    since = utc(ticket.resolved_at)
    return any(e.kind == fault_report.Event.REPORT_SENT and utc(e.at) >= since
               for e in await tickets.events(ctx.tx, ticket.id or 0))


def _me(ctx: Ctx) -> Person:
    assert ctx.person is not None  # the route's guard, or the dialogue's owner
    return ctx.person


def _token(ticket_id: int | None, action: Action, arg: object = "") -> str:
    return tokens.encode(SCOPE, ticket_id or 0, action, arg)


def _key(ticket: Ticket) -> str:
    return f"{Due.REPORT}:{ticket.id}"
