"""Log context: the ids of what is being worked on, carried by every log line meanwhile.

One context variable holds a small mapping (`update`, `ticket`, `timer`, `outbox` …). asyncio
copies the context into each task, so concurrent updates never see each other's ids.

- `bind(**ids)` — a scope (`with`): the ids hold inside it and are undone after it, together
  with anything `set` inside it.
- `binds(**getters)` — the same as a decorator, the ids taken from the call's arguments:
  `@binds(timer="timer_id")` or `@binds(update=lambda a: f"{a['inc'].channel}:…")`.
- `set(**ids)` — add ids to the current scope (e.g. the ticket, once a step has loaded it).
- `ContextFilter` puts them on each log record as `record.ids` (bot/logs.py prints them).

Only ids go here (ticket numbers, update ids, timer and outbox row ids): never names, phone
numbers or message text.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, TypeVar

from storage.tickets import number

F = TypeVar("F", bound=Callable[..., Any])
Getter = str | Callable[[Mapping[str, Any]], object]

_NONE: Mapping[str, str] = MappingProxyType({})
_ids: ContextVar[Mapping[str, str]] = ContextVar("frontline_log_ids", default=_NONE)


def current() -> dict[str, str]:
    """The ids bound now (a copy)."""
    return dict(_ids.get())


def _clean(ids: Mapping[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in ids.items() if v is not None and v != ""}


def set(**ids: object) -> None:
    """Add ids to the current scope; the enclosing `bind` undoes them."""
    _ids.set({**_ids.get(), **_clean(ids)})


def ticket(ticket_id: int | None) -> None:
    """The ticket a step works on, as people know it (FL-000001)."""
    if ticket_id:
        set(ticket=number(ticket_id))


@contextmanager
def bind(**ids: object) -> Iterator[None]:
    token = _ids.set({**_ids.get(), **_clean(ids)})
    try:
        yield
    finally:
        _ids.reset(token)


def binds(**getters: Getter) -> Callable[[F], F]:
    """Decorate a coroutine function: its run is a `bind` scope with ids from its arguments.

    A getter is an argument's name, or a function of the call's arguments by name.
    """

    def decorate(fn: F) -> F:
        names = list(inspect.signature(fn).parameters)  # Signature.bind is slow per call

        def ids_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, object]:
            try:
                named = dict(zip(names, args, strict=False)) | kwargs
                return {k: named[g] if isinstance(g, str) else g(named)
                        for k, g in getters.items()}
            except Exception:  # logging context must never break the work itself
                return {}

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with bind(**ids_of(args, kwargs)):
                return await fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class ContextFilter(logging.Filter):
    """Stamps each record with the ids bound where it was logged (`record.ids`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "ids"):
            record.ids = current()
        return True


def ids_of(record: logging.LogRecord) -> dict[str, str]:
    """A record's ids: stamped by ContextFilter, else those bound now (formatting happens
    where the line was logged unless a handler queues records)."""
    ids = getattr(record, "ids", None)
    return dict(ids) if isinstance(ids, dict) else current()
