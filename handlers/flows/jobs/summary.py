"""The words that describe a ticket in every message, and telling the service managers."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Ctx
from handlers.core.messages import FileRef
from handlers.core.texts import Lazy, lazy
from handlers.rules.sla import Window
from storage import people, tickets
from storage.models import Person, Role, Ticket

MANAGERS = (Role.MANAGER, Role.ADMIN)
STAFF = (Role.ENGINEER, Role.EXPERT, Role.MANAGER, Role.ADMIN)


def number(ticket: Ticket) -> str:
    return tickets.number(ticket.id or 0)


def promise(window: Window) -> Lazy:
    """What the SLA promises, in plain words: hours, or working days where the policy
    counts those, and the on-site time where it promises one."""
    resolve = lazy("sla.working_days", n=window.resolve_days) if window.resolve_days \
        else lazy("sla.hours", n=window.resolve_hours)
    response = lazy("sla.hours", n=window.response_hours)
    if window.onsite_hours is not None:
        return lazy("sla.promise_onsite", response=response, resolve=resolve,
                    onsite=lazy("sla.hours", n=window.onsite_hours))
    return lazy("sla.promise", response=response, resolve=resolve)


def attachments(ticket: Ticket) -> Lazy:
    """What the reporter sent with the report, in a few words."""
    n = len(ticket.attachments or [])
    if any(is_voice(a) for a in ticket.attachments or []):
        return lazy("voice.to_engineer", list=listing(ticket.attachments, ticket.location))
    if n and ticket.location:
        return lazy("attach.photos_location", n=n)
    if n:
        return lazy("attach.photos", n=n)
    return lazy("attach.location") if ticket.location else lazy("attach.none")


def is_voice(item: dict[str, Any]) -> bool:
    return str(item.get("mime", "")).startswith("audio/")


def voices(items: list[dict[str, Any]] | None) -> Lazy | None:
    """"1 段语音（0:42）": how many voice messages and how long altogether; None: none."""
    kept = [a for a in items or [] if is_voice(a)]
    if not kept:
        return None
    seconds = sum(max(0, int(a.get("seconds", 0) or 0)) for a in kept)
    if not seconds:  # a platform that does not say how long
        return lazy("voice.voices_untimed", n=len(kept))
    return lazy("voice.voices", n=len(kept), duration=f"{seconds // 60}:{seconds % 60:02d}")


def listing(items: list[dict[str, Any]] | None, location: object = None) -> Lazy | str:
    """"2 张照片、1 段语音（0:42）和位置"; "" when nothing was sent."""
    spoken = voices(items)
    n = len(items or []) - (sum(1 for a in items or [] if is_voice(a)))
    photos = lazy("voice.photos", n=n) if n else None
    what = lazy("voice.photos_voices", photos=photos, voices=spoken) if photos and spoken \
        else photos or spoken
    if location:
        return lazy("voice.with_location", list=what) if what else lazy("voice.location")
    return what or ""


def attached(ticket: Ticket) -> Lazy | str:
    """A /status line naming what the ticket holds ("" when nothing)."""
    what = listing(ticket.attachments, ticket.location)
    return lazy("voice.status_line", list=what) if what else ""


def attachment_files(ticket: Ticket) -> tuple[FileRef, ...]:
    return tuple(FileRef(a.get("key", ""), a.get("name", ""),
                         a.get("mime", "application/octet-stream"), int(a.get("size", 0)),
                         int(a.get("seconds", 0) or 0))
                 for a in ticket.attachments or [] if a.get("key"))


def priority_label(ctx: Ctx, level: str) -> Lazy:
    """A priority as the active SLA policy names it ("P1 重大"), in each reader's language;
    the catalog's label ("P1 紧急") where the policy has no name for it in that language."""
    policy, texts = ctx.config.sla, ctx.texts

    def shown(lang: str) -> str:
        name = policy.label(level, lang)
        return texts(lang, "priority_named.label", level=level, name=name) if name \
            else texts(lang, f"priority.{level}")

    return lazy("priority_named.shown", label=shown)


def summary_fields(ctx: Ctx, ticket: Ticket) -> dict[str, Any]:
    window = ctx.config.sla.window(ticket.priority)
    return {
        "number": number(ticket),
        "priority": priority_label(ctx, ticket.priority),
        "promise": promise(window),
        "response_due": ticket.response_due,
        "resolve_due": ticket.resolve_due,
        "onsite_due": ticket.onsite_due or "-",
        "status": lazy(f"status.{ticket.status}"),
        "description": ticket.description,
        "site": ticket.site or "-",
        "category": lazy(f"category.{ticket.category}"),
        "attached": attached(ticket),
    }


async def tell_managers(ctx: Ctx, text_key: str, ticket: Ticket, **fields: Any) -> None:
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    merged = {**summary_fields(ctx, ticket), "reporter": reporter.name if reporter else "-",
              **fields}
    for manager in await people.managers_for(ctx.tx, ticket.site):
        await ctx.notify(manager, text_key, **merged)


async def tell(ctx: Ctx, person_id: int | None, text_key: str, **fields: Any) -> None:
    """Message one person of the job (the reporter, the assignee) if they exist."""
    person = await ctx.tx.get(Person, person_id) if person_id else None
    if person is not None:
        await ctx.notify(person, text_key, **fields)
