"""POST /alerts/alertmanager: Alertmanager's webhook, one Alarm per alert."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from bot.alerts.fields import SUMMARY_MAX
from handlers.core.messages import Alarm
from tests.alerts.conftest import FIRING_ALERT, Webhooks, resolved, webhook

PATH = "/alerts/alertmanager"


async def test_a_firing_alert_is_handed_on_as_an_alarm(hooks: Webhooks) -> None:
    status, body = await hooks.post(PATH, webhook(FIRING_ALERT))

    assert (status, body) == (200, {"accepted": 1, "duplicates": 0})
    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm)
    assert alarm.source == "alertmanager"
    assert alarm.firing is True
    assert (alarm.device, alarm.kind, alarm.severity) == ("soil-07", "SoilSensorDown",
                                                          "critical")
    assert alarm.summary == "Soil sensor soil-07 stopped reporting"
    assert (alarm.site, alarm.plot) == ("north-hill", "B3")
    assert alarm.fingerprint == "1a30ba71cca2921f"
    # startsAt in +08:00 with Go's nanoseconds, kept as aware UTC
    assert alarm.at == datetime(2026, 11, 23, 0, 52, 26, 739266, tzinfo=UTC)
    assert alarm.labels == (
        ("description", "No samples for 10 minutes"),
        ("generatorURL", "http://prometheus:9090/graph?g0.expr=up%3D%3D0"),
        ("instance", "10.0.3.7:9100"),
        ("job", "soil"),
        ("runbook_url", "https://kb/x"),
    )
    assert hooks.counters.value("alertmanager", "accepted") == 1


async def test_a_resolved_alert_is_handed_on_cleared_at_its_end(hooks: Webhooks) -> None:
    await hooks.post(PATH, webhook(FIRING_ALERT))
    status, body = await hooks.post(PATH, webhook(resolved(FIRING_ALERT), status="resolved"))

    assert (status, body) == (200, {"accepted": 1, "duplicates": 0})
    fired, cleared = hooks.desk.got
    assert isinstance(cleared, Alarm)
    assert cleared.firing is False
    assert cleared.at == datetime(2026, 11, 23, 1, 20, tzinfo=UTC)
    assert cleared.key == fired.key  # same incident
    assert cleared.event_id != fired.event_id  # a different event


async def test_the_same_payload_twice_is_a_replay(hooks: Webhooks) -> None:
    payload = webhook(FIRING_ALERT, {**FIRING_ALERT, "fingerprint": "77aa", "labels": {
        **FIRING_ALERT["labels"], "device": "valve-02"}})

    first = await hooks.post(PATH, payload)
    again = await hooks.post(PATH, payload)  # Alertmanager's repeat_interval resends groups

    assert first == (200, {"accepted": 2, "duplicates": 0})
    assert again == (200, {"accepted": 0, "duplicates": 2})
    ids = [a.event_id for a in hooks.desk.got]
    assert ids[:2] == ids[2:] and ids[0] != ids[1]
    assert hooks.counters.value("alertmanager", "duplicate") == 2


async def test_without_a_fingerprint_the_labels_group_the_alert(hooks: Webhooks) -> None:
    bare = copy.deepcopy(FIRING_ALERT)
    del bare["fingerprint"]
    reordered = {**bare, "labels": dict(reversed(list(bare["labels"].items())))}
    other = {**bare, "labels": {**bare["labels"], "device": "soil-08"}}

    await hooks.post(PATH, webhook(bare, reordered, other))

    a, b, c = hooks.desk.got
    assert a.fingerprint and isinstance(a, Alarm) and isinstance(c, Alarm)
    assert (a.event_id, a.fingerprint) == (b.event_id, b.fingerprint)
    assert c.fingerprint != a.fingerprint


async def test_the_device_is_the_instance_when_no_device_label(hooks: Webhooks) -> None:
    labels = {k: v for k, v in FIRING_ALERT["labels"].items() if k != "device"}
    no_instance = {k: v for k, v in labels.items() if k != "instance"}

    await hooks.post(PATH, webhook({**FIRING_ALERT, "labels": labels},
                                   {**FIRING_ALERT, "labels": no_instance}))

    assert [a.device for a in hooks.desk.got] == ["10.0.3.7:9100", ""]


@pytest.mark.parametrize(("given", "expected"), [
    ("critical", "critical"), ("CRITICAL", "critical"), ("page", "critical"),
    ("high", "major"), ("error", "major"), ("major", "major"), ("minor", "minor"),
    ("warning", "warning"), ("warn", "warning"), ("info", "info"), ("none", "info"),
    ("purple", "warning"), (None, "warning"),
])
async def test_severity_is_named_the_desks_way(hooks: Webhooks, given: str | None,
                                               expected: str) -> None:
    labels = {k: v for k, v in FIRING_ALERT["labels"].items() if k != "severity"}
    if given is not None:
        labels["severity"] = given

    await hooks.post(PATH, webhook({**FIRING_ALERT, "labels": labels}))

    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm) and alarm.severity == expected


async def test_the_description_is_the_summary_when_there_is_none(hooks: Webhooks) -> None:
    notes = {"description": "No samples\r\nfor 10 minutes"}
    await hooks.post(PATH, webhook({**FIRING_ALERT, "annotations": notes}))

    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm)
    assert alarm.summary == "No samples\nfor 10 minutes"
    assert "description" not in dict(alarm.labels)


async def test_untrusted_text_is_cleaned_and_capped(hooks: Webhooks) -> None:
    alert = copy.deepcopy(FIRING_ALERT)
    alert["labels"]["device"] = "soil-07\x1b[31m\u202e\x00"
    alert["annotations"]["summary"] = "down\x07 " + "x" * 5000
    alert["labels"].update({f"extra{i:03}": "v" * 300 for i in range(50)})

    status, _ = await hooks.post(PATH, webhook(alert))

    assert status == 200
    [alarm] = hooks.desk.got
    assert isinstance(alarm, Alarm)
    assert alarm.device == "soil-07[31m"
    assert alarm.summary.startswith("down x") and len(alarm.summary) == SUMMARY_MAX
    assert len(alarm.labels) == 32 and all(len(v) <= 256 for _, v in alarm.labels)


@pytest.mark.parametrize(("payload", "reason"), [
    ({"version": "4", "status": "firing"}, "alerts: missing"),
    ({"alerts": {"status": "firing"}}, "alerts: must be a list"),
    ([FIRING_ALERT], "body: must be a JSON object"),
    (webhook({**FIRING_ALERT, "startsAt": "yesterday"}), "alerts[0].startsAt: not an ISO"),
    (webhook({**FIRING_ALERT, "startsAt": "2026-11-23T08:52:26"}),
     "alerts[0].startsAt: no time zone"),
    (webhook(resolved(FIRING_ALERT, ends="0001-01-01T00:00:00Z")),
     "alerts[0].endsAt: not a real time"),
    (webhook({**FIRING_ALERT, "status": "pending"}), "alerts[0].status: must be firing"),
    (webhook({**FIRING_ALERT, "labels": {"device": "x"}}),
     "alerts[0].labels.alertname: missing"),
    (webhook({**FIRING_ALERT, "labels": {"alertname": "X", "n": 3}}),
     "alerts[0].labels.n: must be text"),
])
async def test_a_payload_missing_what_it_needs_is_refused_with_the_reason(
        hooks: Webhooks, payload: object, reason: str) -> None:
    status, body = await hooks.post(PATH, payload)

    assert status == 400
    assert body["error"].startswith(reason)
    assert hooks.desk.got == []
    assert hooks.counters.value("alertmanager", "malformed") == 1


async def test_one_bad_alert_refuses_the_whole_request(hooks: Webhooks) -> None:
    bad = {**FIRING_ALERT, "fingerprint": "bad", "startsAt": 1700000000}

    status, body = await hooks.post(PATH, webhook(FIRING_ALERT, bad))

    assert (status, body) == (400, {"error": "alerts[1].startsAt: must be an ISO 8601 time"})
    assert hooks.desk.got == []
