"""The report dialogue: a fault described in chat becomes a ticket.

    idle ─text─► [articles shown] ─report it─► impact? ─► summary ─submit─► ticket
      │               └─solved─► idle (counted as self-service)
      └─system down / safety words─► ticket at once (P1), then the articles to try meanwhile

Text typed during the report is added to the description; photos and a location are kept
for the ticket. The conversation row holds everything, so any replica can continue it.
A reporter with open jobs who writes is first asked where the words belong; after "new fault"
only words describe it (an emoji or punctuation alone is asked for words, not taken for one).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handlers.core import logctx, tokens
from handlers.core.context import IDLE, Ctx
from handlers.core.errors import NotAllowed, StaleAction
from handlers.core.inputs import seen
from handlers.core.router import Router
from handlers.core.texts import Lazy, lazy
from handlers.flows import admission, reporter
from handlers.flows.intake import selfservice, urgency
from handlers.flows.jobs.opening import NewTicket, open_ticket
from handlers.flows.jobs.summary import is_voice, priority_label, promise, voices
from handlers.rules import faults, triage
from handlers.rules.triage import Impact
from storage import tickets
from storage.models import Role

router = Router("intake")
MIN_DESCRIPTION_CHARS = 4
MAX_PHOTOS = 10
MAX_CHOICES = 3


class State(StrEnum):
    KB = "intake_kb"  # articles shown: solved, or report it?
    IMPACT = "intake_impact"  # asked how much is affected
    CONFIRM = "intake_confirm"  # summary shown: submit or cancel
    CHOICE = "intake_choice"  # reporter with open tickets: add to one, or a new fault?
    WORDS = "intake_words"  # … chose "new fault": waiting for words that describe it


class Action(StrEnum):
    SOLVED = "solved"  # arg: which article (1–3; 0 = a button from before articles had one)
    READ = "read"  # arg: which article
    REPORT = "kb_no"
    IMPACT = "impact"  # arg: an Impact
    SUBMIT = "submit"
    CANCEL = "cancel"
    ADD_TO = "add"  # arg: the open ticket's id
    NEW = "new"


@dataclass
class Report:
    """Everything a report holds until it is submitted (stored in the conversation row)."""

    n: str = ""  # the nonce its buttons carry
    description: str = ""
    photos: list[dict[str, Any]] = field(default_factory=list)
    location: list[float] | None = None
    articles: list[str] = field(default_factory=list)  # self-service articles shown
    attempt: int | None = None  # the self-service attempt row
    category: str = ""
    impact: str = ""
    priority: str = ""
    text: str = ""  # CHOICE: the words whose place is being asked
    notes: str = ""  # words typed while answering the form: kept apart from the description


router.cancellable(State, "command.cancel_report")
IMPACTS = "|".join(Impact)


def clip(ctx: Ctx, text: str) -> tuple[str, bool]:
    limit = ctx.config.max_message_chars
    text = text.strip()
    return (text[:limit], True) if len(text) > limit else (text, False)


def kb_buttons(nonce: str) -> selfservice.Buttons:
    return selfservice.Buttons(
        solved=lambda i: tokens.dialogue(nonce, Action.SOLVED, i),
        read=lambda i: tokens.dialogue(nonce, Action.READ, i),
        report=tokens.dialogue(nonce, Action.REPORT),
    )


@router.idle_text
async def idle(ctx: Ctx, text: str) -> bool:
    """Words outside any dialogue: where they belong if the reporter has open jobs or one
    fixed but not closed yet, else a new report. After a fix, the words are most often about
    it ("thanks, the pump works again"): offering articles about that device would answer
    the wrong question (measured: most false suggestions on an unseen orchard's labelled
    messages were such follow-ups, docs/benchmarks.md)."""
    mine = await reporter.current_of(ctx) if ctx.person and ctx.person.role == Role.REPORTER \
        else []
    if mine:
        await _ask_where(ctx, text, [t.id or 0 for t in mine[-MAX_CHOICES:]])
    else:
        await start(ctx, text)
    return True


async def _ask_where(ctx: Ctx, text: str, ticket_ids: list[int]) -> None:
    nonce = secrets.token_hex(3)
    rows: list[list[tuple[str | Lazy, str]]] = [
        [(lazy("button.add_to", number=tickets.number(tid)),
          tokens.dialogue(nonce, Action.ADD_TO, tid))] for tid in ticket_ids
    ]
    rows.append([("button.new_fault", tokens.dialogue(nonce, Action.NEW))])
    kept, (words, cut) = ctx.data(Report), clip(ctx, text)
    ctx.set_state(State.CHOICE, Report(n=nonce, text=words, photos=kept.photos,
                                       location=kept.location))
    if cut:
        await ctx.reply("intake.kept_first", limit=ctx.config.max_message_chars)
    await ctx.reply("reporter.add_or_new", rows)


def has_words(text: str) -> bool:
    """Whether the text holds a letter or a digit (an emoji, a sticker's character or
    punctuation alone describes no fault)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in seen(text))


async def start(ctx: Ctx, text: str) -> None:
    description, cut = clip(ctx, text)
    if len(seen(description)) < MIN_DESCRIPTION_CHARS or not has_words(description):
        await ctx.reply("intake.too_short")  # zero-width characters or emoji say nothing
        return
    if cut:
        await ctx.reply("intake.kept_first", limit=ctx.config.max_message_chars)
    kept = ctx.data(Report)  # photos or a location sent before the words
    report = Report(n=secrets.token_hex(3), description=description, photos=kept.photos,
                    location=kept.location)
    impact = urgency.at_once(description)
    if impact is not None:
        await open_at_once(ctx, report, impact)
        return
    offered = await selfservice.offer(ctx, description, kb_buttons(report.n))
    if offered is not None:
        report.articles, report.attempt = offered.articles, offered.attempt
        report.category = offered.category
        ctx.set_state(State.KB, report)
        return
    await ask_impact(ctx, report)


async def open_at_once(ctx: Ctx, report: Report, impact: Impact) -> None:
    """System down, or people or equipment at risk: the ticket is opened now, without the
    articles or the form; the articles follow as something to try meanwhile. A person not yet
    approved is told so and pages nobody, as with any report."""
    if ctx.person is None or not await admission.admitted(ctx):
        return
    hits = selfservice.matching(ctx, report.description)
    new = NewTicket(
        description=report.description, impact=str(impact),
        priority=triage.priority(impact, report.description),
        category=hits[0].article.category if hits else faults.guess_category(report.description),
        kb_shown=[h.article.id for h in hits], photos=list(report.photos),
        location=report.location,
    )
    ctx.set_state(IDLE)
    await open_ticket(ctx, ctx.person, new)
    await selfservice.while_you_wait(ctx, hits)


async def ask_impact(ctx: Ctx, report: Report) -> None:
    """Going on to report: only for people who may open tickets (the others are told why and
    keep their place, so they can go on once approved)."""
    if not await admission.admitted(ctx):
        return
    rows = [[(f"impact.{i}", tokens.dialogue(report.n, Action.IMPACT, i))] for i in Impact]
    ctx.set_state(State.IMPACT, report)
    await ctx.reply("intake.ask_impact", rows)


FORM_STATES = (State.IMPACT, State.CONFIRM)


@router.text(*State)
async def add_text(ctx: Ctx, text: str) -> None:
    """More words while a report is open. While the articles are shown they add to the
    description; typed at a form question they are kept apart, as a note the engineer sees
    labelled, so chatter never rewrites the fault."""
    if ctx.state == State.WORDS:
        await describe(ctx, text)
        return
    report = ctx.data(Report)
    field = "text" if ctx.state == State.CHOICE else \
        "notes" if ctx.state in FORM_STATES else "description"
    before = getattr(report, field)
    joined, cut = clip(ctx, f"{before}\n{text.strip()}" if before else text)
    setattr(report, field, joined)
    ctx.keep(report)
    said = "intake.kept_first" if cut else "intake.note_kept" if field == "notes" \
        else "intake.added"
    await ctx.reply(said, limit=ctx.config.max_message_chars)
    await _ask_again(ctx, report)


async def _ask_again(ctx: Ctx, report: Report) -> None:
    if ctx.state == State.CHOICE:
        ctx.set_state(IDLE, Report(photos=report.photos, location=report.location))
        await idle(ctx, report.text)
    elif ctx.state == State.KB:
        await ctx.reply("selfservice.ask_again",
                        selfservice.rows(kb_buttons(report.n), len(report.articles)))
    elif ctx.state == State.IMPACT:
        await ask_impact(ctx, report)
    elif ctx.state == State.CONFIRM:
        await confirm(ctx, report)


@router.dialogue_button(Action.CANCEL, State.KB, State.IMPACT, State.CONFIRM)
async def cancel(ctx: Ctx, arg: str) -> None:
    ctx.set_state(IDLE)
    await ctx.reply("intake.cancelled")


def _article(report: Report, arg: str) -> str:
    """The article a button names (1-based), or "" for a button that named none."""
    index = int(arg)
    if index == 0:
        return ""
    if index > len(report.articles):
        raise StaleAction("error.stale_report")
    return report.articles[index - 1]


@router.dialogue_button(Action.SOLVED, State.KB, arg="[0-3]", legacy="kb_ok", legacy_arg="0")
async def solved(ctx: Ctx, arg: str) -> None:
    report = ctx.data(Report)
    await selfservice.record(ctx, report.attempt, solved_by=_article(report, arg))
    ctx.set_state(IDLE)
    await ctx.reply("selfservice.glad")


@router.dialogue_button(Action.READ, State.KB, arg="[1-3]")
async def read(ctx: Ctx, arg: str) -> None:
    report = ctx.data(Report)
    await selfservice.read(ctx, _article(report, arg),
                           solved=tokens.dialogue(report.n, Action.SOLVED, arg),
                           report=tokens.dialogue(report.n, Action.REPORT))


@router.dialogue_button(Action.REPORT, State.KB)
async def not_solved(ctx: Ctx, arg: str) -> None:
    report = ctx.data(Report)
    await selfservice.record(ctx, report.attempt, solved_by=None)
    await ask_impact(ctx, report)


@router.dialogue_button(Action.IMPACT, State.IMPACT, arg=IMPACTS, legacy=rf"imp_({IMPACTS})")
async def impact(ctx: Ctx, arg: str) -> None:
    report = ctx.data(Report)
    report.impact = arg
    report.priority = triage.priority(Impact(arg), report.description)
    await confirm(ctx, report)


async def confirm(ctx: Ctx, report: Report) -> None:
    window = ctx.config.sla.window(report.priority)
    rows = [[("button.submit", tokens.dialogue(report.n, Action.SUBMIT)),
             ("button.cancel", tokens.dialogue(report.n, Action.CANCEL))]]
    ctx.set_state(State.CONFIRM, report)
    await ctx.reply(
        "intake.confirm", rows, description=report.description,
        site=(ctx.person.site if ctx.person else "") or "-",
        impact=lazy(f"impact.{report.impact}"), priority=priority_label(ctx, report.priority),
        promise=promise(window), photos=sum(not is_voice(p) for p in report.photos),
        voices=lazy("voice.confirm_line", what=voices(report.photos)) if voices(report.photos)
        else "",
        notes=lazy("intake.notes_line", notes=report.notes) if report.notes else "",
    )


@router.dialogue_button(Action.SUBMIT, State.CONFIRM)
async def submit(ctx: Ctx, arg: str) -> None:
    assert ctx.person is not None
    if not await admission.admitted(ctx):
        return
    report = ctx.data(Report)
    described = report.description if not report.notes else \
        f"{report.description}\n{ctx.t('intake.notes_label')}{report.notes}"
    new = NewTicket(
        description=described, impact=report.impact, priority=report.priority,
        category=report.category or faults.guess_category(report.description),
        kb_shown=list(report.articles), photos=list(report.photos), location=report.location,
    )
    ctx.set_state(IDLE)
    ticket = await open_ticket(ctx, ctx.person, new)
    await selfservice.link_ticket(ctx, report.attempt, ticket)


@router.dialogue_button(Action.NEW, State.CHOICE)
async def new_fault(ctx: Ctx, arg: str) -> None:
    """The words are a new fault, not about an open job."""
    report = ctx.data(Report)
    ctx.set_state(State.WORDS, Report(photos=report.photos, location=report.location))
    await describe(ctx, report.text)


async def describe(ctx: Ctx, text: str) -> None:
    """Words for the new fault the reporter chose: without any letter or digit they are asked
    for words (never again where the words belong); too few, they are asked for more and stay
    here; otherwise the report starts."""
    if not has_words(text):
        await ctx.reply("intake.words.ask")
        return
    await start(ctx, text)


@router.dialogue_button(Action.ADD_TO, State.CHOICE, arg=r"\d{1,10}", legacy=r"add_(\d{1,10})")
async def add_to_ticket(ctx: Ctx, arg: str) -> None:
    """The words belong to this open job (one of the presser's own: the id is checked, the
    button could be forged)."""
    text = ctx.data(Report).text
    ticket = await tickets.get(ctx.tx, int(arg), lock=True)
    if ticket is None or ctx.person is None or ticket.reporter_id != ctx.person.id:
        raise NotAllowed("error.not_your_ticket")
    ctx.set_state(IDLE)
    logctx.ticket(ticket.id)
    await reporter.add_note(ctx, ticket, text)


def keep_photo(ctx: Ctx, photo: dict[str, Any]) -> bool:
    """Keep a photo with the report being written (or, outside any dialogue, for the next
    one); False when it already holds the maximum."""
    if ctx.state != IDLE and ctx.state not in State.__members__.values():
        return True  # inside another flow's dialogue: its data is not a report's
    report = ctx.data(Report)
    if len(report.photos) >= MAX_PHOTOS:
        return False
    report.photos = [*report.photos, photo]
    ctx.keep(report)
    return True


def keep_location(ctx: Ctx, point: list[float]) -> None:
    if ctx.state != IDLE and ctx.state not in State.__members__.values():
        return
    report = ctx.data(Report)
    report.location = point
    ctx.keep(report)
