"""All alarm sources of one process, built from the settings: the webhook routes (only with
FRONTLINE_ALERTS_TOKEN set) and the MQTT subscriber (only with FRONTLINE_MQTT_URL set), neither
on a chat-only replica (FRONTLINE_ALARM_INTAKE=false: alarms go to other processes, so an alarm
storm never shares an event loop with people's replies).

Bootstrap builds one with the desk's `receive`, calls `attach(app)` while it assembles the
web app, `start()` once the desk is up, `stop()` on the way down, and shows `status()` in
/healthz.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry

from bot.alerts.http import AlertRoutes
from bot.alerts.intake import Counters, Receive
from bot.alerts.mqtt import Backoff, Broker, MqttSource
from bot.settings import Settings
from handlers.core.clock import Clock

log = logging.getLogger(__name__)


class AlarmSources:
    def __init__(self, receive: Receive, clock: Clock, *, token: str = "",
                 max_body_bytes: int = 256 * 1024, mqtt: MqttSource | None = None,
                 counters: Counters | None = None, intake: bool = True) -> None:
        self.counters = counters or Counters()
        self.intake = intake
        token = token if intake else ""
        mqtt = mqtt if intake else None
        self.routes = (AlertRoutes(receive, self.counters, clock, token=token,
                                   max_body_bytes=max_body_bytes) if token else None)
        self.mqtt = mqtt

    @classmethod
    def from_settings(cls, settings: Settings, receive: Receive, clock: Clock,
                      registry: CollectorRegistry | None = None) -> AlarmSources:
        """`registry`: the app's /metrics registry (bot/metrics.py `attach_metrics`), where
        the alert counters go; without one they are kept aside."""
        counters = Counters(registry)
        url = settings.mqtt_url.get_secret_value() if settings.alarm_intake else ""
        mqtt = MqttSource(
            Broker.from_url(url), settings.mqtt_topic, receive, counters, clock,
            client_id=settings.mqtt_client_id, max_bytes=settings.alerts_max_body_bytes,
            backoff=Backoff(settings.mqtt_reconnect_min_seconds,
                            settings.mqtt_reconnect_max_seconds),
        ) if url else None
        return cls(receive, clock, token=settings.alerts_token.get_secret_value(),
                   max_body_bytes=settings.alerts_max_body_bytes, mqtt=mqtt, counters=counters,
                   intake=settings.alarm_intake)

    def attach(self, app: web.Application) -> None:
        """Add the webhook routes; without a token there are none (a 404), said once here."""
        if not self.intake:
            log.info("alerts: a chat-only replica (FRONTLINE_ALARM_INTAKE=false): /alerts/* "
                     "webhooks and MQTT are off here")
            return
        if self.routes is None:
            log.info("alerts: FRONTLINE_ALERTS_TOKEN is not set: /alerts/* webhooks are off")
            return
        self.routes.attach(app)
        log.info("alerts: webhooks on at /alerts/alertmanager and /alerts/generic")

    async def start(self) -> None:
        if self.mqtt is not None:
            await self.mqtt.start()

    async def stop(self) -> None:
        if self.mqtt is not None:
            await self.mqtt.stop()

    def status(self) -> Mapping[str, str]:
        """For /healthz: `alerts` (on | off) and `mqtt` (off | connecting | connected |
        reconnecting)."""
        return {"alerts": "on" if self.routes is not None else "off",
                "mqtt": self.mqtt.status() if self.mqtt is not None else "off"}
