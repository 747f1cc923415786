"""`frontline people scope`: change which sites an existing manager or coordinator looks after,
or their title.

    frontline people scope 13800138000 --site 一号园区 --site 二号园区   by phone; two sites
    frontline people scope 7 --site all                                by id; every site
    frontline people scope 7 --title coordinator                       服务协调员 (same rights)
    frontline people scope id:7 …                                      when an id is also a phone

The sites are parsed and placed as `people add --role manager --site …` does
(`people_sites.placement`), so a person changed here is the person that command would have
added. Only managers have a scope: anyone else is refused, nothing written.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot import bootstrap, people_sites
from bot.settings import from_args
from handlers.core.escape import visible
from storage import sites
from storage.models import Person, Role
from storage.uow import Tx

TITLES = {"coordinator": people_sites.COORDINATOR, "manager": ""}
BY_ID = re.compile(r"(?:id:|#)\s*(\d{1,9})", re.IGNORECASE)


class Refused(Exception):
    """Why the change was not made; `code` is the exit code (1 nobody, 2 a usage error)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def add_command(people_sub: Any) -> None:
    """Register `scope` on the `frontline people` sub-command parser."""
    scope = people_sub.add_parser(
        "scope", help="change a manager's or coordinator's sites, or their title")
    scope.add_argument("person", metavar="PHONE|ID",
                       help="their phone, or their id from `people list` (id:7 to be explicit)")
    scope.add_argument("--site", action="append",
                       help="their sites: repeat it, or A,B; `all` = every site")
    scope.add_argument("--title", choices=sorted(TITLES),
                       help="coordinator (服务协调员) or manager; the rights are the same")
    # "read": the person must already be there, so no database is ever made for this
    scope.set_defaults(func=lambda args: asyncio.run(cmd_people_scope(args)), db="read")


def phone_key(phone: str) -> str:
    """A phone as digits, without China's country code: "+86 138-0013-8000" → "13800138000"."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("0086"):
        return digits[4:]
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


async def find(tx: Tx, given: str) -> Person:
    """The one active person `given` names: an id (`7`, `id:7`, `#7`) or a phone."""
    text = " ".join(given.split())
    explicit = BY_ID.fullmatch(text)
    number = explicit.group(1) if explicit else text if text.isdigit() and len(text) < 10 else ""
    phone = "" if explicit else phone_key(text)
    everyone = await tx.scalars(select(Person).where(col(Person.active))
                                .order_by(col(Person.id)))
    found = [p for p in everyone if (number and p.id == int(number))
             or (phone and p.phone and phone_key(p.phone) == phone)]
    if not found:
        raise Refused(f"no one has the id or phone {text!r}; see `frontline people list`", 1)
    if len(found) > 1:
        named = "; ".join(f"id {p.id} {p.name}" for p in found)
        raise Refused(f"{text!r} names more than one person ({named}): give `id:N`")
    return found[0]


def rescope(tx: Tx, person: Person, given: list[str] | None, title: str | None) -> None:
    """Give a manager new sites (`given`; None: keep them) and/or a title (None: keep it)."""
    if person.role != Role.MANAGER:
        raise Refused(f"{person.name} (id {person.id}) has the role {person.role}: only a "
                      "manager or a coordinator looks after sites (nothing changed)")
    new_title = person.title if title is None else TITLES[title]
    if given is not None:
        at = people_sites.placement(new_title or Role.MANAGER, given)
        # where they work stays while the new sites still include it ([A] → all: still A)
        kept = person.site if sites.covers(at.scope, person.site) else ""
        person.site, person.scope = at.site or kept, at.scope
    person.title = new_title
    tx.add(person)


async def cmd_people_scope(args: argparse.Namespace) -> int:
    if args.site is None and args.title is None:
        print("frontline people scope: say what to change: --site … (or --site all) and/or "
              "--title coordinator|manager", file=sys.stderr)
        return 2
    db = bootstrap.make_database(from_args(args))
    try:
        async with db.transaction() as tx:
            person = await find(tx, args.person)
            new = await people_sites.unheard_of(tx, sites.parse(args.site or []))
            before = _shown(person)
            rescope(tx, person, args.site, args.title)
            after = _shown(person)
            line = f"person {person.id}: {person.name} ({after})"
    except (Refused, sites.ScopeError) as exc:
        flag = "--site: " if isinstance(exc, sites.ScopeError) else ""
        print(visible(f"frontline people scope: {flag}{exc}"), file=sys.stderr)
        return exc.code if isinstance(exc, Refused) else 2
    finally:
        await db.dispose()
    print(visible(line + (" (unchanged)" if after == before else f"; was ({before})")))
    for site in new:  # allowed (a site may start with its manager), but often a typo
        print(visible(f"note: no one and nothing is at site {site!r} yet; check the spelling"),
              file=sys.stderr)
    return 0


def _shown(person: Person) -> str:
    return f"{people_sites.shown_role(person)}; {people_sites.shown_sites(person)}"
