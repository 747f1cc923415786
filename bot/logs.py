"""Logging set-up: plain text for people, or one JSON object a line for log collectors.

Handlers log ids only (ticket numbers, update ids, channel names), never message text or
names, so either format is free of personal data beyond ids. The ids bound where a line was
logged (handlers/logctx.py: update, ticket, timer, outbox) are JSON fields, or appended to a
text line as `[ticket=FL-000001 update=telegram:5]`.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import IO

from handlers.core import logctx
from handlers.core.escape import visible

# a line for every tick or request would drown the rest; at DEBUG, aiosqlite and PTB would
# log statement parameters and whole updates (message text, names): personal data
QUIET = ("alembic", "apscheduler", "aiohttp.access", "httpx", "httpcore", "jieba", "aiosqlite",
         "telegram")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in sorted(logctx.ids_of(record).items()):
            entry.setdefault(key, value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line a record (a traceback follows on its own lines). The message and the ids are
    escaped as JSON would escape them (`\\n`, `\\x1b`): a value someone sent (a web chat
    frame id with a newline) can never start a line of its own that looks like another
    record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = copy.copy(record)
        safe.message = visible(record.message)
        return super().formatMessage(safe)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = logctx.ids_of(record)
        if not ids:
            return line
        tail = " ".join(f"{k}={visible(str(v))}" for k, v in sorted(ids.items()))
        head, sep, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} [{tail}]{sep}{rest}"


def configure(fmt: str = "text", level: str = "INFO", stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    handler.addFilter(logctx.ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
