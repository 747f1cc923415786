"""Plain configuration values the desk needs, built by bot/bootstrap from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from handlers.sla import SlaPolicy


@dataclass(frozen=True)
class DeskConfig:
    company_name: str = "荔枝智慧果园"
    project_name: str = "智慧果园运维服务"
    service_manager: str = "服务经理"
    support_hotline: str = "400-000-0000"
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"
    max_message_chars: int = 2000
    sla: SlaPolicy = field(default_factory=SlaPolicy.default)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
