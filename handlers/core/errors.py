"""What can go wrong inside a handler step, typed; the dispatcher turns each into a polite reply.

    DeskError                 base: carries the catalog key of the reply and its fields
    ├── NotAllowed            the person's role or relation to the ticket does not permit it
    ├── StaleAction           the ticket or dialogue moved on since the button was sent
    ├── BadButton             a button token we never issued (forged or mangled)
    └── IllegalTransition     the ticket state machine refused a move (a bug or a race)
"""

from __future__ import annotations

from typing import Any


class DeskError(Exception):
    text_key = "error.generic"

    def __init__(self, text_key: str | None = None, *, reset: bool = False, cost: float = 0,
                 **fields: Any) -> None:
        super().__init__(text_key or self.text_key)
        if text_key:
            self.text_key = text_key
        self.fields = fields
        self.reset = reset  # also end the dialogue step the person was in
        self.cost = cost  # counted as this many more messages by flood control (guessing)


class NotAllowed(DeskError):
    text_key = "error.not_allowed"


class StaleAction(DeskError):
    text_key = "error.stale"


class BadButton(DeskError):
    text_key = "error.bad_button"


class IllegalTransition(DeskError):
    text_key = "error.stale"
