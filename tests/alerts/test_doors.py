"""What every alert webhook checks before anything reaches the desk: token, type, size, JSON;
and what the sender hears when the desk's database is down."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from bot.alerts import AlarmSources
from handlers.core.clock import FakeClock
from tests.alerts.conftest import AUTH, FIRING_ALERT, MAX_BODY, TOKEN, FakeDesk, Webhooks, webhook

PATHS = ["/alerts/alertmanager", "/alerts/generic"]
GOOD = {"/alerts/alertmanager": webhook(FIRING_ALERT),
        "/alerts/generic": {"device": "valve-12", "type": "offline"}}


def source(path: str) -> str:
    return path.rsplit("/", 1)[1]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x", "Bearer "])
async def test_a_missing_or_wrong_token_is_refused(hooks: Webhooks, path: str,
                                                   authorization: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization

    status, body = await hooks.post(path, GOOD[path], headers=headers)

    assert (status, body) == (401, {"error": "missing or wrong bearer token"})
    assert hooks.desk.got == []
    assert hooks.counters.value(source(path), "refused_auth") == 1


@pytest.mark.parametrize("path", PATHS)
async def test_malformed_json_is_refused(hooks: Webhooks, path: str) -> None:
    status, body = await hooks.post(path, data=b'{"alerts": [', headers={
        **AUTH, "Content-Type": "application/json"})

    assert (status, body) == (400, {"error": "body: not JSON (line 1 column 13)"})
    assert hooks.desk.got == []


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"device": "v", "type": "t", "battery": NaN}', "body: NaN is not a JSON number"),
    (b"\xff\xfe{}", "body: not UTF-8 text"),
    (b"[" * 20000 + b"]" * 20000, "body: nested too deeply"),
    (b"", "body: not JSON (line 1 column 1)"),
])
async def test_json_the_desk_cannot_keep_is_refused(hooks: Webhooks, data: bytes,
                                                    reason: str) -> None:
    status, body = await hooks.post("/alerts/generic", data=data, headers={
        **AUTH, "Content-Type": "application/json"})

    assert (status, body) == (400, {"error": reason})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_refused_by_type(hooks: Webhooks,
                                                          content_type: str) -> None:
    status, body = await hooks.post("/alerts/generic", data=b"device=v&type=t", headers={
        **AUTH, "Content-Type": content_type})

    assert status == 415
    assert body == {"error": f"Content-Type {content_type!r} is not application/json"}
    assert hooks.counters.value("generic", "malformed") == 1


@pytest.mark.parametrize("path", PATHS)
async def test_an_oversized_body_is_refused(hooks: Webhooks, path: str) -> None:
    big = {"device": "v", "type": "t", "message": "x" * MAX_BODY}

    status, body = await hooks.post(path, big)

    assert (status, body) == (413, {"error": f"body: larger than {MAX_BODY} bytes"})
    assert hooks.desk.got == []
    assert hooks.counters.value(source(path), "too_large") == 1


async def test_an_oversized_body_without_a_length_is_cut_off(hooks: Webhooks) -> None:
    async def chunks():  # chunked transfer: no Content-Length to go by
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    resp = await hooks.client.post("/alerts/generic", data=chunks(), headers={
        **AUTH, "Content-Type": "application/json"})

    assert resp.status == 413
    assert hooks.desk.got == []


async def test_when_the_database_is_down_the_sender_is_told_to_retry(hooks: Webhooks) -> None:
    hooks.desk.failures.append(OperationalError("INSERT", {}, Exception("gone")))

    status, body = await hooks.post("/alerts/alertmanager", webhook(FIRING_ALERT))
    resp = await hooks.client.post("/alerts/alertmanager", json=webhook(FIRING_ALERT),
                                   headers=AUTH)

    assert status == 503 and body["accepted"] == 0
    assert "retry" in body["error"] or "again" in body["error"]
    assert resp.status == 200 and await resp.json() == {"accepted": 1, "duplicates": 0}
    assert hooks.counters.value("alertmanager", "unavailable") == 1


async def test_the_retry_after_header_is_sent(hooks: Webhooks) -> None:
    hooks.desk.failures.append(ConnectionRefusedError())

    resp = await hooks.client.post("/alerts/generic", json=GOOD["/alerts/generic"],
                                   headers=AUTH)

    assert resp.status == 503
    assert int(resp.headers["Retry-After"]) > 0


async def test_a_fault_in_the_desk_is_not_blamed_on_the_sender(hooks: Webhooks) -> None:
    hooks.desk.failures.append(KeyError("bug"))

    resp = await hooks.client.post("/alerts/generic", json=GOOD["/alerts/generic"],
                                   headers=AUTH)

    assert resp.status == 500
    assert hooks.counters.value("generic", "failed") == 1


async def _all_refused_404(sources: AlarmSources, desk: FakeDesk,
                           caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application()
    with caplog.at_level(logging.INFO, logger="bot.alerts"):
        sources.attach(app)
    async with TestClient(TestServer(app)) as client:
        for path in PATHS:
            resp = await client.post(path, json=GOOD[path], headers=AUTH)
            assert resp.status == 404
    assert desk.got == []


async def test_without_a_token_the_routes_are_not_there(
        desk: FakeDesk, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    sources = AlarmSources(desk, clock, token="")
    await _all_refused_404(sources, desk, caplog)
    assert [r.getMessage() for r in caplog.records if "FRONTLINE_ALERTS_TOKEN" in
            r.getMessage()] == [
        "alerts: FRONTLINE_ALERTS_TOKEN is not set: /alerts/* webhooks are off"]
    assert sources.status() == {"alerts": "off", "mqtt": "off"}


async def test_a_chat_only_replica_has_no_alarm_routes_and_says_why(
        desk: FakeDesk, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    sources = AlarmSources(desk, clock, token=TOKEN, intake=False)
    await _all_refused_404(sources, desk, caplog)
    assert any("FRONTLINE_ALARM_INTAKE=false" in r.getMessage() for r in caplog.records)


async def test_logs_carry_ids_never_the_alarms_words(
        hooks: Webhooks, caplog: pytest.LogCaptureFixture) -> None:
    secret_words = "Ms Li's phone 13800138000"
    with caplog.at_level(logging.DEBUG):
        await hooks.post("/alerts/generic", {"device": "valve-12", "type": "offline",
                                             "message": secret_words})
        await hooks.post("/alerts/generic", {"device": "valve-12", "message": secret_words})

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "valve-12" in logged and hooks.desk.got[0].event_id in logged
    assert "13800138000" not in logged
    assert secret_words not in json.dumps([r.args for r in caplog.records], default=str)
