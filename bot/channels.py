"""The channel port: what the delivery worker needs from a chat platform adapter.

Exception tree (delivery only):

    DeliveryError            a send failed; retry later (retry_after seconds if the platform said)
    └── RecipientUnreachable the person blocked the bot or left: never retry, mark the identity
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from handlers.core.messages import Incoming, Outgoing

# What an adapter calls with every update it receives: dispatch + delivery kick.
Receive = Callable[[Incoming], Awaitable[None]]


class DeliveryError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RecipientUnreachable(DeliveryError):
    pass


class Channel(Protocol):
    """An outgoing side of a chat platform."""

    name: str

    async def send(self, out: Outgoing) -> str | None:
        """Deliver a new message; return the platform's message id (needed to edit it later)."""
        ...

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        """Replace text and buttons of a message sent earlier (`out.edits` named it)."""
        ...


class Adapter(Channel, Protocol):
    """A whole chat platform adapter: outgoing side plus its own lifecycle.

    `attach` adds the adapter's routes (webhooks, web chat) to the shared aiohttp app before
    it starts; `start` begins receiving (long polling, token warm-up …); `stop` ends it.
    `status` is a short word for /healthz ("ok", "starting", "error: …").
    """

    def attach(self, app: web.Application) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> str: ...
