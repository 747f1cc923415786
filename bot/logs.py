"""Logging set-up: plain text for people, or one JSON object a line for log collectors.

Handlers log ids only (ticket numbers, update ids, channel names), never message text or
names, so either format is free of personal data beyond ids.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

QUIET = ("alembic", "apscheduler", "aiohttp.access", "httpx", "jieba")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in QUIET:  # a line for every tick or request would drown the rest
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
