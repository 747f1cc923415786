"""Sites (园区) as people name them, and which of them a scope covers.

A site is free text typed by people (at registration, on an invitation, in the device
registry, on the command line), so two spellings of one site differ in width, case or spaces
("一号园区 " and "一号园区", "North Block" and "north  block"). Every comparison goes through
`key`; what is stored and shown stays as typed.

A scope is a list of sites; the empty list is every site (managers added before scopes
existed keep their reach).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import col

from storage.models import Device, Person, Ticket
from storage.uow import Tx

ALL_WORDS = frozenset({"all", "*", "全部", "所有", "全部园区", "所有园区"})
MAX_SITE = 100  # Person.site and Ticket.site are this wide
SEPARATORS = re.compile(r"[,，、;；]")


class ScopeError(ValueError):
    """A list of sites that cannot be one (the message says why, naming the part)."""


def key(site: str) -> str:
    """The form two spellings of one site share."""
    return " ".join(unicodedata.normalize("NFKC", site).split()).casefold()


def covers(scope: Iterable[str], site: str) -> bool:
    """Does this scope (empty: every site) include `site`?"""
    wanted = {key(s) for s in scope}
    return not wanted or key(site) in wanted


def named(scope: Iterable[str], site: str) -> str | None:
    """The scope's own spelling of `site`, or None when the scope does not name it."""
    return next((s for s in scope if key(s) == key(site)), None)


async def known(tx: Tx) -> list[str]:
    """Every site the desk has heard of (people, tickets, devices), one spelling each."""
    seen: dict[str, str] = {}
    for column in (Person.site, Ticket.site, Device.site):
        for site in await tx.scalars(select(col(column)).distinct()):
            if site and site.strip():
                seen.setdefault(key(site), site.strip())
    return sorted(seen.values())


def parse(values: Iterable[str]) -> list[str]:
    """Sites as typed on the command line (`--site A --site B`, `--site A,B`, `--site all`)
    → a scope ([] = every site), one spelling of each; a ScopeError says what is wrong."""
    parts = [" ".join(p.split()) for v in values for p in SEPARATORS.split(v)]
    if any(not p for p in parts):
        raise ScopeError("an empty site name (two commas, or a comma at an end?)")
    every = [p for p in parts if p.casefold() in ALL_WORDS]
    if every and len(parts) > len(every):
        raise ScopeError(f"'{every[0]}' (every site) cannot be combined with named sites")
    out: dict[str, str] = {}
    for p in parts if not every else []:
        if len(p) > MAX_SITE:
            raise ScopeError(f"a site name longer than {MAX_SITE} characters: {p[:20]!r}…")
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in p):
            raise ScopeError(f"a site name with control or invisible characters: {p!r}")
        out.setdefault(key(p), p)
    return list(out.values())
