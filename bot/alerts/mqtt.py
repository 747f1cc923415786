"""The MQTT alarm subscriber: the generic JSON (bot/alerts/generic.py), one object or a list
per message, from FRONTLINE_MQTT_TOPIC on the broker at FRONTLINE_MQTT_URL, QoS 1.

It follows aiomqtt's documented reconnection pattern (one reusable `Client`, `async with`
inside a loop that catches `MqttError`), waiting a capped exponential back-off with jitter
between attempts so a fleet of replicas does not hammer a broker that comes back. Each loss
of the connection is logged once, with the reason; the attempts that follow are quiet.

With FRONTLINE_MQTT_CLIENT_ID set, the session is persistent (clean session off): the broker
keeps the QoS 1 alarms published while the desk is away and delivers them on reconnect. Two
processes must not share one client id (the broker would throw one out), so replicas each
need their own, or none.

A message that is not usable (not JSON, a field wrong, too large) is logged by topic and
message id only, counted, and skipped. When the desk's database is down the message being
handed on is retried, with the same back-off, until it is taken or the source is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiomqtt

from bot.alerts import generic
from bot.alerts.fields import PayloadError
from bot.alerts.http import loads
from bot.alerts.intake import Counters, Item, Receive, hand_on
from handlers.core.clock import Clock
from handlers.core.dispatch import DB_FAILURES
from handlers.core.escape import visible

log = logging.getLogger(__name__)
SOURCE = "mqtt"
SCHEMES = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """mqtt://[user:password@]host[:port] (mqtts:// for TLS); ValueError if it is not."""
        parts = urlsplit(url.strip())
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError("not an address such as mqtt://host:1883 or mqtts://host:8883")
        port = parts.port or SCHEMES[parts.scheme]  # .port raises ValueError when not a number
        return cls(host=parts.hostname, port=port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   tls=parts.scheme in ("mqtts", "ssl"))

    def __str__(self) -> str:  # for logs: never the password
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before attempt n+1: first * 2**n, at most `cap`, the upper half
    random ("equal jitter": never a tight loop, never all replicas at once)."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        full = min(self.cap, self.first * 2 ** min(attempt, 32))
        return full / 2 + rand() * full / 2


class MqttSource:
    """Subscribes while started; `state` is off, connecting, connected or reconnecting."""

    def __init__(self, broker: Broker, topic: str, receive: Receive, counters: Counters,
                 clock: Clock, *, client_id: str = "", max_bytes: int = 256 * 1024,
                 backoff: Backoff | None = None, keepalive: int = 60) -> None:
        self.broker, self.topic, self.receive = broker, topic, receive
        self.counters, self.clock, self.client_id = counters, clock, client_id
        self.max_bytes, self.backoff, self.keepalive = max_bytes, backoff or Backoff(), keepalive
        self.state = "off"
        self.subscribed = asyncio.Event()  # set while connected and subscribed
        self.lost = asyncio.Event()  # set while the connection is down
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self.state = "connecting"
            self._task = asyncio.create_task(self._run(), name="mqtt-alarms")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.state = "off"
        self.subscribed.clear()

    def _client(self) -> aiomqtt.Client:
        b = self.broker
        return aiomqtt.Client(
            b.host, b.port, username=b.username, password=b.password,
            identifier=self.client_id or None,
            # a named client keeps its session: the broker holds QoS 1 messages meanwhile
            clean_session=not self.client_id,
            tls_context=ssl.create_default_context() if b.tls else None,
            keepalive=self.keepalive, timeout=10,
        )

    async def _run(self) -> None:
        client = self._client()
        attempt = 0
        was_up = True  # the first failure to connect is logged like a lost connection
        while True:
            try:
                async with client:
                    await client.subscribe(self.topic, qos=1)
                    self._up()
                    attempt, was_up = 0, True
                    async for message in client.messages:
                        await self._message(message)
            except Exception as exc:  # MqttError mostly; nothing may end the subscriber
                delay = self.backoff.delay(attempt)
                reason = visible(str(exc) or type(exc).__name__)[:200]
                if was_up:
                    log.warning("mqtt: no connection to %s (%s); trying again with back-off",
                                self.broker, reason)
                else:
                    log.debug("mqtt: %s still unreachable (%s); next try in %.1fs",
                              self.broker, reason, delay)
                self._down()
                attempt, was_up = attempt + 1, False
                await asyncio.sleep(delay)

    def _up(self) -> None:
        self.state = "connected"
        self.lost.clear()
        self.subscribed.set()
        log.info("mqtt: subscribed to %s on %s", visible(self.topic), self.broker)

    def _down(self) -> None:
        self.state = "reconnecting"
        self.subscribed.clear()
        self.lost.set()

    async def _message(self, message: aiomqtt.Message) -> None:
        topic = visible(message.topic.value)[:200]
        payload = message.payload
        data = payload.encode() if isinstance(payload, str) else payload
        if not isinstance(data, bytes | bytearray):
            self._skip("malformed", topic, message.mid, "not a JSON text")
            return
        if len(data) > self.max_bytes:
            self._skip("too_large", topic, message.mid, f"over {self.max_bytes} bytes")
            return
        try:
            items = generic.parse(loads(bytes(data)), self.clock.now(), source=SOURCE)
        except PayloadError as exc:
            self._skip("malformed", topic, message.mid, str(exc))
            return
        for item in items:
            await self._hand_on(item)

    def _skip(self, outcome: str, topic: str, mid: int, reason: str) -> None:
        self.counters.count(SOURCE, outcome)
        log.warning("mqtt: skipped message %d on %s: %s", mid, topic, visible(reason)[:300])

    async def _hand_on(self, item: Item) -> None:
        attempt = 0
        while True:
            try:
                await hand_on(item, self.receive, SOURCE, self.counters)
                return
            except DB_FAILURES:
                # the broker has this message acknowledged already: keep it until the desk
                # takes it (messages behind it wait in the client's queue)
                await asyncio.sleep(self.backoff.delay(attempt))
                attempt += 1
            except Exception:
                return  # a fault in the desk (logged by hand_on): the next message may do

    def status(self) -> str:
        return self.state
