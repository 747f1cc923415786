"""Alarm sources: monitoring's alarms (Alertmanager and IoT webhooks, MQTT) turned into the
desk's platform-neutral `Alarm` / `Heartbeat` and handed to its `receive`."""

from bot.alerts.intake import Receive
from bot.alerts.sources import AlarmSources

__all__ = ["AlarmSources", "Receive"]
