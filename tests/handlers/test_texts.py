"""The catalogs: one per language, the same keys and placeholders in each."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

from handlers.core.config import DeskConfig
from handlers.core.texts import Texts, _flatten

TEXTS = Path(__file__).parents[2] / "handlers" / "texts"


def catalog(lang: str) -> dict[str, str]:
    return _flatten(tomllib.loads((TEXTS / f"{lang}.toml").read_text("utf-8")))


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_both_catalogs_have_the_same_keys():
    assert set(catalog("zh")) == set(catalog("en"))


def test_both_catalogs_use_the_same_placeholders():
    zh, en = catalog("zh"), catalog("en")
    assert {k: fields(v) for k, v in zh.items()} == {k: fields(v) for k, v in en.items()}


def test_every_text_key_used_in_handlers_exists():
    import re

    used = set()
    paths = list((Path(__file__).parents[2] / "handlers").rglob("*.py"))
    assert len(paths) > 40  # the flows live in sub-packages: all of them are read
    for path in paths:
        used |= set(re.findall(r'"((?:error|ticket|manager|engineer|reporter|intake|selfservice|'
                               r'registration|command|status|photo|location|button|complaint|'
                               r'drafts|followup|expert|report|reporting|board)\.[a-z_.]+)"',
                               path.read_text("utf-8")))
    missing = {k for k in used if k not in catalog("zh") and not k.endswith((".", "_"))}
    assert missing == set()


def test_a_missing_language_falls_back_to_the_default():
    texts = Texts.for_config(DeskConfig())
    assert texts("fr", "button.accept") == "接单"
    assert texts("en", "button.accept") == "Accept"
