"""The desk's settings: every value a handler reads, its default, its check, and what is
derived from it (the zone, the quiet hours, the SLA policy).

This is the one place these settings and their defaults are written. `bot.settings.Settings`
inherits them (and reads them from FRONTLINE_<NAME>), and bootstrap hands that object to the
desk as `ctx.config`; tests and benches may build `DeskConfig()` directly. A bad value fails
validation with a message that names what is wrong and what would do.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, field_validator

from handlers.core.texts import LANGUAGES
from handlers.rules import devices, inspections, oncall
from handlers.rules.alarms import AlarmRules
from handlers.rules.parts import PartsList, PartsListError
from handlers.rules.sla import SlaPolicy

QUIET_FORMAT = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


class DeskConfig(BaseModel):
    # the deployment's names, shown in messages (the service plan's placeholders)
    company_name: str = "荔枝智慧果园"
    project_name: str = "智慧果园运维服务"
    service_manager: str = "服务经理"
    support_hotline: str = "400-000-0000"
    timezone: str = "Asia/Shanghai"  # site time: deadlines shown, quiet hours, report periods
    default_language: str = "zh"
    max_message_chars: int = Field(2000, gt=0)  # longer descriptions are cut, the reporter told
    # voice messages (Telegram, WeCom): longer or bigger ones are refused with a reply, unkept
    max_voice_seconds: int = Field(300, gt=0)
    max_voice_bytes: int = Field(10 * 1024 * 1024, gt=0)
    # channels whose people come from a company directory (comma-separated): they register
    # without an invitation or a manager's approval; everyone else needs one of the two
    directory_channels: str = "wecom"

    # SLA: a TOML policy (handlers/policies/*.toml); none = the service plan's table
    sla_policy_file: Path | None = None

    # after the fix (the service plan: call back within 24 h; confirm or it is taken as fixed)
    confirm_auto_hours: float = Field(48, ge=0)
    followup_delay_hours: float = Field(24, ge=0)
    followup_reminder_hours: float = Field(4, ge=0)
    quiet_hours: str = "21:00-08:00"  # site time; follow-ups due then wait; "" = none

    # consent to remote work: no answer this long → one reminder; as long again → the
    # engineer is told (the SLA clock runs on unless the policy says consent_pauses)
    consent_reminder_minutes: float = Field(30, gt=0)

    # complaints: acknowledged within 24 h, resolved within 7 working days
    complaint_ack_hours: float = Field(24, ge=0)
    complaint_resolve_working_days: int = Field(7, ge=0)

    # records: diagnosis attachments deleted after close; the record itself kept 5 years
    attachment_retention_days: int = Field(30, ge=0)
    record_retention_years: int = Field(5, ge=1)  # calendar years: leap days included

    # the service plan's targets, as reports judge them (shares, 0–1)
    target_timeliness: float = Field(0.98, ge=0, le=1)
    target_resolution: float = Field(0.95, ge=0, le=1)
    target_satisfaction: float = Field(0.90, ge=0, le=1)
    target_remote: float = Field(0.80, ge=0, le=1)

    # spare parts engineers record at resolution (handlers/policies/parts.toml by default);
    # the managers' fault report waits this long at most for the engineer's answer
    parts_file: Path | None = None
    parts_report_wait_minutes: float = Field(30, ge=0, le=12 * 60)  # the plan: report ≤ 12 h

    # monitoring alarms: rules (handlers/policies/alarms.toml by default), the device
    # registry (TOML or CSV, loaded at start), and the availability target of the plan
    alarm_rules_file: Path | None = None
    devices_file: Path | None = None
    target_availability: float = Field(0.999, ge=0, le=1)

    # the on-call rota per site (handlers/policies/rota.toml is an example); none: engineers'
    # own hours (`Person.rota`) and /duty alone decide who is paged
    rota_file: Path | None = None

    # scheduled inspections (定期巡检): plans in TOML (handlers/policies/inspections.toml is an
    # example); none: no inspections are scheduled
    inspections_file: Path | None = None

    # the policy loaded for (file, zone); a copy with other values loads its own
    _sla: tuple[tuple[Path | None, str], SlaPolicy] | None = PrivateAttr(default=None)
    _alarms: tuple[Path | None, AlarmRules] | None = PrivateAttr(default=None)
    _parts: tuple[Path | None, PartsList] | None = PrivateAttr(default=None)
    _rota: tuple[tuple[Path | None, str], oncall.Rota] | None = PrivateAttr(default=None)
    _plans: tuple[tuple[Path | None, str], inspections.Plans] | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_format(cls, value: str) -> str:
        value = value.strip()
        try:
            parse_quiet_hours(value)
        except ValueError:
            raise ValueError(f"{value!r} is not HH:MM-HH:MM (or empty: no quiet hours)") from None
        return value

    @field_validator("alarm_rules_file", "devices_file", "parts_file", "rota_file",
                     "inspections_file", "sla_policy_file", mode="before")
    @classmethod
    def _no_file(cls, value: object) -> object:
        """An empty environment variable means no file, as leaving it out does."""
        return None if value == "" else value

    @field_validator("alarm_rules_file")
    @classmethod
    def _rules_load(cls, value: Path | None) -> Path | None:
        if value is not None:
            if not value.is_file():
                raise ValueError(f"'{value}' is not a file (alarm rules in TOML)")
            AlarmRules.load(value)  # a ValueError names the line and the reason
        return value

    @field_validator("devices_file")
    @classmethod
    def _devices_load(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                devices.read(value)
            except devices.RegistryError as exc:
                raise ValueError(f"the device registry has problems:\n{exc}") from None
        return value

    @field_validator("parts_file")
    @classmethod
    def _parts_load(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                PartsList.load(value)
            except PartsListError as exc:
                raise ValueError(f"the parts list has problems:\n{exc}") from None
        return value

    @field_validator("rota_file")
    @classmethod
    def _rota_loads(cls, value: Path | None) -> Path | None:
        try:
            oncall.load(value, "UTC")  # the zone only places the times; checked the same
        except oncall.RotaError as exc:
            raise ValueError(f"the rota has problems:\n{exc}") from None
        return value

    @field_validator("inspections_file")
    @classmethod
    def _plans_load(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None:  # sites are checked against the registry validated above
            try:
                inspections.load_all(value, info.data.get("timezone", "UTC"),
                                     info.data.get("devices_file"))
            except inspections.InspectionPlanError as exc:
                raise ValueError(f"the inspection plans have problems:\n{exc}") from None
        return value

    @field_validator("sla_policy_file")
    @classmethod
    def _policy_loads(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"'{value}' is not a file (an SLA policy in TOML)")
        try:
            SlaPolicy.load(value)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # TOMLDecodeError: ValueError
            raise ValueError(f"'{value}' is not a usable SLA policy: {exc}") from None
        return value

    @property
    def directory_channel_names(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.directory_channels.split(",") if c.strip())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def quiet_start(self) -> time | None:
        """When the quiet hours begin (site time); None when there are none."""
        quiet = parse_quiet_hours(self.quiet_hours)
        return quiet[0] if quiet else None

    @property
    def quiet_end(self) -> time | None:
        """When the quiet hours end (site time); None when there are none."""
        quiet = parse_quiet_hours(self.quiet_hours)
        return quiet[1] if quiet else None

    def after_quiet_hours(self, when: datetime) -> datetime:
        """`when`, or the next morning when it falls in the site's quiet hours (default
        21:00–08:00): messages nobody is waiting for do not wake people. No quiet hours
        configured: every moment is fine."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None:
            return when
        local = when.astimezone(self.zone)
        t = local.time()
        quiet = (start <= t or t < end) if start > end else (start <= t < end)
        if not quiet:
            return when
        morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if t >= end:  # evening: the next day's morning
            morning += timedelta(days=1)
        return morning.astimezone(when.tzinfo)

    @property
    def alarm_rules(self) -> AlarmRules:
        """The rules of `alarm_rules_file`, or the shipped ones; loaded once."""
        if self._alarms is None or self._alarms[0] != self.alarm_rules_file:
            self._alarms = (self.alarm_rules_file, AlarmRules.load(self.alarm_rules_file))
        return self._alarms[1]

    @property
    def parts(self) -> PartsList:
        """The parts list of `parts_file`, or the shipped one; loaded once."""
        if self._parts is None or self._parts[0] != self.parts_file:
            self._parts = (self.parts_file, PartsList.load(self.parts_file))
        return self._parts[1]

    @property
    def rota(self) -> oncall.Rota:
        """The site rota of `rota_file` (empty when none is set); loaded once."""
        key = (self.rota_file, self.timezone)
        if self._rota is None or self._rota[0] != key:
            self._rota = (key, oncall.load(*key))
        return self._rota[1]

    @property
    def inspection_plans(self) -> inspections.Plans:
        """The plans of `inspections_file` (none when it is not set); loaded once."""
        key = (self.inspections_file, self.timezone)
        if self._plans is None or self._plans[0] != key:
            self._plans = (key, inspections.load_all(*key, self.devices_file))
        return self._plans[1]

    @property
    def sla(self) -> SlaPolicy:
        """The policy of `sla_policy_file`, or the service plan's table; loaded once."""
        key = (self.sla_policy_file, self.timezone)
        if self._sla is None or self._sla[0] != key:
            self._sla = (key, _policy(*key))
        return self._sla[1]


@lru_cache(maxsize=8)
def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """'21:00-08:00' → (21:00, 08:00); '' → None. Raises ValueError otherwise."""
    if not text.strip():
        return None
    match = QUIET_FORMAT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)  # time() refuses 24:00 or 08:61 with a ValueError


def _policy(path: Path | None, zone: str) -> SlaPolicy:
    if path is not None:
        return SlaPolicy.load(path, zone)
    # the service plan's table, with its working calendar in the site's zone
    text = resources.files("handlers").joinpath("policies/default.toml").read_text("utf-8")
    return SlaPolicy.from_toml(text, zone)
