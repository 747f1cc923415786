"""Registration: an unknown person writing is offered to register as a reporter.

Orchard staff are many, so they register themselves (name, then site); engineers and
managers are added by an admin (`frontline people add`). A fault described before
registering is kept and becomes the first report right after.
"""

from __future__ import annotations

from handlers import intake
from handlers.context import Ctx
from handlers.states import State
from storage import people
from storage.models import Role

MAX_NAME = 50
MAX_SITE = 100


async def begin(ctx: Ctx, pending: str = "") -> None:
    data = {"pending": pending[: ctx.config.max_message_chars]} if pending else {}
    ctx.set_state(State.REG_NAME, **data)
    await ctx.reply("registration.welcome")


async def on_text(ctx: Ctx, text: str) -> None:
    if ctx.state is State.REG_NAME:
        await _name(ctx, text.strip())
    elif ctx.state is State.REG_SITE:
        await _site(ctx, text.strip())
    else:
        await begin(ctx, pending=text.strip())


async def _name(ctx: Ctx, name: str) -> None:
    assert ctx.conv is not None
    if not name or len(name) > MAX_NAME or name.startswith("/"):
        await ctx.reply("registration.bad_name", limit=MAX_NAME)
        return
    ctx.set_state(State.REG_SITE, **ctx.conv.data, name=name)
    await ctx.reply("registration.ask_site", name=name)


async def _site(ctx: Ctx, site: str) -> None:
    assert ctx.conv is not None and ctx.incoming is not None
    if not site or len(site) > MAX_SITE:
        await ctx.reply("registration.bad_site", limit=MAX_SITE)
        return
    inc, data = ctx.incoming, dict(ctx.conv.data)
    person = await people.add_person(
        ctx.tx, name=data["name"], role=Role.REPORTER, site=site, now=ctx.now,
        phone=str(data.get("phone", "")), language=ctx.lang,
    )
    ident = await people.link_identity(ctx.tx, person, inc.channel, inc.user_id, inc.chat_id)
    ident.last_seen = ctx.now
    ctx.person = person
    ctx.set_state(State.IDLE)
    await ctx.reply("registration.done", name=person.name, site=site)
    if data.get("pending"):
        await intake.start(ctx, data["pending"])


async def keep_phone(ctx: Ctx, phone: str) -> None:
    if ctx.person is not None:
        ctx.person.phone = phone[:40]
        ctx.tx.add(ctx.person)
    elif ctx.conv is not None:
        ctx.update_data(phone=phone[:40])
    await ctx.reply("registration.phone_saved")
