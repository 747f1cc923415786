"""The engineer's work buttons: other flows show them (after accepting, a reopen, a note), so
they live apart from the handlers that answer them."""

from __future__ import annotations

from enum import StrEnum

from handlers.core import tokens
from handlers.core.context import Rows


class Action(StrEnum):
    """Button actions of the engineer's work flow (stored in sent buttons: never rename)."""

    REMOTE = "remote"
    ON_THE_WAY = "way"
    ON_SITE = "site"
    RESOLVED = "done"
    ASK_REPORTER = "wait"
    EXPERT = "expert"
    PRIORITY = "prio"  # offers the priorities …
    SET_PRIORITY = "setprio"  # … one of which is chosen (arg P1–P4)
    CATEGORY = "cat"
    SET_CATEGORY = "setcat"  # arg: the category
    FAULT_TYPE = "ftype"  # arg: 1–5, the service plan's diagnosis order


def work_buttons(ticket_id: int | None) -> Rows:
    def t(action: Action) -> str:
        return tokens.ticket(ticket_id, action)

    return [
        [("button.remote", t(Action.REMOTE)), ("button.on_the_way", t(Action.ON_THE_WAY))],
        [("button.on_site", t(Action.ON_SITE)), ("button.resolved", t(Action.RESOLVED))],
        [("button.ask_reporter", t(Action.ASK_REPORTER)), ("button.expert", t(Action.EXPERT))],
        [("button.priority", t(Action.PRIORITY)), ("button.category", t(Action.CATEGORY))],
    ]
