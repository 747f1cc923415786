"""Button tokens: short, opaque, checked again on every press.

    <scope>:<ref>:<action>[:<arg>]

    t:<ticket id>:<action>     an action on a ticket (accept, progress, confirm, survey …)
    i:<nonce>:<action>         a choice inside one dialogue (a report, a complaint)
    <letter>:<record id>:…     an action on a flow's own record (d = knowledge draft,
                               k = complaint)

The actions are enums owned by the flows; this module only encodes and splits. The nonce ties
a dialogue button to the dialogue it was shown for, so a button from an old, finished report
is recognised as stale instead of acting on the current one. Tokens issued before actions
took an argument (`t:1:s5`, `i:ab12cd:imp_whole`) are understood by the routes' `legacy`
patterns, so buttons already sent keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from handlers.core.errors import BadButton

MAX_TOKEN_BYTES = 64  # Telegram's callback_data limit
MAX_ID = 2**31 - 1  # record ids are 32-bit integers: a bigger number names nothing we issued
_TOKEN = re.compile(
    r"^(?P<scope>[a-z]):(?P<ref>[0-9a-z]{1,12}):(?P<action>[a-z0-9_]{1,20})"
    r"(?::(?P<arg>[A-Za-z0-9_]{1,20}))?$"
)


@dataclass(frozen=True)
class Token:
    scope: str
    ref: str
    action: str
    arg: str = ""

    @property
    def ticket_id(self) -> int:
        return int(self.ref)


def encode(scope: str, ref: int | str, action: StrEnum, arg: object = "") -> str:
    data = f"{scope}:{ref}:{action}" + (f":{arg}" if arg != "" else "")
    if len(data.encode()) > MAX_TOKEN_BYTES or not _TOKEN.match(data):
        raise ValueError(f"not a button token: {data!r}")
    return data


def ticket(ticket_id: int | None, action: StrEnum, arg: object = "") -> str:
    return encode("t", ticket_id or 0, action, arg)


def dialogue(nonce: str, action: StrEnum, arg: object = "") -> str:
    return encode("i", nonce, action, arg)


def parse(data: str) -> Token:
    """Split a token; `BadButton` for anything we could not have issued."""
    if len(data.encode()) > MAX_TOKEN_BYTES:
        raise BadButton()
    m = _TOKEN.match(data)
    if m is None:
        raise BadButton()
    token = Token(m["scope"], m["ref"], m["action"], m["arg"] or "")
    if token.scope != "i" and not (token.ref.isdigit() and int(token.ref) <= MAX_ID):
        raise BadButton()  # checked here, so the database is never asked for ticket 10¹²
    return token
