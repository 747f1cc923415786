"""The ticket life as one transition table (flows/jobs/status.py `move` applies it).

    new ──► paged ──► acknowledged ──► in_progress ──► resolved ──► closed
     │        │            │              │  ▲            │
     │        │            │              ▼  │            ▼
     │        │            │      waiting_for_reporter   reopened ──► in_progress / resolved
     └────────┴────────────┴──► cancelled
"""

from __future__ import annotations

from storage.models import TicketStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.PAGED, S.ACKNOWLEDGED, S.CANCELLED}),
    S.PAGED: frozenset({S.PAGED, S.ACKNOWLEDGED, S.CANCELLED}),
    S.ACKNOWLEDGED: frozenset(
        {S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.PAGED, S.CANCELLED}
    ),
    S.IN_PROGRESS: frozenset({S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.CANCELLED}),
    S.WAITING_FOR_REPORTER: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.RESOLVED, S.CANCELLED}),
    S.CLOSED: frozenset({S.REOPENED}),  # a recurrence found at follow-up
    S.CANCELLED: frozenset(),
}

# Where the engineer may act (progress, resolve) once the job is theirs.
WORKING = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.WAITING_FOR_REPORTER, S.REOPENED})
OPEN = frozenset(set(S) - {S.CLOSED, S.CANCELLED, S.RESOLVED})


def can_move(current: S | str, target: S | str) -> bool:
    return S(target) in TRANSITIONS[S(current)]

