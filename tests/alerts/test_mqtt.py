"""The MQTT subscriber against the real Mosquitto on 127.0.0.1:1883 (skipped without one)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import pytest
from sqlalchemy.exc import OperationalError

from bot.alerts import AlarmSources
from bot.alerts.intake import Counters
from bot.alerts.mqtt import Backoff, Broker, MqttSource
from handlers.core.clock import FakeClock
from handlers.core.messages import Alarm, Heartbeat
from tests.alerts.conftest import FakeDesk
from tests.fakes.tcp_proxy import CuttableProxy

HOST, PORT = "127.0.0.1", 1883
QUICK = Backoff(first=0.05, cap=0.2)  # reconnects within a test's patience
WAIT = 10.0


def _broker_listening() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_listening(),
                                reason=f"no MQTT broker listens on {HOST}:{PORT}")


@pytest.fixture
def topic() -> str:
    return f"frontline-test/{uuid.uuid4().hex}/alarms"


@asynccontextmanager
async def running(desk: FakeDesk, topic: str, port: int = PORT,
                  **kwargs: Any) -> AsyncIterator[tuple[MqttSource, AlarmSources]]:
    counters = Counters()
    mqtt = MqttSource(Broker(HOST, port), f"{topic}/#", desk, counters, FakeClock(),
                      backoff=QUICK, **kwargs)
    sources = AlarmSources(desk, FakeClock(), mqtt=mqtt, counters=counters)
    await sources.start()
    try:
        await asyncio.wait_for(mqtt.subscribed.wait(), WAIT)
        yield mqtt, sources
    finally:
        await sources.stop()


async def publish(topic: str, payload: Any, qos: int = 1) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with aiomqtt.Client(HOST, PORT) as client:
        await client.publish(topic, body, qos=qos)


async def wait_for(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT)


async def test_a_published_alarm_reaches_the_desk(topic: str) -> None:
    desk = FakeDesk()
    async with running(desk, topic) as (mqtt, sources):
        assert sources.status()["mqtt"] == "connected"
        await publish(f"{topic}/north-hill", [
            {"device": "valve-12", "type": "offline", "severity": "critical",
             "time": 1795400000},
            {"device": "gw-01", "type": "heartbeat", "id": "hb-7"}])

        alarm, beat = await desk.next(), await desk.next()

    assert isinstance(alarm, Alarm) and isinstance(beat, Heartbeat)
    assert (alarm.source, alarm.device, alarm.kind, alarm.severity) == (
        "mqtt", "valve-12", "offline", "critical")
    assert (beat.device, beat.event_id) == ("gw-01", "hb-7")
    assert mqtt.counters.value("mqtt", "accepted") == 2
    assert mqtt.state == "off" and sources.status()["mqtt"] == "off"  # stop() ended it


@pytest.mark.parametrize("bad", [b"not json {", b"", b'{"device": "v"}',
                                 b"\xff\xfe", json.dumps({"x": "y" * 2000}).encode()])
async def test_a_malformed_message_is_counted_and_the_next_one_arrives(
        topic: str, bad: bytes, caplog: pytest.LogCaptureFixture) -> None:
    desk = FakeDesk()
    async with running(desk, topic, max_bytes=1024) as (mqtt, _):
        await publish(f"{topic}/x", bad)
        await publish(f"{topic}/x", {"device": "valve-12", "type": "offline"})

        alarm = await desk.next()

    assert alarm.device == "valve-12" and len(desk.got) == 1
    skipped = mqtt.counters.value("mqtt", "malformed") + mqtt.counters.value("mqtt",
                                                                             "too_large")
    assert skipped == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "skipped message" in logged and "yyyy" not in logged and "not json" not in logged


async def test_it_reconnects_after_the_connection_is_cut(topic: str) -> None:
    desk = FakeDesk()
    proxy = CuttableProxy(HOST, PORT)
    port = await proxy.start()
    try:
        async with running(desk, topic, port=port, keepalive=5) as (mqtt, sources):
            await publish(f"{topic}/a", {"device": "valve-1", "type": "offline"})
            assert (await desk.next()).device == "valve-1"

            await proxy.cut()
            await wait_for(mqtt.lost)
            assert sources.status()["mqtt"] == "reconnecting"
            await proxy.restore()
            await wait_for(mqtt.subscribed)
            assert sources.status()["mqtt"] == "connected"

            await publish(f"{topic}/a", {"device": "valve-2", "type": "offline"})
            assert (await desk.next()).device == "valve-2"
    finally:
        await proxy.cut()


async def test_a_named_client_gets_what_was_published_while_it_was_away(topic: str) -> None:
    desk = FakeDesk()
    proxy = CuttableProxy(HOST, PORT)
    port = await proxy.start()
    client_id = f"frontline-test-{uuid.uuid4().hex[:12]}"
    try:
        async with running(desk, topic, port=port, client_id=client_id) as (mqtt, _):
            await proxy.cut()
            await wait_for(mqtt.lost)
            await publish(f"{topic}/a", {"device": "valve-3", "type": "offline"})
            await proxy.restore()

            assert (await desk.next()).device == "valve-3"
    finally:
        await proxy.cut()
        # end the persistent session so the broker forgets it
        async with aiomqtt.Client(HOST, PORT, identifier=client_id, clean_session=True):
            pass


async def test_an_alarm_waits_while_the_database_is_down(topic: str) -> None:
    desk = FakeDesk()
    desk.failures += [OperationalError("INSERT", {}, Exception("gone"))] * 2
    async with running(desk, topic) as (mqtt, _):
        await publish(f"{topic}/x", {"device": "valve-4", "type": "offline", "id": "e-4"})

        alarm = await desk.next()

    assert (alarm.device, alarm.event_id) == ("valve-4", "e-4")
    assert mqtt.counters.value("mqtt", "unavailable") == 2
    assert mqtt.counters.value("mqtt", "accepted") == 1


async def test_stop_ends_a_subscriber_that_cannot_reach_its_broker() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind((HOST, 0))
        free = s.getsockname()[1]
    desk = FakeDesk()
    mqtt = MqttSource(Broker(HOST, free), "t/#", desk, Counters(), FakeClock(), backoff=QUICK)
    await mqtt.start()
    await wait_for(mqtt.lost)

    assert mqtt.status() == "reconnecting"
    await asyncio.wait_for(mqtt.stop(), WAIT)
    assert mqtt.status() == "off"


@pytest.mark.parametrize(("url", "broker"), [
    ("mqtt://127.0.0.1", Broker("127.0.0.1", 1883)),
    ("mqtts://broker.example.com", Broker("broker.example.com", 8883, tls=True)),
    ("mqtt://orchard:p%40ss@10.0.0.5:2883", Broker("10.0.0.5", 2883, "orchard", "p@ss")),
])
def test_broker_addresses(url: str, broker: Broker) -> None:
    assert Broker.from_url(url) == broker
    assert "p@ss" not in str(Broker.from_url(url))


@pytest.mark.parametrize("url", ["http://x", "mqtt://", "mqtt://host:port", "host:1883"])
def test_unusable_broker_addresses(url: str) -> None:
    with pytest.raises(ValueError):
        Broker.from_url(url)


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    b = Backoff(first=1, cap=8)
    lows: list[float] = [b.delay(n, rand=lambda: 0.0) for n in range(6)]
    highs = [b.delay(n, rand=lambda: 1.0) for n in range(6)]
    assert lows == [0.5, 1, 2, 4, 4, 4]
    assert highs == [1, 2, 4, 8, 8, 8]
    assert 0.5 <= b.delay(0) <= 1

