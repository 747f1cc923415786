"""Alarm sources on a real aiohttp server, handing alarms to a fake desk that records them."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.alerts import AlarmSources
from bot.alerts.intake import Counters, Item
from handlers.core.clock import FakeClock

TOKEN = "s3cret-alerts-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
MAX_BODY = 64 * 1024
PATIENCE = 10.0  # seconds to wait for something that should come at once

# Alertmanager's webhook payload, version 4, as its documentation shows it
FIRING_ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": {"alertname": "SoilSensorDown", "device": "soil-07", "instance": "10.0.3.7:9100",
               "job": "soil", "severity": "page", "site": "north-hill", "plot": "B3"},
    "annotations": {"summary": "Soil sensor soil-07 stopped reporting",
                    "description": "No samples for 10 minutes", "runbook_url": "https://kb/x"},
    "startsAt": "2026-11-23T08:52:26.739266876+08:00",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=up%3D%3D0",
    "fingerprint": "1a30ba71cca2921f",
}


def webhook(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4", "groupKey": '{}:{alertname="SoilSensorDown"}', "truncatedAlerts": 0,
        "status": status, "receiver": "frontline", "groupLabels": {"alertname": "SoilSensorDown"},
        "commonLabels": {"alertname": "SoilSensorDown"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": [copy.deepcopy(a) for a in alerts],
    }


def resolved(alert: dict[str, Any], ends: str = "2026-11-23T01:20:00Z") -> dict[str, Any]:
    return {**copy.deepcopy(alert), "status": "resolved", "endsAt": ends}


class FakeDesk:
    """The desk's `receive`: records every item, says True the first time an event id comes,
    and raises the exceptions queued in `failures` first."""

    def __init__(self) -> None:
        self.got: list[Item] = []
        self.seen: set[str] = set()
        self.failures: list[Exception] = []
        self.arrived: asyncio.Queue[Item] = asyncio.Queue()

    async def __call__(self, item: Item) -> bool:
        if self.failures:
            raise self.failures.pop(0)
        self.got.append(item)
        self.arrived.put_nowait(item)
        new = item.event_id not in self.seen
        self.seen.add(item.event_id)
        return new

    async def next(self) -> Item:
        """The next item handed on (waits for it: MQTT delivers in its own time)."""
        return await asyncio.wait_for(self.arrived.get(), PATIENCE)


@dataclass
class Webhooks:
    client: TestClient[Any, Any]
    desk: FakeDesk
    counters: Counters
    clock: FakeClock

    async def post(self, path: str, payload: Any = None, *,
                   headers: dict[str, str] | None = None,
                   data: bytes | None = None) -> tuple[int, Any]:
        """POST `payload` as JSON (or raw `data`) with the token unless `headers` say
        otherwise; the status and the JSON answer."""
        sent = JSON_AUTH if headers is None else headers
        if data is None:
            resp = await self.client.post(path, json=payload, headers=sent)
        else:
            resp = await self.client.post(path, data=data, headers=sent)
        return resp.status, await resp.json()


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
async def hooks(desk: FakeDesk, clock: FakeClock) -> AsyncIterator[Webhooks]:
    sources = AlarmSources(desk, clock, token=TOKEN, max_body_bytes=MAX_BODY)
    app = web.Application()
    sources.attach(app)
    async with TestClient(TestServer(app)) as client:
        yield Webhooks(client, desk, sources.counters, clock)
