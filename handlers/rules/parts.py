"""The spare parts the orchard keeps (备品备件), as data: `[[part]]` tables of code, name_zh,
name_en, unit and optionally category and aliases (handlers/policies/parts.toml, or the
deployment's `parts_file`). A bad file is refused whole, with file:line: reason for each
problem, so a typo never reaches an engineer's buttons.

`PartsList.find` is what a typed name meets: an exact code, name or alias first, else the
closest names (rapidfuzz), best first.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, utils

from handlers.core.inputs import name_key, one_line
from handlers.rules.devices import Problem
from handlers.rules.faults import CATEGORIES
from kb.normalise import to_simplified

KEYS = ("code", "name_zh", "name_en", "unit", "category", "aliases")
UNITS = ("pcs", "m", "set", "roll", "box", "pair")
CODE = re.compile(r"[A-Za-z0-9_]{1,20}")  # it rides in a button token's argument
NAME_MAX = 60  # the PartUsage columns' width
MIN_SCORE = 75  # below this a typed word names no part ("abc" scores 72 against "24 v ac")
SHOWN = "default parts list"


@dataclass(frozen=True)
class Part:
    code: str
    name_zh: str
    name_en: str
    unit: str
    category: str = ""
    aliases: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class PartsListError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class PartsList:
    parts: tuple[Part, ...]
    _by_key: dict[str, Part] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for p in reversed(self.parts):  # an alias two parts share names neither exactly
            for word in (p.code, p.name_zh, p.name_en, *p.aliases):
                self._by_key[name_key(to_simplified(word))] = p
        shared = [w for w in {a for p in self.parts for a in p.aliases}
                  if sum(w in p.aliases for p in self.parts) > 1]
        for w in shared:
            self._by_key.pop(name_key(to_simplified(w)), None)

    def get(self, code: str) -> Part | None:
        return next((p for p in self.parts if p.code == code), None)

    def exact(self, text: str) -> Part | None:
        """The part whose code, name or (unshared) alias this is, spelled any way."""
        return self._by_key.get(name_key(to_simplified(text)))

    def find(self, text: str, limit: int = 5) -> list[Part]:
        """The parts a typed word may mean, best first (none when nothing is close)."""
        query = _fuzzy_form(text)
        if not query:
            return []
        scored = []
        for p in self.parts:
            # WRatio finds a word inside a name; plain ratio then prefers the closer name
            # ("滴灌管": the pipe before the pipe connector)
            score = max((fuzz.WRatio(query, form, processor=None),
                         fuzz.ratio(query, form, processor=None))
                        for form in map(_fuzzy_form, (p.code, p.name_zh, p.name_en, *p.aliases)))
            if score[0] >= MIN_SCORE:
                scored.append((score, p))
        scored.sort(key=lambda sp: (-sp[0][0], -sp[0][1]))  # stable: ties keep the list order
        return [p for _, p in scored[:limit]]

    @classmethod
    def load(cls, path: Path | None = None) -> PartsList:
        """The list in `path`, or the shipped one; PartsListError names every problem."""
        if path is None:
            text = resources.files("handlers").joinpath("policies/parts.toml").read_text("utf-8")
            return cls.from_toml(text, SHOWN)
        try:
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PartsListError([Problem(str(path), 0, f"cannot read it: {exc}")]) from None
        return cls.from_toml(text, str(path))

    @classmethod
    def from_toml(cls, text: str, name: str) -> PartsList:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # "… (at line 2, column 10)" before 3.14
            at = re.search(r"at line (\d+)", str(exc))
            line = getattr(exc, "lineno", None) or (int(at[1]) if at else 0)
            raise PartsListError([Problem(name, line, str(exc))]) from None
        tables = data.get("part", [])
        unknown_top = [k for k in data if k != "part"]
        if not isinstance(tables, list) or unknown_top:
            raise PartsListError([Problem(name, 0, "parts are [[part]] tables (and nothing "
                                          "else)")])
        lines = [n for n, line in enumerate(text.splitlines(), start=1)
                 if line.strip().startswith("[[part]]")]
        parts: list[Part] = []
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for i, table in enumerate(tables):
            line = lines[i] if i < len(lines) else 0
            try:
                part = _part(table)
            except ValueError as exc:
                problems.append(Problem(name, line, str(exc)))
                continue
            if part.code in seen:
                problems.append(Problem(name, line, f"code {part.code!r} is listed twice "
                                        f"(first on line {seen[part.code]})"))
                continue
            seen[part.code] = line
            parts.append(part)
        if problems:
            raise PartsListError(problems)
        return cls(tuple(parts))


def _part(table: dict[str, Any]) -> Part:
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; keys: {', '.join(KEYS)}")
    code = table.get("code")
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise ValueError(f"code {code!r}: letters, digits and _ only, 1 to 20 of them")
    names = {k: _name(table.get(k), k, code) for k in ("name_zh", "name_en")}
    unit = table.get("unit")
    if unit not in UNITS:
        raise ValueError(f"{code}: unit {unit!r} is not one of {', '.join(UNITS)}")
    category = table.get("category", "")
    if category and category not in CATEGORIES:
        raise ValueError(f"{code}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    aliases = table.get("aliases", [])
    if not isinstance(aliases, list):
        raise ValueError(f"{code}: aliases is a list of words, e.g. [\"阀门\"]")
    words = tuple(_name(a, "an alias", code) for a in aliases)
    return Part(code, names["name_zh"], names["name_en"], str(unit), str(category), words)


def _name(value: object, key: str, code: str) -> str:
    text = one_line(value) if isinstance(value, str) else None
    if not text or len(text) > NAME_MAX:
        raise ValueError(f"{code}: {key} must be one line of 1 to {NAME_MAX} characters")
    return text


def _fuzzy_form(text: str) -> str:
    """Full-width folded, traditional → simplified, lower case, punctuation as spaces."""
    return str(utils.default_process(to_simplified(unicodedata.normalize("NFKC", text))))
