"""Monitoring alarms end to end: the real aiohttp app (and the real Mosquitto) into the desk."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.bootstrap import Frontline, build
from bot.settings import Settings
from storage.models import AlarmRecord, Incident, Ticket, TicketFollower
from tests.alerts.conftest import FIRING_ALERT, resolved, webhook
from tests.alerts.test_mqtt import HOST, PORT, _broker_listening
from tests.handlers.test_sla_and_escalation import tick
from tests.support.chat import settle
from tests.support.fakes import valve_kb

TOKEN = "alarm-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGISTRY = """id,name,type,site,plot,parent
gw-9,北坡网关,gateway,一号园区,B3,
soil-07,B3土壤墒情,sensor,一号园区,B3,gw-9
soil-08,,sensor,一号园区,B3,gw-9
"""


def alert(device: str, name: str = "DeviceDown", *, fingerprint: str = "",
          starts: str = "2026-11-23T08:52:26+08:00", severity: str = "critical") -> dict[str, Any]:
    labels = {"alertname": name, "device": device, "severity": severity, "site": "一号园区"}
    return {**FIRING_ALERT, "labels": labels, "startsAt": starts,
            "fingerprint": fingerprint or f"fp-{device}-{name}"}


@pytest.fixture
async def monitored(settings: Settings, clock, channel, tmp_path: Path
                    ) -> AsyncIterator[tuple[Frontline, TestClient[Any, Any], str]]:
    registry = tmp_path / "devices.csv"
    registry.write_text(REGISTRY, "utf-8")
    topic = f"frontline-test/{uuid.uuid4().hex}"
    mqtt = {"mqtt_url": SecretStr(f"mqtt://{HOST}:{PORT}"), "mqtt_topic": f"{topic}/#"} \
        if _broker_listening() else {}
    s = settings.model_copy(update={"alerts_token": SecretStr(TOKEN),
                                    "devices_file": registry, **mqtt})
    fl = await build(s, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=False)
    async with TestClient(TestServer(fl.web_app)) as client:
        yield fl, client, topic
    await fl.stop()


async def count(fl: Frontline, model: Any) -> int:
    async with fl.db.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(model)))


async def post(client: TestClient[Any, Any], payload: Any, path: str = "/alerts/alertmanager",
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    resp = await client.post(path, json=payload, headers=AUTH if headers is None else headers)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    return resp.status, body


async def test_an_alertmanager_alarm_pages_an_engineer_and_its_clear_notes_the_ticket(
    monitored, clock, engineer
):
    fl, client, _ = monitored
    status, body = await post(client, webhook(alert("gw-9")))
    assert (status, body) == (200, {"accepted": 1, "duplicates": 0})
    await tick(fl, clock, minutes=3)  # critical: three minutes of grace in the day

    page = engineer.last().text
    assert "【新工单】" in page and "北坡网关" in page and "监控系统" in page
    await engineer.presses("接单")
    status, _ = await post(client, webhook(resolved(alert("gw-9")), status="resolved"))
    assert status == 200
    await settle(fl)
    assert "已恢复正常" in engineer.last().text


async def test_fifty_repeats_make_one_ticket(monitored, clock, engineer):
    fl, client, _ = monitored
    for i in range(50):  # Alertmanager re-sends; some senders restart the alert
        starts = f"2026-11-23T08:{i:02d}:00+08:00" if i % 2 else "2026-11-23T08:00:00+08:00"
        assert (await post(client, webhook(alert("soil-08", fingerprint="fp-1",
                                                 starts=starts))))[0] == 200
    await tick(fl, clock, minutes=10)
    assert await count(fl, Ticket) == 1 and await count(fl, Incident) == 1
    assert sum("【新工单】" in m.text for m in engineer.inbox()) == 1


async def test_a_gateway_outage_with_its_sensors_is_one_incident_and_a_report_joins_it(
    monitored, clock, engineer, reporter
):
    fl, client, _ = monitored
    sensors = [alert("soil-07", "NoData", severity="major"),
               alert("soil-08", "NoData", severity="major")]
    assert (await post(client, webhook(*sensors)))[0] == 200
    assert (await post(client, webhook(alert("gw-9"))))[0] == 200
    await tick(fl, clock, minutes=10)
    assert await count(fl, Ticket) == 1
    async with fl.db.transaction() as tx:
        loose = await tx.scalars(select(Incident).where(Incident.parent_id.is_(None)))
    assert [i.device for i in loose] == ["gw-9"]
    await engineer.presses("接单")

    await reporter.says("B3地块的土壤数据没了")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert "监控已经发现了" in reporter.last().text and "FL-000001" in reporter.last().text
    assert await count(fl, Ticket) == 1 and await count(fl, TicketFollower) == 1
    assert "李明" in engineer.last().text


@pytest.mark.parametrize("headers, payload, status", [
    ({}, webhook(alert("gw-9")), 401),
    ({"Authorization": "Bearer wrong"}, webhook(alert("gw-9")), 401),
    (AUTH, {"alerts": [{"status": "firing"}]}, 400),
    (AUTH, {"version": "4", "alerts": "nope"}, 400),
])
async def test_refused_payloads_store_nothing(monitored, headers, payload, status):
    fl, client, _ = monitored
    got, _ = await post(client, payload, headers=headers)
    assert got == status
    assert await count(fl, AlarmRecord) == 0 and await count(fl, Incident) == 0


async def test_an_oversized_payload_is_refused_and_nothing_is_stored(monitored):
    fl, client, _ = monitored
    huge = webhook(*[alert(f"d{i}", fingerprint=f"f{i}") for i in range(2000)])
    resp = await client.post("/alerts/alertmanager", data=json.dumps(huge),
                             headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status == 413
    assert await count(fl, AlarmRecord) == 0


async def test_an_alarm_published_on_mqtt_reaches_the_desk(monitored, clock, engineer):
    fl, _, topic = monitored
    if fl.alarms is None or fl.alarms.mqtt is None:
        pytest.skip(f"nothing listens on {HOST}:{PORT} (Mosquitto)")
    for _ in range(100):  # the subscription is made once the client has connected
        if fl.alarms.status()["mqtt"] == "connected":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    async with aiomqtt.Client(HOST, PORT) as pub:
        await pub.publish(f"{topic}/gw", json.dumps({
            "device": "gw-9", "type": "offline", "severity": "critical",
            "time": "2026-11-23T08:00:00+08:00", "message": "网关离线"}), qos=1)
    for _ in range(200):
        if await count(fl, Incident):
            break
        await asyncio.sleep(0.05)
    await tick(fl, clock, minutes=3)
    assert "网关离线" in engineer.last().text
