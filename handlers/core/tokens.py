"""Button tokens: short, opaque, checked again on every press.

    t:<ticket id>:<action>     an action on a ticket (accept, progress, confirm, survey …)
    i:<nonce>:<action>         a choice inside one dialogue (a report, a complaint)
    d:<draft id>:<action>      a manager's decision on a knowledge-base draft
    k:<complaint id>:<action>  a manager's handling of a complaint

The nonce ties an intake button to the report it was shown for, so a button from an old,
finished report is recognised as stale instead of acting on the current one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.errors import BadButton
from handlers.faults import CATEGORIES

MAX_TOKEN_BYTES = 64  # Telegram's callback_data limit
_TOKEN = re.compile(r"^(?P<kind>[tidk]):(?P<ref>[0-9a-z]{1,12}):(?P<action>[a-z0-9_]{1,20})$")

TICKET_ACTIONS = frozenset(
    {"ack", "decline", "remote", "way", "site", "done", "ok", "notok", "wait", "expert", "prio",
     "cat", "take", "urge", "p1", "p2", "p3", "p4", "fu_ok", "fu_again", "skip", "draft"}
    | {f"s{i}" for i in range(1, 6)}
    | {f"ft{i}" for i in range(1, 6)}
    | {f"c_{c}" for c in CATEGORIES}
)
INTAKE_ACTIONS = frozenset(
    {"kb_ok", "kb_no", "submit", "cancel", "new"}
    | {f"imp_{x}" for x in ("whole", "area", "single", "question")}
)
_ADD = re.compile(r"^(add|cmp)_[0-9]{1,10}$")  # add the text to / complain about ticket N
OTHER_ACTIONS = {"d": frozenset({"ok", "no", "edit"}), "k": frozenset({"ack", "done"})}


@dataclass(frozen=True)
class Token:
    kind: str
    ref: str
    action: str

    @property
    def ticket_id(self) -> int:
        return int(self.ref)


def ticket(ticket_id: int, action: str) -> str:
    return f"t:{ticket_id}:{action}"


def intake(nonce: str, action: str) -> str:
    return f"i:{nonce}:{action}"


def parse(data: str) -> Token:
    if len(data.encode()) > MAX_TOKEN_BYTES:
        raise BadButton()
    m = _TOKEN.match(data)
    if m is None:
        raise BadButton()
    token = Token(m["kind"], m["ref"], m["action"])
    allowed = {"t": TICKET_ACTIONS, "i": INTAKE_ACTIONS, **OTHER_ACTIONS}[token.kind]
    known = token.action in allowed or (token.kind == "i" and _ADD.match(token.action))
    if not known or (token.kind != "i" and not token.ref.isdigit()):
        raise BadButton()
    return token
