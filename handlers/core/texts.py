"""The text catalogs: one TOML file per language (texts/zh.toml, texts/en.toml).

Keys are dotted paths into the TOML tables. Field values may be `Lazy` (another catalog
entry, rendered in the recipient's language) or datetimes (shown in the site's zone).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, Protocol
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
TIME_FORMATS = {"zh": "%m月%d日 %H:%M", "en": "%d %b %H:%M"}


class SiteLanguage(Protocol):
    default_language: str
    timezone: str


@dataclass(frozen=True)
class Lazy:
    """A catalog entry used as a field of another: rendered in the recipient's language."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)


def lazy(key: str, **fields: Any) -> Lazy:
    return Lazy(key, fields)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = str(value)
    return out


class Texts:
    def __init__(self, catalogs: dict[str, dict[str, str]], default: str, zone: ZoneInfo) -> None:
        self.catalogs = catalogs
        self.default = default if default in catalogs else LANGUAGES[0]
        self.zone = zone

    @classmethod
    def for_config(cls, config: SiteLanguage) -> Texts:
        """The catalogs in the deployment's default language and zone (a DeskConfig)."""
        return cls.load(config.default_language, config.timezone)

    @classmethod
    def load(cls, default: str, zone: str) -> Texts:
        folder = resources.files("handlers").joinpath("texts")
        catalogs = {
            lang: _flatten(tomllib.loads(folder.joinpath(f"{lang}.toml").read_text("utf-8")))
            for lang in LANGUAGES
        }
        return cls(catalogs, default, ZoneInfo(zone))

    def lang(self, lang: str | None) -> str:
        return lang if lang in self.catalogs else self.default

    def has(self, key: str) -> bool:
        return key in self.catalogs[self.default]

    def section(self, lang: str, prefix: str) -> dict[str, str]:
        cat = self.catalogs[self.lang(lang)]
        head = prefix + "."
        return {k.removeprefix(head): v for k, v in cat.items() if k.startswith(head)}

    def time(self, lang: str, when: datetime) -> str:
        return when.astimezone(self.zone).strftime(TIME_FORMATS[self.lang(lang)])

    def __call__(self, lang: str | None, key: str, **fields: Any) -> str:
        language = self.lang(lang)
        template = self.catalogs[language].get(key) or self.catalogs[self.default].get(key)
        if template is None:
            log.error("missing text %s", key)
            return key
        return template.format(**{k: self._value(language, v) for k, v in fields.items()})

    def _value(self, lang: str, value: Any) -> Any:
        if isinstance(value, Lazy):
            return self(lang, value.key, **value.fields)
        if isinstance(value, datetime):
            return self.time(lang, value)
        if callable(value):  # rendered per recipient, e.g. a ticket's history
            return value(lang)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
