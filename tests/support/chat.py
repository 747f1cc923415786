"""Tests that read like chats: `await reporter.says("电磁阀打不开")`, `reporter.last()`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bot.bootstrap import Frontline
from handlers.core.messages import FileRef, Incoming, Kind, Outgoing
from tests.support.fakes import FakeChannel

_update_ids = itertools.count(1)


@dataclass
class ChatUser:
    fl: Frontline
    channel: FakeChannel
    user_id: str

    async def send(self, inc: Incoming) -> list[Outgoing]:
        before = len(self.inbox())
        await self.fl.receive(inc)
        await settle(self.fl)
        return self.inbox()[before:]

    def incoming(self, kind: Kind, **fields: object) -> Incoming:
        return Incoming(channel=self.channel.name, chat_id=self.user_id, user_id=self.user_id,
                        update_id=f"u{next(_update_ids)}", kind=kind, **fields)  # type: ignore[arg-type]

    async def says(self, text: str) -> list[Outgoing]:
        kind = Kind.COMMAND if text.startswith("/") else Kind.TEXT
        return await self.send(self.incoming(kind, text=text))

    async def sends_photo(self, ref: FileRef | None) -> list[Outgoing]:
        return await self.send(self.incoming(Kind.PHOTO, photo=ref))

    async def presses(self, label: str) -> list[Outgoing]:
        """Press the newest button with this label in this chat."""
        return await self.send(self.incoming(Kind.BUTTON, data=self.button(label)))

    async def presses_data(self, data: str) -> list[Outgoing]:
        return await self.send(self.incoming(Kind.BUTTON, data=data))

    def button(self, label: str) -> str:
        for msg in reversed(self.inbox()):
            for row in msg.buttons:
                for b in row:
                    if b.label == label:
                        return b.data
        raise AssertionError(f"no button {label!r} in {self.user_id}'s chat:\n{self.transcript()}")

    def inbox(self) -> list[Outgoing]:
        return self.channel.to(self.user_id)

    def last(self) -> Outgoing:
        inbox = self.inbox()
        assert inbox, f"{self.user_id} received nothing"
        return inbox[-1]

    def heard(self, fragment: str) -> bool:
        return any(fragment in m.text for m in self.inbox())

    def transcript(self) -> str:
        return "\n---\n".join(m.text for m in self.inbox())


async def settle(fl: Frontline) -> None:
    """Let the delivery worker send everything queued and due, and mark it sent."""
    await fl.delivery.flush_all()


def labels(msg: Outgoing) -> list[str]:
    return [b.label for row in msg.buttons for b in row]
