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
    if n and ticket.location:
        return lazy("attach.photos_location", n=n)
    if n:
        return lazy("attach.photos", n=n)
    return lazy("attach.location") if ticket.location else lazy("attach.none")


def attachment_files(ticket: Ticket) -> tuple[FileRef, ...]:
    return tuple(FileRef(a.get("key", ""), a.get("name", ""),
                         a.get("mime", "application/octet-stream"), int(a.get("size", 0)))
                 for a in ticket.attachments or [] if a.get("key"))


def summary_fields(ctx: Ctx, ticket: Ticket) -> dict[str, Any]:
    window = ctx.config.sla.window(ticket.priority)
    return {
        "number": number(ticket),
        "priority": lazy(f"priority.{ticket.priority}"),
        "promise": promise(window),
        "response_due": ticket.response_due,
        "resolve_due": ticket.resolve_due,
        "onsite_due": ticket.onsite_due or "-",
        "status": lazy(f"status.{ticket.status}"),
        "description": ticket.description,
        "site": ticket.site or "-",
        "category": lazy(f"category.{ticket.category}"),
    }


async def tell_managers(ctx: Ctx, text_key: str, ticket: Ticket, **fields: Any) -> None:
    reporter = await ctx.tx.get(Person, ticket.reporter_id)
    merged = {**summary_fields(ctx, ticket), "reporter": reporter.name if reporter else "-",
              **fields}
    for manager in await people.people_with_roles(ctx.tx, (Role.MANAGER,)):
        await ctx.notify(manager, text_key, **merged)


async def tell(ctx: Ctx, person_id: int | None, text_key: str, **fields: Any) -> None:
    """Message one person of the job (the reporter, the assignee) if they exist."""
    person = await ctx.tx.get(Person, person_id) if person_id else None
    if person is not None:
        await ctx.notify(person, text_key, **fields)
