"""The engineer's work buttons: other flows show them (after accepting, a reopen, a note), so
they live apart from the handlers that answer them."""

from __future__ import annotations

from enum import StrEnum

from handlers.core import tokens
from handlers.core.context import Rows
from storage.models import Progress, Ticket


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


# where the work may go next from where it stands: never back (on site → on the way)
NEXT_STEPS: dict[str, tuple[Action, ...]] = {
    "": (Action.REMOTE, Action.ON_THE_WAY, Action.ON_SITE),
    Progress.REMOTE: (Action.ON_THE_WAY, Action.ON_SITE),
    Progress.ON_THE_WAY: (Action.ON_SITE,),
    Progress.ON_SITE: (),
}
LABELS = {Action.REMOTE: "button.remote", Action.ON_THE_WAY: "button.on_the_way",
          Action.ON_SITE: "button.on_site"}


def next_steps(ticket: Ticket) -> tuple[Action, ...]:
    return NEXT_STEPS.get(ticket.progress or "", ())


def work_buttons(ticket: Ticket) -> Rows:
    """The buttons that fit where the job stands: the next progress steps, then 已解决,
    询问报修人, 需要专家, 改优先级, 改分类."""
    def t(action: Action) -> str:
        return tokens.ticket(ticket.id, action)

    steps = [(LABELS[a], t(a)) for a in next_steps(ticket)]
    return [
        *([steps[:2], steps[2:]] if len(steps) > 2 else [steps] if steps else []),
        [("button.resolved", t(Action.RESOLVED)), ("button.ask_reporter", t(Action.ASK_REPORTER))],
        [("button.expert", t(Action.EXPERT)), ("button.priority", t(Action.PRIORITY)),
         ("button.category", t(Action.CATEGORY))],
    ]
