"""Which sites a manager's board and reports cover: their scope by default, one site or all
on request, and whether a manager may act on a record of some site.

A scope is the list `Person.scope` (empty: every site); only managers (coordinators too,
they are managers by role) have one that counts. Engineers, experts and admins see every site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from handlers.core.context import Ctx
from handlers.core.errors import DeskError, NotAllowed
from storage import people, sites
from storage.models import Person, Role, Ticket
from storage.uow import Tx

ALL_WORDS = sites.ALL_WORDS
MAX_SHOWN = 40  # what a person typed is quoted back at most this long


def scope_of(person: Person | None) -> tuple[str, ...]:
    """The sites this person is limited to; () = every site."""
    if person is None or person.role != Role.MANAGER:
        return ()
    return tuple(person.scope or ())


def listing(names: Iterable[str]) -> Callable[[str], str]:
    """Sites as one field, joined the way each reader's language joins a list."""
    shown = list(names)
    return lambda lang: ("、" if lang == "zh" else ", ").join(shown) or "-"


def quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


async def chosen(ctx: Ctx, arg: str) -> tuple[str, ...]:
    """The sites `/open ARG` or `/report … ARG` covers (() = every site); see `pick`."""
    mine, text = scope_of(ctx.person), " ".join(arg.split())
    needs_known = text and not mine and text.casefold() not in ALL_WORDS
    return pick(mine, await sites.known(ctx.tx) if needs_known else [], text)


async def names_a_site(ctx: Ctx, text: str) -> bool:
    """Is `text` `all`, one of the person's sites or a site the desk knows?"""
    text = " ".join(text.split())
    return text.casefold() in ALL_WORDS or any(
        sites.named(names, text) for names in (scope_of(ctx.person), await sites.known(ctx.tx)))


def pick(mine: tuple[str, ...], known: list[str], text: str) -> tuple[str, ...]:
    """What a person with scope `mine` asked for (() = every site): nothing → their own sites;
    `all` → every site, for those who have every site; a site → that one, if it is theirs (a
    scoped manager) or among the `known` ones (anyone else). Otherwise a DeskError whose reply
    names the sites that would work (NotAllowed: a site that is not theirs)."""
    text = " ".join(text.split())
    if not text:
        return mine
    if text.casefold() in ALL_WORDS:
        if mine:
            raise NotAllowed("sites.only_yours", sites=listing(mine))
        return ()
    if mine:
        own = sites.named(mine, text)
        if own is None:
            raise NotAllowed("sites.not_yours", site=quoted(text), sites=listing(mine))
        return (own,)
    found = sites.named(known, text)
    if found is None:
        raise DeskError("sites.unknown", site=quoted(text), sites=listing(known))
    return (found,)


async def reaches(tx: Tx, person: Person, site: str) -> bool:
    """Do a ticket's notices at `site` go to this person (see `people.managers_for`)?"""
    if not scope_of(person):
        return True
    return any(m.id == person.id for m in await people.managers_for(tx, site))


def only(rows: list[Ticket], chosen_sites: tuple[str, ...]) -> list[Ticket]:
    """The tickets at these sites (() = all of them)."""
    return [t for t in rows if sites.covers(chosen_sites, t.site)]


async def visible(tx: Tx, person: Person | None, rows: list[Ticket]) -> list[Ticket]:
    """The tickets whose notices reach this person: a manager's own sites, and sites no
    manager has (their notices go to every manager); everything for the rest."""
    if person is None or not scope_of(person):
        return rows
    return [t for t in rows if await reaches(tx, person, t.site)]


def heading(ctx: Ctx, lang: str, chosen_sites: tuple[str, ...]) -> str:
    """"园区：一号园区" (a line) above a board or a report limited to some sites; "" for every
    site."""
    if not chosen_sites:
        return ""
    return ctx.t("sites.heading", lang, sites=listing(chosen_sites)) + "\n"
