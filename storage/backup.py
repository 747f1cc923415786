"""Backups: SQLite with its online backup API (safe while the bot runs); PostgreSQL with
pg_dump / pg_restore (custom format). Restore needs the bot stopped."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory database has nothing to back up")
    return Path(database)


def libpq_url(url: str) -> str:
    """postgresql+asyncpg://… → postgresql://… for the PostgreSQL command-line tools."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)  # page by page, consistent even while others write
    target.close()
    source.close()


def backup(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        _copy(sqlite_path(url), dest)
        return
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest}", libpq_url(url)])


def restore(url: str, src: Path) -> None:
    if not src.exists():
        raise FileNotFoundError(src)
    if url.startswith("sqlite"):
        _copy(src, sqlite_path(url))
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={libpq_url(url)}",
          str(src)])


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise RuntimeError(f"{command[0]} is not installed (Debian: postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")
