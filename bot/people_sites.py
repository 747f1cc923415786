"""`frontline people add --role manager --site …`: where a person works and, for a manager or
a coordinator, which sites they look after.

    --role manager --site 一号园区 --site 二号园区   two sites (or `--site 一号园区,二号园区`)
    --role manager --site all                      every site (also: no --site at all)
    --role coordinator …                           服务协调员: a manager by rights, so role
                                                   manager with the title "coordinator"
    --role engineer --site 一号园区                 anyone else works at one site
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import sites
from storage.models import Person, Role
from storage.uow import Tx

COORDINATOR = "coordinator"
ROLES = [*(r.value for r in Role), COORDINATOR]


@dataclass(frozen=True)
class Placement:
    role: Role
    title: str
    site: str  # where they work (a manager with one site: that site)
    scope: list[str]  # a manager's sites; [] = every site


def placement(role: str, given: list[str]) -> Placement:
    """The person's role, title, site and scope from `--role` and the `--site` values; a
    ScopeError says what is wrong with the sites."""
    managing = role in (Role.MANAGER, COORDINATOR)
    scope = sites.parse(given)
    if not managing:
        if len(scope) > 1:
            raise sites.ScopeError(f"a {role} works at one site; only a manager or a "
                                   "coordinator looks after several")
        if given and not scope:
            raise sites.ScopeError(f"'all' sites is for a manager or a coordinator, not a {role}")
        return Placement(Role(role), "", scope[0] if scope else "", [])
    title = COORDINATOR if role == COORDINATOR else ""
    return Placement(Role.MANAGER, title, scope[0] if len(scope) == 1 else "", scope)


async def unheard_of(tx: Tx, named: list[str]) -> list[str]:
    """The sites of `named` that nobody and nothing is at yet (a typo, or a new site)."""
    known = {sites.key(s) for s in await sites.known(tx)}
    return [s for s in named if sites.key(s) not in known]


def shown_role(person: Person) -> str:
    return person.title or person.role


def shown_sites(person: Person) -> str:
    """A manager's sites ("all sites" when every one); anyone else's one site."""
    if person.role == Role.MANAGER:
        return ",".join(person.scope) if person.scope else "all sites"
    return person.site or "-"
