"""Named conversation states (stored as text); docs/flows/ draws them."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    IDLE = "idle"
    REG_NAME = "reg_name"  # unknown person: asked for a name
    REG_SITE = "reg_site"  # … then for the orchard site
    INTAKE_KB = "intake_kb"  # articles shown: solved, or report it?
    INTAKE_IMPACT = "intake_impact"  # asked how much is affected
    INTAKE_CONFIRM = "intake_confirm"  # summary shown: submit or cancel
    ENG_FAULT_TYPE = "eng_fault_type"  # engineer resolving: which of the five fault types
    ENG_CAUSE = "eng_cause"  # … what caused it
    ENG_FIX = "eng_fix"  # … what was done
    ENG_QUESTION = "eng_question"  # engineer typing a question for the reporter
    INTAKE_CHOICE = "intake_choice"  # reporter with open tickets: add to one, or a new fault?
    ENG_PREVENTION = "eng_prevention"  # … how to keep it from happening again
    MGR_DRAFT_EDIT = "mgr_draft_edit"  # manager typing new steps for a knowledge draft
    COMPLAINT_ABOUT = "complaint_about"  # which ticket (or the service) a complaint is about
    COMPLAINT_TEXT = "complaint_text"  # … and what it says
    MGR_COMPLAINT = "mgr_complaint"  # manager typing how a complaint was resolved


INTAKE_STATES = (State.INTAKE_KB, State.INTAKE_IMPACT, State.INTAKE_CONFIRM, State.INTAKE_CHOICE)
ENGINEER_STATES = (State.ENG_FAULT_TYPE, State.ENG_CAUSE, State.ENG_FIX, State.ENG_PREVENTION,
                   State.ENG_QUESTION, State.MGR_DRAFT_EDIT, State.MGR_COMPLAINT)
COMPLAINT_STATES = (State.COMPLAINT_ABOUT, State.COMPLAINT_TEXT)
REGISTRATION_STATES = (State.REG_NAME, State.REG_SITE)
