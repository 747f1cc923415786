"""Registration: an unknown person writing is offered to register as a reporter.

Orchard staff are many, so they register themselves (name, then site); engineers and
managers are added by an admin (`frontline people add`). A fault described before
registering is kept and becomes the first report right after.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.core.context import IDLE, Ctx
from handlers.core.router import Router
from handlers.flows.intake import report
from storage import people
from storage.models import Role

router = Router("registration")
MAX_NAME = 50
MAX_SITE = 100


class State(StrEnum):
    NAME = "reg_name"  # unknown person: asked for a name
    SITE = "reg_site"  # … then for the orchard site


@dataclass
class Signup:
    pending: str = ""  # a fault described before registering
    name: str = ""
    phone: str = ""


router.cancellable(State, "command.cancel_registration")


@router.entry("join")
async def begin(ctx: Ctx) -> None:
    """Someone opened the chat, or a stranger used a command that needs a registered person."""
    if ctx.person is not None:
        await ctx.reply("command.greet", name=ctx.person.name)
        return
    await _ask_name(ctx, "")


async def _ask_name(ctx: Ctx, pending: str) -> None:
    kept = ctx.data(Signup)
    ctx.set_state(State.NAME, Signup(pending=pending[: ctx.config.max_message_chars],
                                     phone=kept.phone))
    await ctx.reply("registration.welcome")


@router.command("start")
async def start(ctx: Ctx, arg: str) -> None:
    if ctx.person is None:
        await _ask_name(ctx, "")
        return
    await ctx.reply("command.start", name=ctx.person.name)


@router.entry("stranger")
async def on_text(ctx: Ctx) -> None:
    text = ctx.incoming.text.strip() if ctx.incoming else ""
    if ctx.state == State.NAME:
        await _name(ctx, text)
    elif ctx.state == State.SITE:
        await _site(ctx, text)
    else:
        await _ask_name(ctx, text)


async def _name(ctx: Ctx, name: str) -> None:
    if not name or len(name) > MAX_NAME or name.startswith("/"):
        await ctx.reply("registration.bad_name", limit=MAX_NAME)
        return
    signup = ctx.data(Signup)
    signup.name = name
    ctx.set_state(State.SITE, signup)
    await ctx.reply("registration.ask_site", name=name)


async def _site(ctx: Ctx, site: str) -> None:
    assert ctx.incoming is not None
    if not site or len(site) > MAX_SITE:
        await ctx.reply("registration.bad_site", limit=MAX_SITE)
        return
    inc, signup = ctx.incoming, ctx.data(Signup)
    person = await people.add_person(
        ctx.tx, name=signup.name, role=Role.REPORTER, site=site, now=ctx.now,
        phone=signup.phone, language=ctx.lang,
    )
    ident = await people.link_identity(ctx.tx, person, inc.channel, inc.user_id, inc.chat_id)
    ident.last_seen = ctx.now
    ctx.person = person
    ctx.set_state(IDLE)
    await ctx.reply("registration.done", name=person.name, site=site)
    if signup.pending:
        await report.start(ctx, signup.pending)


@router.entry("contact")
async def keep_phone(ctx: Ctx) -> None:
    phone = (ctx.incoming.phone if ctx.incoming else "")[:40]
    if ctx.person is not None:
        ctx.person.phone = phone
        ctx.tx.add(ctx.person)
    else:
        signup = ctx.data(Signup)
        signup.phone = phone
        ctx.keep(signup)
    await ctx.reply("registration.phone_saved")
