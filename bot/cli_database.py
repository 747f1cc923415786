"""Which database a `frontline` command opens, said in one line on stderr before it opens it.

FRONTLINE_DATABASE_URL (environment or .env) decides when it is set. When it is not, the
default ./frontline.db is used if it holds frontline's tables; if it does not — the usual case
beside a running `make demo`, whose database is frontline-demo.db — the demo's database is
used instead, from this folder or from the checkout. A command that only reads never creates
a database: finding none is one line naming what was looked for and how to choose another.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEMO_DB = "frontline-demo.db"  # `frontline demo --db`'s default (bot/cli.py), `make demo`
CHECKOUT = Path(__file__).resolve().parents[1]
TABLE = "ticket"  # a database without it has not been through `frontline db upgrade`
CHOOSE = "set FRONTLINE_DATABASE_URL to choose one"


class NoDatabase(Exception):
    """No usable database; the message is the one line to print."""


@dataclass(frozen=True)
class Choice:
    url: str
    why: str  # how it was chosen, for the line on stderr

    def line(self) -> str:
        return f"frontline: database {shown(self.url)} ({self.why})"


def shown(url: str) -> str:
    """The URL without its password; a SQLite URL as its absolute file path."""
    path = sqlite_path(url)
    if path is not None:
        return str(path.absolute())
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable FRONTLINE_DATABASE_URL)"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def has_tables(path: Path) -> bool:
    """Whether this SQLite file exists and holds frontline's tables (opened read-only, so a
    missing file is not created)."""
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (TABLE,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def choose(url: str, *, configured: bool, mode: str = "read",
           cwd: Path | None = None) -> Choice:
    """The database to open. `configured`: FRONTLINE_DATABASE_URL was set. `mode`: "read"
    (look for the demo's when the default has no tables; none found is an error), "write"
    (the same, but with none found the default is made) or "own" (`db upgrade`, backups:
    exactly the configured or default one)."""
    path = sqlite_path(url)
    if mode == "own" or path is None or has_tables(path):
        return Choice(url, "FRONTLINE_DATABASE_URL" if configured else "the default")
    if configured:
        if mode == "write":
            return Choice(url, "FRONTLINE_DATABASE_URL")
        raise NoDatabase(f"frontline: FRONTLINE_DATABASE_URL names {path.absolute()}, which "
                         f"{_state(path)}; run `frontline db upgrade` or {CHOOSE}")
    for demo in _demo_files(cwd or Path.cwd()):
        if has_tables(demo):
            return Choice(f"sqlite+aiosqlite:///{demo.absolute()}",
                          f"the demo's: FRONTLINE_DATABASE_URL is not set and {path} "
                          f"{_state(path)}")
    if mode == "write":
        return Choice(url, "the default; FRONTLINE_DATABASE_URL is not set")
    raise NoDatabase(f"frontline: no database to read: FRONTLINE_DATABASE_URL is not set, "
                     f"{path.absolute()} {_state(path)} and there is no demo database "
                     f"({DEMO_DB}); run `make demo` or `frontline db upgrade`, or {CHOOSE}")


def _demo_files(cwd: Path) -> list[Path]:
    here, checkout = cwd / DEMO_DB, CHECKOUT / DEMO_DB
    return [here] if here.resolve() == checkout.resolve() else [here, checkout]


def _state(path: Path) -> str:
    return "has no frontline tables" if path.is_file() else "does not exist"
