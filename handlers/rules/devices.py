"""The device registry as the orchard keeps it: TOML (`[[device]]` tables) or CSV (a header
row), read into rows and checked (handlers/flows/alarms/registry.py stores them).

    id, name, type, site, plot, parent, category, heartbeat_minutes

`id` is the id monitoring uses; `parent` is the gateway or controller the device talks
through (an alarm storm behind a dead gateway becomes one incident); `heartbeat_minutes`
asks the desk to raise "device silent" when nothing is heard for that long. A bad file is
refused whole, with the file, line and reason of each problem.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("id", "name", "type", "site", "plot", "parent", "category", "heartbeat_minutes")
MAX_HEARTBEAT = 7 * 24 * 60  # a week
# the Device table's column widths: longer values are cut, never refused by the database
TEXT_MAX = {"name": 200, "type": 60, "site": 100, "plot": 100, "parent": 120,
            "category": 40}


@dataclass(frozen=True)
class DeviceRow:
    id: str
    name: str = ""
    type: str = ""
    site: str = ""
    plot: str = ""
    parent: str = ""
    category: str = ""
    heartbeat_minutes: int | None = None


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class RegistryError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def read(path: Path) -> list[DeviceRow]:
    """The rows of a registry file; RegistryError lists every problem found."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError([Problem(str(path), 0, f"cannot read it: {exc}")]) from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    if path.suffix.lower() == ".toml":
        return parse_toml(text, str(path))
    raise RegistryError([Problem(str(path), 0, "use a .toml or .csv file")])


def parse_csv(text: str, name: str) -> list[DeviceRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [Problem(name, 1, f"unknown column {h!r}; columns: {', '.join(COLUMNS)}")
                for h in header if h not in COLUMNS]
    if "id" not in header:
        problems.append(Problem(name, 1, "the header has no 'id' column"))
    if problems:
        raise RegistryError(problems)
    raw = [(reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in rec.items()})
           for rec in reader]
    return _checked(raw, name)


def parse_toml(text: str, name: str) -> list[DeviceRow]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError([Problem(name, getattr(exc, "lineno", 0), str(exc))]) from None
    tables = data.get("device", [])
    if not isinstance(tables, list):
        raise RegistryError([Problem(name, 0, "devices are [[device]] tables")])
    lines = _table_lines(text)
    raw = []
    for i, table in enumerate(tables):
        line = lines[i] if i < len(lines) else 0
        unknown = [k for k in table if k not in COLUMNS]
        if unknown:
            raise RegistryError([Problem(name, line, f"unknown key {unknown[0]!r}; keys: "
                                         f"{', '.join(COLUMNS)}")])
        raw.append((line, {k: "" if v is None else str(v) for k, v in table.items()}))
    return _checked(raw, name)


def _table_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1)
            if line.strip().startswith("[[device]]")]


def _checked(raw: Iterable[tuple[int, dict[str, str]]], name: str) -> list[DeviceRow]:
    rows: list[DeviceRow] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line, rec in raw:
        ident = rec.get("id", "").strip()
        if not ident or len(ident) > 120 or not ident.isprintable():
            problems.append(Problem(name, line, "every device needs an id (printable, ≤ 120 "
                                    "characters)"))
            continue
        if ident in seen:
            problems.append(Problem(name, line, f"device {ident!r} is listed twice (first on "
                                    f"line {seen[ident]})"))
            continue
        seen[ident] = line
        beat = rec.get("heartbeat_minutes", "").strip()
        minutes: int | None = None
        if beat:
            if not beat.isdigit() or not 1 <= int(beat) <= MAX_HEARTBEAT:
                problems.append(Problem(name, line, f"heartbeat_minutes {beat!r}: a whole number "
                                        f"of minutes from 1 to {MAX_HEARTBEAT}"))
                continue
            minutes = int(beat)
        text = {k: rec.get(k, "").strip()[:TEXT_MAX[k]] for k in COLUMNS[1:7]}
        rows.append(DeviceRow(id=ident, heartbeat_minutes=minutes, **text))
    problems += _parent_problems(rows, seen, name)
    if problems:
        raise RegistryError(problems)
    return rows


def _parent_problems(rows: list[DeviceRow], lines: dict[str, int], name: str) -> list[Problem]:
    parent = {r.id: r.parent for r in rows}
    out = []
    for r in rows:
        if r.parent and r.parent not in parent:
            out.append(Problem(name, lines[r.id], f"parent {r.parent!r} of {r.id!r} is not in "
                               "the registry"))
            continue
        walk, node = {r.id}, r.parent
        while node:
            if node in walk:
                out.append(Problem(name, lines[r.id], f"{r.id!r} is behind itself (a loop of "
                                   "parents)"))
                break
            walk.add(node)
            node = parent.get(node, "")
    return out
