"""The alarm sources' settings: read from FRONTLINE_*, checked at start-up, secrets kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.alerts import AlarmSources
from bot.alerts.mqtt import Broker
from bot.settings import SettingsError, load
from handlers.core.clock import FakeClock
from tests.alerts.conftest import FakeDesk


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FRONTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file


def test_alarm_sources_are_off_by_default() -> None:
    sources = AlarmSources.from_settings(load(), FakeDesk(), FakeClock())

    assert sources.status() == {"alerts": "off", "mqtt": "off"}
    assert sources.routes is None and sources.mqtt is None


def test_the_token_and_broker_come_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_ALERTS_TOKEN", "tok-4471x")
    monkeypatch.setenv("FRONTLINE_MQTT_URL", "mqtt://desk:pw-9923q@10.0.0.5:2883")
    monkeypatch.setenv("FRONTLINE_MQTT_TOPIC", "orchard/+/alarms")
    monkeypatch.setenv("FRONTLINE_ALERTS_MAX_BODY_BYTES", "4096")
    settings = load()

    sources = AlarmSources.from_settings(settings, FakeDesk(), FakeClock())

    assert "pw-9923q" not in repr(settings) and "tok-4471x" not in repr(settings)
    assert sources.routes is not None and sources.routes.max_body_bytes == 4096
    assert sources.mqtt is not None
    assert (sources.mqtt.broker, sources.mqtt.topic) == (
        Broker("10.0.0.5", 2883, "desk", "pw-9923q"), "orchard/+/alarms")
    assert sources.status() == {"alerts": "on", "mqtt": "off"}  # until start()


def test_a_chat_only_replica_takes_no_alarms_though_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_ALERTS_TOKEN", "tok-4471x")
    monkeypatch.setenv("FRONTLINE_MQTT_URL", "mqtt://127.0.0.1:1883")
    monkeypatch.setenv("FRONTLINE_ALARM_INTAKE", "false")

    sources = AlarmSources.from_settings(load(), FakeDesk(), FakeClock())

    assert sources.routes is None and sources.mqtt is None
    assert sources.status() == {"alerts": "off", "mqtt": "off"}


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://u:hunter2@h:port"])
def test_an_unusable_broker_address_stops_start_up_without_showing_it(
        monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FRONTLINE_MQTT_URL", url)

    with pytest.raises(SettingsError) as caught:
        load()

    [problem] = caught.value.problems
    assert problem.startswith("FRONTLINE_MQTT_URL: is not an address such as mqtt://")
    assert "hunter2" not in problem


@pytest.mark.parametrize("topic", ["", "a/#/b", "a/b#", "a/+b/c"])
def test_an_unusable_topic_filter_stops_start_up(monkeypatch: pytest.MonkeyPatch,
                                                 topic: str) -> None:
    monkeypatch.setenv("FRONTLINE_MQTT_TOPIC", topic)

    with pytest.raises(SettingsError) as caught:
        load()

    assert caught.value.problems[0].startswith("FRONTLINE_MQTT_TOPIC:")
