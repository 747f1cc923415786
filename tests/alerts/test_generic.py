"""POST /alerts/generic: the small JSON for IoT platforms, one object or a list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.messages import Alarm, Heartbeat
from tests.alerts.conftest import Webhooks

PATH = "/alerts/generic"
VALVE = {"device": "valve-12", "type": "low_battery", "severity": "Major",
         "message": "Battery at 9%", "time": "2026-11-23T09:30:00+08:00",
         "site": "north-hill", "plot": "B3", "battery": 9, "firmware": "2.1.0"}


async def test_one_object_is_one_alarm(hooks: Webhooks) -> None:
    status, body = await hooks.post(PATH, VALVE)

    assert (status, body) == (200, {"accepted": 1, "duplicates": 0})
    [alarm] = hooks.desk.got
    assert alarm == Alarm(
        source="generic", event_id=alarm.event_id, device="valve-12", kind="low_battery",
        firing=True, at=datetime(2026, 11, 23, 1, 30, tzinfo=UTC), severity="major",
        summary="Battery at 9%", site="north-hill", plot="B3",
        labels=(("battery", "9"), ("firmware", "2.1.0")))
    assert alarm.event_id


async def test_a_list_is_handed_on_in_order_and_replays_are_counted(hooks: Webhooks) -> None:
    cleared = {**VALVE, "status": "cleared", "time": "2026-11-23T02:00:00Z"}

    first = await hooks.post(PATH, [VALVE, cleared])
    again = await hooks.post(PATH, [VALVE, {**VALVE, "device": "valve-13"}])

    assert first == (200, {"accepted": 2, "duplicates": 0})
    assert again == (200, {"accepted": 1, "duplicates": 1})
    got = hooks.desk.got
    assert [(a.device, getattr(a, "firing", None)) for a in got] == [
        ("valve-12", True), ("valve-12", False), ("valve-12", True), ("valve-13", True)]
    assert got[0].event_id == got[2].event_id != got[1].event_id


async def test_a_heartbeat_is_a_heartbeat(hooks: Webhooks) -> None:
    status, _ = await hooks.post(PATH, {"device": "gw-01", "type": "Heartbeat",
                                        "time": 1795400000, "id": "hb-1"})

    assert status == 200
    assert hooks.desk.got == [Heartbeat(source="generic", device="gw-01", event_id="hb-1",
                                        at=datetime.fromtimestamp(1795400000, UTC))]


@pytest.mark.parametrize(("given", "expected"), [
    (1795400000, datetime(2026, 11, 23, 2, 13, 20, tzinfo=UTC)),  # epoch seconds
    (1795400000123, datetime(2026, 11, 23, 2, 13, 20, 123000, tzinfo=UTC)),  # milliseconds
    (1795400000.5, datetime(2026, 11, 23, 2, 13, 20, 500000, tzinfo=UTC)),
    ("2026-11-23T10:13:20+08:00", datetime(2026, 11, 23, 2, 13, 20, tzinfo=UTC)),
    ("2026-11-23T02:13:20Z", datetime(2026, 11, 23, 2, 13, 20, tzinfo=UTC)),
])
async def test_times_in_epoch_seconds_milliseconds_or_iso(hooks: Webhooks, given: object,
                                                          expected: datetime) -> None:
    await hooks.post(PATH, {**VALVE, "time": given})

    assert hooks.desk.got[0].at == expected


async def test_without_a_time_it_is_now_and_defaults_apply(hooks: Webhooks) -> None:
    await hooks.post(PATH, {"device": "cam-3", "type": "offline"})

    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm)
    assert alarm.at == hooks.clock.now()
    assert (alarm.severity, alarm.firing, alarm.summary) == ("warning", True, "")


@pytest.mark.parametrize(("status", "firing"), [
    ("firing", True), ("ACTIVE", True), ("ACTIVE_UNACK", True),
    ("cleared", False), ("Resolved", False), ("CLEARED_ACK", False),
])
async def test_status_words_of_other_platforms(hooks: Webhooks, status: str,
                                               firing: bool) -> None:
    await hooks.post(PATH, {**VALVE, "status": status})

    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm) and alarm.firing is firing


async def test_control_characters_are_stripped(hooks: Webhooks) -> None:
    await hooks.post(PATH, {**VALVE, "device": "valve\x00-12\u202e", "type": "low\x1b_battery",
                            "message": "line one\r\nline\x07 two\x85", "id": "ev\n1"})

    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm)
    assert (alarm.device, alarm.kind, alarm.event_id) == ("valve-12", "low_battery", "ev1")
    assert alarm.summary == "line one\nline two"


async def test_long_ids_stay_distinct(hooks: Webhooks) -> None:
    long_id = "x" * 300
    await hooks.post(PATH, [{**VALVE, "id": long_id + "a"}, {**VALVE, "id": long_id + "b"}])

    a, b = hooks.desk.got
    assert a.event_id != b.event_id and max(len(a.event_id), len(b.event_id)) <= 200


@pytest.mark.parametrize(("payload", "reason"), [
    ({"type": "offline"}, "device: missing"),
    ({"device": "  ", "type": "offline"}, "device: empty"),
    ({"device": "v1"}, "type: missing"),
    ({"device": ["v1"], "type": "offline"}, "device: must be text"),
    ({**VALVE, "severity": "purple"}, "severity: must be one of critical, major"),
    ({**VALVE, "status": "maybe"}, "status: must be firing or cleared"),
    ({**VALVE, "time": "soon"}, "time: not an ISO 8601 time"),
    ({**VALVE, "time": "2026-11-23 09:30"}, "time: no time zone"),
    ({**VALVE, "time": -5}, "time: not a real time"),
    ({**VALVE, "time": 1e300}, "time: not a real time"),
    ({**VALVE, "time": True}, "time: must be an ISO 8601 time"),
    ([VALVE, {"device": "v2"}], "[1].type: missing"),
    ([VALVE, "offline"], "[1]: must be an object"),
    ([], "body: the list is empty"),
    ("valve-12 offline", "body: must be a JSON object or a list"),
    ([{"device": "v", "type": "t"}] * 1001, "body: more than 1000 items"),
])
async def test_a_wrong_item_refuses_the_request_with_the_field(hooks: Webhooks, payload: object,
                                                               reason: str) -> None:
    status, body = await hooks.post(PATH, payload)

    assert status == 400
    assert body["error"].startswith(reason)
    assert hooks.desk.got == []
