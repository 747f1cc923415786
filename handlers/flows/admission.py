"""Who may open tickets: invitations and managers' approvals.

A stranger proves they belong to the orchard with an invitation (a code a manager makes for
one site: `/invite 一号园区` in chat or `frontline people invite`), or a manager approves them
with one tap. Until then they are registered but not approved: the knowledge base answers
them, tickets and complaints wait. People from a company directory (WeCom, see
`DeskConfig.directory_channels`) are trusted as before.

Codes are random (`secrets`), for one site, expire, and have a number of uses; only their
SHA-256 is stored. A wrong code is refused clearly and costs the sender extra flood-control
tokens, so guessing is slow.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from handlers.core import tokens
from handlers.core.context import Ctx, Rows
from handlers.core.errors import DeskError, StaleAction
from handlers.core.inputs import name_key, one_line
from handlers.core.router import Router
from handlers.core.texts import lazy
from handlers.flows.jobs.summary import MANAGERS, STAFF
from storage import admission, people
from storage.models import Approval, ApprovalState, Invitation, Person
from storage.uow import Tx

router = Router("admission")
SCOPE = "a"  # a manager's buttons on a registration: a:<person id>:<action>
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by hand
CODE_LENGTH = 10  # 31¹⁰ ≈ 8·10¹⁴ codes
DEFAULT_USES, MAX_USES = 10, 500
DEFAULT_DAYS, MAX_DAYS = 7, 90
MAX_SITE = 100
WRONG_CODE_COST = 10  # a wrong code counts as this many more messages (flood control)


class Action(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"


# --- codes ------------------------------------------------------------------------------
def new_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code):  # so that no name is ever taken for a code
            return code


def shown(code: str) -> str:
    """ABCDE-FGH23: easier to read out; typed with or without the dash."""
    return f"{code[:5]}-{code[5:]}"


def as_code(text: str) -> str | None:
    """The invitation code this text is (spaces, dashes, case and full-width forms aside),
    or None when it does not look like one."""
    squeezed = "".join(unicodedata.normalize("NFKC", text).split()).replace("-", "").upper()
    if len(squeezed) != CODE_LENGTH or not all(c in ALPHABET for c in squeezed):
        return None
    return squeezed if any(c.isdigit() for c in squeezed) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def invite(tx: Tx, now: datetime, site: str, *, uses: int = DEFAULT_USES,
                 days: int = DEFAULT_DAYS, by: int | None = None) -> tuple[str, Invitation]:
    """A new invitation for one site (`/invite`, `frontline people invite`); the code is
    returned once and never stored."""
    code = new_code()
    made = await admission.add_invitation(
        tx, code_hash=code_hash(code), site=site, uses=uses,
        expires_at=now + timedelta(days=days), created_by=by, now=now,
    )
    return code, made


def valid_invitation(site: str, uses: int, days: int) -> str | None:
    """The site as it is kept, when site, uses and days are acceptable; None otherwise."""
    kept = one_line(site) or ""
    if not kept or len(kept) > MAX_SITE or not 1 <= uses <= MAX_USES \
            or not 1 <= days <= MAX_DAYS:
        return None
    return kept


async def usable(ctx: Ctx, code: str) -> Invitation:
    """The invitation behind a typed code; a clear refusal (that costs) when there is none."""
    found = await admission.usable_invitation(ctx.tx, code_hash(code), ctx.now)
    if found is None:
        raise DeskError("registration.bad_code", cost=WRONG_CODE_COST)
    return found


async def use(ctx: Ctx, invitation_id: int) -> bool:
    return await admission.use_invitation(ctx.tx, invitation_id, ctx.now)


# --- names ------------------------------------------------------------------------------
async def staff_namesake(ctx: Ctx, name: str) -> bool:
    """Whether a name copies a staff member's (陈经理, 张 工, ＺＨＡＮＧ): compared without
    spaces, case or full-width forms."""
    key = name_key(name)
    staff = [p.name for p in await people.people_with_roles(ctx.tx, STAFF)]
    return any(key == name_key(n) for n in (*staff, ctx.config.service_manager) if n)


# --- approval ---------------------------------------------------------------------------
def approval_rows(person: Person) -> Rows:
    def a(action: Action) -> str:
        return tokens.encode(SCOPE, person.id or 0, action)

    return [[("button.approve_person", a(Action.APPROVE)),
             ("button.refuse_person", a(Action.REFUSE))]]


async def request(ctx: Ctx, person: Person, *, namesake: bool) -> None:
    """A stranger registered without an invitation: the managers decide with one tap."""
    ctx.tx.add(Approval(person_id=person.id or 0, requested_at=ctx.now))
    await _ask_managers(ctx, person, "registration.to_managers", namesake=namesake)


async def _ask_managers(ctx: Ctx, person: Person, key: str, *, namesake: bool = False) -> None:
    channel = ctx.incoming.channel if ctx.incoming else "-"
    warning = lazy("registration.namesake_warning") if namesake else ""
    for manager in await people.people_with_roles(ctx.tx, MANAGERS):
        await ctx.notify(manager, key, approval_rows(person), name=person.name,
                         site=person.site or "-", channel=channel, warning=warning)


async def tell_namesake(ctx: Ctx, person: Person) -> None:
    """An invited (or directory) reporter took a staff member's name: managers should know."""
    for manager in await people.people_with_roles(ctx.tx, MANAGERS):
        await ctx.notify(manager, "registration.namesake_notice", name=person.name,
                         site=person.site or "-")


async def admitted(ctx: Ctx) -> bool:
    """Whether the person writing may open tickets. If not, they are told why, and the
    managers are reminded of a waiting registration (once)."""
    me = ctx.person
    if me is None:
        return False
    if me.approved:
        return True
    approval = await admission.approval_of(ctx.tx, me.id or 0, lock=True)
    if approval is not None and approval.state == ApprovalState.REFUSED:
        await ctx.reply("registration.refused_note")
        return False
    await ctx.reply("registration.awaiting")
    if approval is not None and approval.reminded_at is None:
        approval.reminded_at = ctx.now
        ctx.tx.add(approval)
        await _ask_managers(ctx, me, "registration.remind_managers")
    return False


async def redeem(ctx: Ctx, person: Person, code: str) -> None:
    """A registered but unapproved person sends an invitation code: approved for its site."""
    invitation = await usable(ctx, code)
    if not await use(ctx, invitation.id or 0):
        raise DeskError("registration.bad_code", cost=WRONG_CODE_COST)
    person.approved, person.active, person.site = True, True, invitation.site
    ctx.tx.add(person)
    approval = await admission.approval_of(ctx.tx, person.id or 0, lock=True)
    if approval is not None and approval.state == ApprovalState.PENDING:
        approval.state, approval.decided_at = str(ApprovalState.APPROVED), ctx.now
        ctx.tx.add(approval)
    await ctx.reply("registration.code_approved", site=invitation.site)


@router.idle_text
async def code_typed(ctx: Ctx, text: str) -> bool:
    """An unapproved person types an invitation code (instead of /start CODE)."""
    if ctx.person is None or ctx.person.approved:
        return False
    code = as_code(text)
    if code is None:
        return False
    await redeem(ctx, ctx.person, code)
    return True


async def _undecided(ctx: Ctx, person_id: int) -> tuple[Person, Approval]:
    person = await ctx.tx.get(Person, person_id)
    approval = await admission.approval_of(ctx.tx, person_id, lock=True)
    if person is None or approval is None:
        raise StaleAction("registration.decided", name="-")
    if approval.state != ApprovalState.PENDING or person.approved:
        raise StaleAction("registration.decided", name=person.name)
    return person, approval


@router.record_button(SCOPE, Action.APPROVE, roles=MANAGERS)
async def approve(ctx: Ctx, person_id: int, arg: str) -> None:
    person, approval = await _undecided(ctx, person_id)
    assert ctx.person is not None
    person.approved, person.active = True, True
    approval.state, approval.decided_at = str(ApprovalState.APPROVED), ctx.now
    approval.decided_by = ctx.person.id
    ctx.tx.add(person)
    ctx.tx.add(approval)
    await ctx.reply("registration.approved_manager", name=person.name, site=person.site or "-")
    await ctx.notify(person, "registration.approved")


@router.record_button(SCOPE, Action.REFUSE, roles=MANAGERS)
async def refuse(ctx: Ctx, person_id: int, arg: str) -> None:
    person, approval = await _undecided(ctx, person_id)
    assert ctx.person is not None
    person.active = False
    approval.state, approval.decided_at = str(ApprovalState.REFUSED), ctx.now
    approval.decided_by = ctx.person.id
    ctx.tx.add(person)
    ctx.tx.add(approval)
    await ctx.reply("registration.refused_manager", name=person.name)
    await ctx.notify(person, "registration.refused")


# --- /invite ----------------------------------------------------------------------------
def parse_invite(arg: str) -> tuple[str, int, int] | None:
    """'一号园区 [uses] [days]' → (site, uses, days); None when it is not that."""
    words = arg.split()
    numbers: list[int] = []
    while words and words[-1].isdigit() and len(numbers) < 2 and len(words) > 1:
        numbers.insert(0, int(words.pop()))
    uses, days = (numbers + [DEFAULT_USES, DEFAULT_DAYS][len(numbers):])[:2]
    site = valid_invitation(" ".join(words), uses, days)
    return None if site is None else (site, uses, days)


@router.command("invite", roles=MANAGERS)
async def invite_command(ctx: Ctx, arg: str) -> None:
    """/invite 一号园区 [uses] [days]: a code (and, on Telegram, a link) for that site."""
    parsed = parse_invite(arg)
    if parsed is None:
        await ctx.reply("registration.invite_usage", uses=DEFAULT_USES, days=DEFAULT_DAYS)
        return
    site, uses, days = parsed
    code, made = await invite(ctx.tx, ctx.now, site, uses=uses, days=days,
                              by=ctx.person.id if ctx.person else None)
    link = ctx.incoming.bot_link if ctx.incoming else ""
    fields: dict[str, Any] = {"code": shown(code), "site": site, "uses": uses,
                              "expires": made.expires_at}
    # only the code's hash is stored; the outbox's copy of this reply is masked once sent
    secrets = (shown(code), code)
    if link:
        await ctx.reply("registration.invite_link", link=f"{link}?start={code}",
                        secrets=secrets, **fields)
    else:
        await ctx.reply("registration.invite", secrets=secrets, **fields)
