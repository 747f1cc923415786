"""Plain configuration values the desk needs, built by bot/bootstrap from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from handlers.rules.sla import SlaPolicy


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
    # after the fix (the service plan: call back within 24 h; confirm or it is taken as fixed)
    confirm_auto_hours: float = 48
    followup_delay_hours: float = 24
    followup_reminder_hours: float = 4
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # complaints: acknowledged within 24 h, resolved within 7 working days
    complaint_ack_hours: float = 24
    complaint_resolve_working_days: int = 7
    # records: diagnosis attachments deleted after close; the record itself kept 5 years
    attachment_retention_days: int = 30
    record_retention_days: int = 5 * 365
    # the service plan's targets (reports)
    target_timeliness: float = 0.98
    target_resolution: float = 0.95
    target_satisfaction: float = 0.90
    target_remote: float = 0.80

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
