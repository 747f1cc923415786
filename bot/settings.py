"""Configuration, read once from the environment (FRONTLINE_* variables and a .env file).

Platform secrets keep the names the platforms document (TELEGRAM_BOT_TOKEN, WECOM_SECRET …).
Nothing below bot/ reads the environment: bootstrap turns these settings into plain values.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    """Accept both FRONTLINE_<NAME> and the platform's own bare name."""
    return AliasChoices(f"FRONTLINE_{name}", name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRONTLINE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # operations
    log_format: str = "text"  # text | json
    log_level: str = "INFO"

    # storage
    database_url: str = "sqlite+aiosqlite:///./frontline.db"
    files_dir: Path = Path("./data/files")

    # web app (web chat, webhooks, health)
    host: str = "127.0.0.1"
    port: int = 8080
    channels: str = "web"  # comma-separated: web, telegram, wecom
    pid_file: str = "frontline.pid"  # written by `run`/`demo`; `frontline kb reload` signals it
    webchat_demo: bool = False  # the person switcher: only for demos, anyone can be anyone
    webchat_cookie_secret: SecretStr = SecretStr("")

    # the deployment's names, shown in messages (the service plan's placeholders)
    company_name: str = "荔枝智慧果园"
    project_name: str = "智慧果园运维服务"
    service_manager: str = "服务经理"
    support_hotline: str = "400-000-0000"
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"

    # knowledge base
    kb_dirs: str = ""  # extra article folders, comma-separated; the shipped KB is always loaded

    # SLA and timings (seconds unless named otherwise)
    sla_policy_file: Path | None = None
    sla_digest_time: str = "08:00"  # daily SLA digest to the managers, site time; "" = off
    weekly_report_cron: str = "mon 08:00"  # weekly summary to the managers; "" = off
    # the service plan's targets, as reports judge them
    target_timeliness: float = 0.98
    target_resolution: float = 0.95
    target_satisfaction: float = 0.90
    target_remote: float = 0.80

    # after the fix, complaints, records (the service plan's promises)
    confirm_auto_hours: float = 48
    followup_delay_hours: float = 24
    followup_reminder_hours: float = 4
    quiet_hours: str = "21:00-08:00"  # site time; follow-ups due then wait for the morning
    complaint_ack_hours: float = 24
    complaint_resolve_working_days: int = 7
    attachment_retention_days: int = 30
    record_retention_days: int = 5 * 365
    max_message_chars: int = 2000
    flood_rate_per_second: float = 1.0  # per person, after a burst of flood_burst messages
    flood_burst: int = 20
    sweep_interval_seconds: float = 2.0  # worst-case timer lag = this + one sweep
    claim_lease_seconds: float = 120  # a replica that died mid-work is taken over after this
    outbox_max_attempts: int = 8
    outbox_retry_base_seconds: float = 2.0
    outbox_retry_max_seconds: float = 600.0

    # Telegram
    telegram_bot_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE_URL")
    )
    telegram_mode: str = "polling"  # polling | webhook
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_webhook_url: str = ""  # public URL Telegram calls (webhook mode)
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    max_photo_bytes: int = 10 * 1024 * 1024
    # Telegram's own limit is about 30 messages/s per bot; a self-hosted Bot API server may
    # allow more (PTB also keeps its 20-per-minute limit for group chats)
    telegram_max_rate: float = 30
    # seconds one Bot API call may take (connect, send the request, wait for the answer);
    # a call that takes longer fails as TimedOut and the outbox retries it with back-off
    telegram_connect_timeout: float = 10
    telegram_write_timeout: float = 10
    telegram_read_timeout: float = 10

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
    wecom_timestamp_window_seconds: int = 300

    def channel_names(self) -> list[str]:
        return [c.strip() for c in self.channels.split(",") if c.strip()]
