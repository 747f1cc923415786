"""Pure rules: the transition table, triage, SLA policy, button tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers import flows
from handlers.core import tokens
from handlers.core.errors import BadButton
from handlers.flows.intake import report
from handlers.flows.jobs import paging
from handlers.rules import lifecycle, triage
from handlers.rules.sla import SlaPolicy
from handlers.rules.triage import Impact
from storage.models import TicketStatus as S


def test_the_transition_table_refuses_illegal_moves():
    assert lifecycle.can_move(S.PAGED, S.ACKNOWLEDGED)
    assert not lifecycle.can_move(S.CLOSED, S.IN_PROGRESS)
    assert not lifecycle.can_move(S.CANCELLED, S.NEW)
    assert not lifecycle.can_move(S.NEW, S.RESOLVED)


def test_every_status_has_a_row_in_the_table():
    assert set(lifecycle.TRANSITIONS) == set(S)


@pytest.mark.parametrize(("impact", "text", "expected"), [
    (Impact.WHOLE, "平台打不开", "P1"),
    (Impact.AREA, "东区传感器没数据", "P2"),
    (Impact.AREA, "东区全部停了", "P1"),
    (Impact.SINGLE, "一个阀门不出水", "P3"),
    (Impact.SINGLE, "水泵漏水", "P2"),
    (Impact.SINGLE, "控制箱冒烟", "P1"),
    (Impact.QUESTION, "怎么导出数据", "P4"),
    (Impact.QUESTION, "急，怎么导出", "P4"),
    (Impact.SINGLE, "不急，有空来看看3号地块电磁阀", "P3"),
    (Impact.SINGLE, "不着急，水泵有点漏水", "P3"),
    (Impact.SINGLE, "no rush, the valve leaks a little", "P3"),
    (Impact.SINGLE, "不急，但控制箱冒烟了", "P1"),  # safety words still decide
])
def test_triage_follows_the_documented_matrix(impact, text, expected):
    assert triage.priority(impact, text) == expected


def test_the_default_policy_is_the_service_plans_table():
    policy = SlaPolicy.default()
    hours = {p: (w.response_hours, w.resolve_hours) for p, w in policy.windows.items()}
    assert hours == {"P1": (2, 4), "P2": (4, 8), "P3": (8, 24), "P4": (24, 48)}
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert policy.resolve_due("P1", start) == start + timedelta(hours=4)


def test_a_policy_missing_a_priority_is_refused():
    with pytest.raises(ValueError, match="P4"):
        SlaPolicy.from_toml("[priority.P1]\nresponse_hours=1\nresolve_hours=2\n"
                            "[priority.P2]\nresponse_hours=1\nresolve_hours=2\n"
                            "[priority.P3]\nresponse_hours=1\nresolve_hours=2\n")


def test_button_tokens_round_trip_and_fit_telegrams_limit():
    token = tokens.parse(tokens.ticket(123456, paging.Action.ACCEPT))
    assert (token.scope, token.ticket_id, token.action, token.arg) == ("t", 123456, "ack", "")
    longest = tokens.dialogue("abcdef", report.Action.IMPACT, "question")
    assert tokens.parse(longest).arg == "question" and len(longest.encode()) <= 64


@pytest.mark.parametrize("data", ["", "t:1", "t:1:rm -rf", "t:-1:ack", "t:1:ack:a:b",
                                  "t:1:" + "a" * 80])
def test_malformed_tokens_are_refused(data):
    with pytest.raises(BadButton):
        tokens.parse(data)


@pytest.mark.parametrize("data", ["q:1:ack", "i:1:ack", "t:1:explode", "t:1:score:9",
                                  "t:1:setprio:P5", "t:1:ack:1", "t:1:s9", "k:1:ok"])
def test_tokens_no_flow_issued_find_no_route(data):
    token = tokens.parse(data)
    assert flows.routes().button(token.scope, token.action, token.arg) is None


@pytest.mark.parametrize(("old", "action", "arg"), [
    ("t:1:s5", "score", "5"), ("t:1:p2", "setprio", "P2"), ("t:1:c_valve", "setcat", "valve"),
    ("t:1:ft3", "ftype", "3"), ("i:ab12cd:imp_whole", "impact", "whole"),
    ("i:ab12cd:add_12", "add", "12"), ("i:ab12cd:cmp_0", "about", "0"), ("t:1:ack", "ack", ""),
])
def test_buttons_sent_before_tokens_had_arguments_still_find_their_route(old, action, arg):
    token = tokens.parse(old)
    route, found = flows.routes().button(token.scope, token.action, token.arg)
    assert (route.action, found) == (action, arg)
