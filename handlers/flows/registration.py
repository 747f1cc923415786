"""Registration: an unknown person writing is offered to register as a reporter.

Orchard staff are many, so they register themselves (name, then site); engineers and
managers are added by an admin (`frontline people add`). A fault described before
registering, or in answer to the name or site question ("3号地块的电磁阀打不开" is no name), is
kept and becomes the first report right after, as if just sent: articles, questions, ticket.

Registering is not yet belonging: with an invitation code (`/start CODE`, a Telegram link, or
the code typed at the name or site question) the person may report at once, for the
invitation's site; without one a manager approves them first (handlers/flows/admission.py).
People from a company directory (WeCom) register as before. Only in a private chat: what a
person is asked and told here is theirs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from handlers.core.context import IDLE, Ctx
from handlers.core.errors import DeskError
from handlers.core.inputs import one_line, seen
from handlers.core.router import Router
from handlers.flows import admission
from handlers.flows.intake import report
from handlers.rules import faults, triage
from storage import people
from storage.models import Role

router = Router("registration")
MAX_NAME = 50
MAX_SITE = 100
MIN_KEPT_CHARS = 8  # a first message this long may be a fault in words we do not know


# Words no name holds and fault reports do ("不" or "没" alone are not enough: 不告诉你).
FAULT_WORDS = (
    "坏", "漏", "故障", "报警", "异常", "失灵", "离线", "掉线", "断电", "断网", "黑屏", "花屏",
    "打不开", "关不上", "关不掉", "不出", "不亮", "不转", "不动", "不通", "不准", "没水", "没电",
    "没反应", "没信号", "没数据", "停了", "停机", "不能用", "用不了", "不工作", "出问题", "堵",
)
EN_FAULT = re.compile(
    r"\b(not working|(does|do|is|are)\s?n[o']t|won'?t|can'?t|cannot|broken|leak\w*|offline|"
    r"stopped|fault\w*|errors?|alarms?|fail\w*|no (water|power|signal|data))\b"
)
PLACE = re.compile(r"\d+\s*(号|地块|区|排|棚|#)|地块|(plot|block|zone|field)\s*\d+")
# device words, with the triage rules' urgent and safety words; Latin ones are whole words
# and count only with a digit beside them ("Power" and "Sim" are surnames, "pump 3" is not)
DEVICE_WORDS = tuple(w for words in faults.CATEGORY_WORDS.values() for w in words)
TRIAGE_WORDS = (*triage.URGENT_WORDS, *triage.SAFETY_WORDS)


def fault_like(text: str, *, places: bool = True) -> bool:
    """Whether a reply to "your name?" (or, with places=False, "your site?") describes a
    fault instead: fault or device words, a plot number, an English fault phrase."""
    low = unicodedata.normalize("NFKC", text).lower()
    cjk = [w for w in (*FAULT_WORDS, *DEVICE_WORDS, *TRIAGE_WORDS) if not w.isascii()]
    if any(w in low for w in cjk) or EN_FAULT.search(low):
        return True
    if places and PLACE.search(low):
        return True
    latin = [w for w in (*DEVICE_WORDS, *TRIAGE_WORDS) if w.isascii()]
    named = any(re.search(rf"\b{re.escape(w.strip())}\b", low) for w in latin)
    return named and any(ch.isdigit() for ch in low)


class State(StrEnum):
    NAME = "reg_name"  # unknown person: asked for a name
    SITE = "reg_site"  # … then for the orchard site


@dataclass
class Signup:
    pending: str = ""  # a fault described before registering
    name: str = ""
    phone: str = ""
    invite: int = 0  # the invitation whose code they sent (its site is theirs)
    site: str = ""


router.cancellable(State, "command.cancel_registration")


@router.entry("join")
async def begin(ctx: Ctx) -> None:
    """Someone opened the chat, or a stranger used a command that needs a registered person."""
    if ctx.person is not None:
        await ctx.reply("command.greet", name=ctx.person.name)
        return
    await _ask_name(ctx, "")


async def _ask_name(ctx: Ctx, pending: str) -> None:
    kept = ctx.data(Signup)  # a fault said before /start or before the chat was opened stays
    fault = _joined(ctx, kept.pending, pending if _worth_keeping(pending) else "")
    ctx.set_state(State.NAME, Signup(pending=fault, phone=kept.phone))
    await ctx.reply("registration.fault.welcome" if fault else "registration.welcome")


def _worth_keeping(text: str) -> bool:
    """A first message kept as the report to come: a fault, or more words than a greeting
    ("你好", "在吗" are not reported after registering)."""
    return fault_like(text) or len(seen(text)) >= MIN_KEPT_CHARS


def _joined(ctx: Ctx, before: str, text: str) -> str:
    text = text.strip()
    joined = f"{before}\n{text}" if before and text else before or text
    return joined[: ctx.config.max_message_chars]


async def _keep_fault(ctx: Ctx, text: str, asked: str) -> None:
    """A fault given for an answer: kept for after registration, and the question asked again."""
    signup = ctx.data(Signup)
    signup.pending = _joined(ctx, signup.pending, text)
    ctx.keep(signup)
    await ctx.reply(asked)


@router.command("start")
async def start(ctx: Ctx, arg: str) -> None:
    """/start, or /start CODE (a Telegram invitation link sends that)."""
    code = admission.as_code(arg) if arg else None
    if arg and code is None:
        raise DeskError("registration.bad_code", cost=admission.WRONG_CODE_COST)
    if ctx.person is None:
        await (_ask_name(ctx, "") if code is None else _code(ctx, code))
    elif code is not None and not ctx.person.approved:
        await admission.redeem(ctx, ctx.person, code)
    else:
        await ctx.reply("command.start", name=ctx.person.name)


@router.entry("stranger")
async def on_text(ctx: Ctx) -> None:
    text = ctx.incoming.text.strip() if ctx.incoming else ""
    if ctx.state == State.NAME:
        await _name(ctx, text)
    elif ctx.state == State.SITE:
        await _site(ctx, text)
    elif (code := admission.as_code(text)) is not None:
        await _code(ctx, code)  # the invitation's code, before anything else
    else:
        await _ask_name(ctx, text)


async def _code(ctx: Ctx, code: str) -> None:
    """An invitation code at the name or site question: its site is theirs."""
    invitation = await admission.usable(ctx, code)
    signup = ctx.data(Signup)
    signup.invite, signup.site = invitation.id or 0, invitation.site
    if signup.name:
        await _register(ctx, signup)
        return
    ctx.set_state(State.NAME, signup)
    await ctx.reply("registration.code_ok", site=invitation.site)


async def _name(ctx: Ctx, text: str) -> None:
    code = admission.as_code(text)
    if code is not None:
        await _code(ctx, code)
        return
    name = one_line(text)
    if name and fault_like(name):
        await _keep_fault(ctx, name, "registration.fault.ask_name")
        return
    if not name or len(name) > MAX_NAME or name.startswith("/"):
        await ctx.reply("registration.bad_name", limit=MAX_NAME)
        return
    signup = ctx.data(Signup)
    signup.name = name
    if signup.invite:
        await _register(ctx, signup)
        return
    ctx.set_state(State.SITE, signup)
    await ctx.reply("registration.ask_site", name=name)


async def _site(ctx: Ctx, text: str) -> None:
    code = admission.as_code(text)
    if code is not None:
        await _code(ctx, code)
        return
    site = one_line(text)
    if site and fault_like(site, places=False):
        await _keep_fault(ctx, site, "registration.fault.ask_site")
        return
    if not site or len(site) > MAX_SITE:
        await ctx.reply("registration.bad_site", limit=MAX_SITE)
        return
    signup = ctx.data(Signup)
    signup.site = site
    await _register(ctx, signup)


async def _register(ctx: Ctx, signup: Signup) -> None:
    """The person is added: approved when invited or from a company directory; otherwise
    the managers are asked. A name that copies a staff member's is marked as a reporter's."""
    assert ctx.incoming is not None
    inc, name = ctx.incoming, signup.name
    namesake = await admission.staff_namesake(ctx, name)
    if namesake:
        name += ctx.t("registration.namesake_marker")
    invited = bool(signup.invite) and await admission.use(ctx, signup.invite)
    approved = invited or inc.channel in ctx.config.directory_channel_names
    person = await people.add_person(
        ctx.tx, name=name, role=Role.REPORTER, site=signup.site, now=ctx.now,
        phone=signup.phone, language=ctx.lang, approved=approved,
    )
    ident = await people.link_identity(ctx.tx, person, inc.channel, inc.user_id, inc.chat_id)
    ident.last_seen = ctx.now
    ctx.person = person
    ctx.set_state(IDLE)
    if namesake:
        await ctx.reply("registration.namesake", name=name)
    if approved:
        await ctx.reply("registration.done", name=person.name, site=person.site)
        if namesake:
            await admission.tell_namesake(ctx, person)
    else:
        await ctx.reply("registration.pending", name=person.name, site=person.site)
        await admission.request(ctx, person, namesake=namesake)
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
