"""Routers: each flow declares the updates and timers it handles; `Routes` assembles them.

In the manner of aiogram: a flow module builds one `Router` and decorates its entry points —

    router = Router("complaints")

    @router.command("complain", "投诉", registered=True)
    async def start(ctx, arg): ...

    @router.dialogue_button(Action.ABOUT, ComplaintState.ABOUT, arg=r"\\d{1,10}")
    async def about(ctx, arg): ...

    @router.ticket_button(Action.URGE, guard=reporter_of_ticket)
    async def urge(ctx, ticket, arg): ...

    @router.timer(Due.ACK)
    async def ack_overdue(ctx, timer): ...

`Routes` (built by `handlers.flows.routes()` in one fixed order) refuses two flows claiming
the same key, so a flow owns its commands, button actions, states and timer kinds alone.
Checks that every flow shares run here once, before the handler: the person's role, the
ticket's existence and lock, the dialogue a button belongs to, the guards a route names.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from handlers.core.context import Ctx
from handlers.core.messages import FileRef
from handlers.core.tokens import MAX_ID
from storage.models import Role, Ticket, Timer

TextHandler = Callable[[Ctx, str], Awaitable[None]]
IdleHandler = Callable[[Ctx, str], Awaitable[bool]]  # True when it took the text
TicketHandler = Callable[[Ctx, Ticket, str], Awaitable[None]]
RecordHandler = Callable[[Ctx, int, str], Awaitable[None]]
DialogueHandler = Callable[[Ctx, str], Awaitable[None]]
PhotoHandler = Callable[[Ctx, FileRef | None], Awaitable[None]]
LocationHandler = Callable[[Ctx, tuple[float, float]], Awaitable[None]]
TicketTimerHandler = Callable[[Ctx, Ticket, Timer], Awaitable[None]]
TimerHandler = Callable[[Ctx, Timer], Awaitable[None]]
Guard = Callable[[Ctx, Ticket], None]  # raises a DeskError when the press is not allowed
# each decorator hands back the function it was given, typed as it was
TextF = TypeVar("TextF", bound=TextHandler)
IdleF = TypeVar("IdleF", bound=IdleHandler)
TicketF = TypeVar("TicketF", bound=TicketHandler)
RecordF = TypeVar("RecordF", bound=RecordHandler)
DialogueF = TypeVar("DialogueF", bound=DialogueHandler)
PhotoF = TypeVar("PhotoF", bound=PhotoHandler)
LocationF = TypeVar("LocationF", bound=LocationHandler)
TicketTimerF = TypeVar("TicketTimerF", bound=TicketTimerHandler)
TimerF = TypeVar("TimerF", bound=TimerHandler)
EntryF = TypeVar("EntryF", bound=Callable[..., Awaitable[None]])

TICKET_SCOPE = "t"  # ref = ticket id: loaded and locked before the handler
DIALOGUE_SCOPE = "i"  # ref = the dialogue's nonce: must be the person's current dialogue


class RouteConflict(ValueError):
    """Two routers claim the same command, action, state or timer kind."""


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    handler: TextHandler
    roles: tuple[Role, ...] = ()  # empty: anyone (strangers too, unless `registered`)
    registered: bool = False  # a stranger is asked to register first
    private: bool = True  # in a group chat: "message me privately" instead


@dataclass(frozen=True)
class Words:
    handler: TextHandler
    private: bool = True


@dataclass(frozen=True)
class ButtonRoute:
    scope: str
    action: str
    handler: Callable[..., Awaitable[None]]
    arg: re.Pattern[str] | None = None  # the argument's shape, when the action takes one
    states: frozenset[str] = frozenset()  # dialogue buttons: the states they belong to
    roles: tuple[Role, ...] = ()
    guards: tuple[Guard, ...] = ()
    legacy: re.Pattern[str] | None = None  # an action string issued before tokens had args
    legacy_arg: str = "{}"  # how its captured group becomes today's argument

    def accepts(self, arg: str) -> bool:
        if self.arg is None:
            return arg == ""
        if arg.isdigit() and int(arg) > MAX_ID:
            return False  # no record has such an id: never ask the database
        return bool(self.arg.fullmatch(arg))


@dataclass(frozen=True)
class TimerRoute:
    kind: str
    handler: Callable[..., Awaitable[None]]
    ticket: bool = True  # the timer names a ticket, loaded before the handler
    only_open: bool = False  # …and fires only while the job is open


@dataclass
class Router:
    """One flow's entry points. Nothing here runs until `Routes` assembles the routers."""

    name: str
    commands: list[Command] = field(default_factory=list)
    words: dict[str, Words] = field(default_factory=dict)
    buttons: list[ButtonRoute] = field(default_factory=list)
    texts: dict[str, TextHandler] = field(default_factory=dict)
    idle: list[IdleHandler] = field(default_factory=list)
    photos: dict[str, PhotoHandler] = field(default_factory=dict)  # state ("" = any other)
    locations: dict[str, LocationHandler] = field(default_factory=dict)
    timers: list[TimerRoute] = field(default_factory=list)
    cancels: dict[str, str] = field(default_factory=dict)  # state → reply text key
    entries: dict[str, Callable[..., Awaitable[None]]] = field(default_factory=dict)

    def command(
        self, *names: str, roles: Iterable[Role] = (), registered: bool = False,
        private: bool = True,
    ) -> Callable[[TextF], TextF]:
        """`/name arg` (any of the names); the handler gets the argument text. A command is
        personal unless it says `private=False`: in a group chat it answers "message me
        privately" (what it shows or asks is nobody else's business)."""
        def add(fn: TextF) -> TextF:
            self.commands.append(Command(tuple(n.lower() for n in names), fn, tuple(roles),
                                         registered, private))
            return fn
        return add

    def on_words(self, *words: str, private: bool = True) -> Callable[[TextF], TextF]:
        """Plain text that is a command in words (催单, 我的工单): any state, registered only;
        personal (private chats only) unless `private=False`."""
        def add(fn: TextF) -> TextF:
            for w in words:
                self.words[w.lower()] = Words(fn, private)
            return fn
        return add

    def ticket_button(
        self, action: StrEnum, *, arg: str | None = None, roles: Iterable[Role] = (),
        guards: Iterable[Guard] = (), legacy: str | None = None, legacy_arg: str = "{}",
    ) -> Callable[[TicketF], TicketF]:
        """A button on a ticket (`t:<id>:<action>[:<arg>]`); the ticket comes locked, and each
        guard has approved the press before the handler runs."""
        def add(fn: TicketF) -> TicketF:
            self._button(TICKET_SCOPE, action, fn, arg, (), roles, guards, legacy, legacy_arg)
            return fn
        return add

    def dialogue_button(
        self, action: StrEnum, *states: StrEnum, arg: str | None = None,
        legacy: str | None = None, legacy_arg: str = "{}",
    ) -> Callable[[DialogueF], DialogueF]:
        """A choice inside one dialogue (`i:<nonce>:<action>[:<arg>]`), valid only while the
        person is still in that dialogue, in one of `states`."""
        def add(fn: DialogueF) -> DialogueF:
            self._button(DIALOGUE_SCOPE, action, fn, arg, states, (), (), legacy, legacy_arg)
            return fn
        return add

    def record_button(
        self, scope: str, action: StrEnum, *, roles: Iterable[Role] = (),
        arg: str | None = None,
    ) -> Callable[[RecordF], RecordF]:
        """A button on one of this flow's own records (`<scope>:<id>:<action>[:<arg>]`)."""
        def add(fn: RecordF) -> RecordF:
            self._button(scope, action, fn, arg, (), roles, (), None)
            return fn
        return add

    def _button(
        self, scope: str, action: StrEnum, fn: Callable[..., Awaitable[None]], arg: str | None,
        states: Iterable[StrEnum], roles: Iterable[Role], guards: Iterable[Guard],
        legacy: str | None, legacy_arg: str = "{}",
    ) -> None:
        self.buttons.append(ButtonRoute(
            scope, str(action), fn, re.compile(arg) if arg else None,
            frozenset(str(s) for s in states), tuple(roles), tuple(guards),
            re.compile(legacy) if legacy else None, legacy_arg,
        ))

    def text(self, *states: StrEnum) -> Callable[[TextF], TextF]:
        """Text typed while the person is in one of these states."""
        def add(fn: TextF) -> TextF:
            for s in states:
                self.texts[str(s)] = fn
            return fn
        return add

    def idle_text(self, fn: IdleF) -> IdleF:
        """Text in no dialogue: tried in router order until one takes it."""
        self.idle.append(fn)
        return fn

    def photo(self, *states: StrEnum) -> Callable[[PhotoF], PhotoF]:
        def add(fn: PhotoF) -> PhotoF:
            for s in states or ("",):
                self.photos[str(s)] = fn
            return fn
        return add

    def location(self, *states: StrEnum) -> Callable[[LocationF], LocationF]:
        def add(fn: LocationF) -> LocationF:
            for s in states or ("",):
                self.locations[str(s)] = fn
            return fn
        return add

    def ticket_timer(
        self, kind: StrEnum, *, only_open: bool = False
    ) -> Callable[[TicketTimerF], TicketTimerF]:
        def add(fn: TicketTimerF) -> TicketTimerF:
            self.timers.append(TimerRoute(str(kind), fn, ticket=True, only_open=only_open))
            return fn
        return add

    def timer(self, kind: StrEnum) -> Callable[[TimerF], TimerF]:
        """A timer that names no ticket (its payload says what it is about)."""
        def add(fn: TimerF) -> TimerF:
            self.timers.append(TimerRoute(str(kind), fn, ticket=False))
            return fn
        return add

    def cancellable(self, states: Iterable[StrEnum], reply: str) -> None:
        """`/cancel` in one of these states ends the dialogue with this reply."""
        for s in states:
            self.cancels[str(s)] = reply

    def entry(self, name: str) -> Callable[[EntryF], EntryF]:
        """A core entry point: `join` (someone opened the chat, or a stranger must register),
        `stranger` (a stranger's text), `contact` (a shared phone number)."""
        def add(fn: EntryF) -> EntryF:
            self.entries[name] = fn
            return fn
        return add


@dataclass
class Routes:
    """Every router's routes in one place, in the routers' order; built once at start."""

    commands: dict[str, Command] = field(default_factory=dict)
    words: dict[str, Words] = field(default_factory=dict)
    buttons: dict[tuple[str, str], ButtonRoute] = field(default_factory=dict)
    legacy: list[ButtonRoute] = field(default_factory=list)
    texts: dict[str, TextHandler] = field(default_factory=dict)
    idle: list[IdleHandler] = field(default_factory=list)
    photos: dict[str, PhotoHandler] = field(default_factory=dict)
    locations: dict[str, LocationHandler] = field(default_factory=dict)
    timers: dict[str, TimerRoute] = field(default_factory=dict)
    cancels: dict[str, str] = field(default_factory=dict)
    entries: dict[str, Callable[..., Awaitable[None]]] = field(default_factory=dict)

    @classmethod
    def assemble(cls, routers: Iterable[Router]) -> Routes:
        routes = cls()
        for r in routers:
            for c in r.commands:
                for name in c.names:
                    _claim(routes.commands, name, c, r.name, "command")
            for w, fn in r.words.items():
                _claim(routes.words, w, fn, r.name, "words")
            for b in r.buttons:
                _claim(routes.buttons, (b.scope, b.action), b, r.name, "button")
                if b.legacy is not None:
                    routes.legacy.append(b)
            for table, mine, what in (
                (routes.texts, r.texts, "text state"), (routes.photos, r.photos, "photo state"),
                (routes.locations, r.locations, "location state"),
                (routes.cancels, r.cancels, "cancel state"), (routes.entries, r.entries, "entry"),
            ):
                for key, value in mine.items():
                    if not key and key in table:
                        continue  # the first router's catch-all wins
                    _claim(table, key, value, r.name, what)
            for t in r.timers:
                _claim(routes.timers, t.kind, t, r.name, "timer kind")
            routes.idle.extend(r.idle)
        return routes

    def button(self, scope: str, action: str, arg: str) -> tuple[ButtonRoute, str] | None:
        """The route for a pressed token and its argument; None when we never issued it."""
        route = self.buttons.get((scope, action))
        if route is not None:
            return (route, arg) if route.accepts(arg) else None
        if arg:
            return None
        for old in self.legacy:
            m = old.legacy.fullmatch(action) if old.scope == scope and old.legacy else None
            if m is not None:
                value = old.legacy_arg.format(*m.groups())
                return (old, value) if old.accepts(value) else None
        return None


def _claim(table: dict[Any, Any], key: Any, value: Any, owner: str, what: str) -> None:
    if key in table:
        raise RouteConflict(f"{owner}: {what} {key!r} is already routed")
    table[key] = value
