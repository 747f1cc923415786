"""Whatever JSON a sender posts, the parsers either hand back alarms or name what is wrong:
never another exception (which would be a 500)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.alerts import alertmanager, generic
from bot.alerts.fields import PayloadError
from handlers.core.messages import SEVERITIES

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
times = st.text() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(
    ["2026-11-23T08:00:00Z", "2026-11-23T08:00:00.123456789+08:00", "2026-11-23T08:00:00",
     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"])
near_alert = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["firing", "resolved"]) | scalars,
    "labels": st.dictionaries(st.sampled_from(["alertname", "device", "severity", "site"])
                              | st.text(max_size=5), st.text() | scalars, max_size=5)
    | json_values,
    "annotations": st.dictionaries(st.sampled_from(["summary", "description"]), st.text())
    | json_values,
    "startsAt": times, "endsAt": times, "fingerprint": scalars,
    "generatorURL": st.text(),
})
near_generic = st.fixed_dictionaries({}, optional={
    "device": scalars, "type": st.sampled_from(["heartbeat", "offline"]) | scalars,
    "severity": st.sampled_from([*SEVERITIES, "HIGH"]) | scalars,
    "status": st.sampled_from(["firing", "cleared", "ACTIVE_ACK"]) | scalars,
    "time": times, "id": scalars, "message": scalars, "extra": json_values,
})


def _parses_or_names_the_field(parse: Any, payload: Any) -> None:
    try:
        items = parse(payload)
    except PayloadError as exc:
        assert ":" in str(exc)  # "<where>: <what>"
        return
    for item in items:
        assert item.at.tzinfo is not None and item.at.utcoffset().total_seconds() == 0
        assert 0 < len(item.event_id) <= 200
        assert item.event_id.isprintable()
        if hasattr(item, "severity"):
            assert item.severity in SEVERITIES


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({"alerts": st.lists(near_alert, max_size=3)}) | json_values)
# the last day Python can hold, at a negative offset: past it in UTC (found by this test)
@example({"alerts": [{"status": "firing", "labels": {}, "startsAt": "9999-12-31001-2300"}]})
@example({"alerts": [{"status": "firing", "startsAt": "9999-12-31T23:59:59-23:59"}]})
def test_alertmanager_payloads(payload: Any) -> None:
    _parses_or_names_the_field(alertmanager.parse, payload)


@settings(max_examples=150, deadline=None)
@given(near_generic | st.lists(near_generic, max_size=3) | json_values)
@example({"device": "gw-01", "type": "offline", "status": "firing",
          "time": "9999-12-31T23:59:59-23:59"})
def test_generic_payloads(payload: Any) -> None:
    _parses_or_names_the_field(lambda p: generic.parse(p, NOW), payload)
