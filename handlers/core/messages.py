"""Platform-neutral messages: what adapters hand in (Incoming) and what handlers emit (Outgoing).

Adapters translate platform updates into `Incoming` and deliver `Outgoing`; nothing in
handlers/ knows which platform a message came from beyond the opaque channel name.
`Outgoing` round-trips through JSON because it waits in the outbox table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"  # text starting with "/": text holds the whole line
    BUTTON = "button"  # an inline button press: `data` holds the opaque token
    PHOTO = "photo"
    LOCATION = "location"
    CONTACT = "contact"  # a shared phone number
    JOIN = "join"  # the person opened the chat (WeCom enter_agent, web chat first visit)
    UNSUPPORTED = "unsupported"  # stickers, voice, files … anything we cannot read


@dataclass(frozen=True)
class FileRef:
    """A file kept by the desk (a photo, a report); `key` is where storage can find it."""

    key: str
    name: str = ""
    mime: str = "application/octet-stream"
    size: int = 0


@dataclass(frozen=True)
class Incoming:
    channel: str  # "web", "telegram", "wecom", "fake" …
    chat_id: str  # where replies go
    user_id: str  # who wrote (external id on that channel)
    update_id: str  # unique per channel: the same update twice is handled once
    kind: Kind = Kind.TEXT
    text: str = ""
    data: str = ""  # button token, e.g. "t:12:ack"
    user_name: str = ""  # display name the platform gives, a hint for registration
    photo: FileRef | None = None
    location: tuple[float, float] | None = None
    phone: str = ""
    raw_kind: str = ""  # the platform's own name for unsupported content (for logs)
    private: bool = True  # a one-to-one chat with the bot (False: a group chat)
    bot_link: str = ""  # where a person opens a private chat with the bot, if the platform
    # has such links (Telegram: https://t.me/<bot>; `?start=<code>` hands /start a code)


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # opaque token, at most 64 bytes (Telegram's limit)


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Outgoing:
    """One message to one chat.

    `key` is unique and stable (the outbox dedup key): delivering twice is harmless.
    When `edits` names the key of an earlier message, this replaces that message's text
    and buttons instead of sending a new one (e.g. an engineer's page after Accept, so
    stale buttons disappear).
    """

    channel: str
    chat_id: str
    text: str
    key: str
    buttons: Keyboard = ()
    edits: str | None = None
    files: tuple[FileRef, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "chat_id": self.chat_id,
            "text": self.text,
            "key": self.key,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "edits": self.edits,
            "files": [[f.key, f.name, f.mime, f.size] for f in self.files],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Outgoing:
        return cls(
            channel=d["channel"],
            chat_id=d["chat_id"],
            text=d["text"],
            key=d["key"],
            buttons=tuple(tuple(Button(lbl, data) for lbl, data in row) for row in d["buttons"]),
            edits=d.get("edits"),
            files=tuple(FileRef(*f) for f in d.get("files", [])),
        )
