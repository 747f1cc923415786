"""Platform-neutral messages: what adapters hand in (Incoming) and what handlers emit (Outgoing).

Adapters translate platform updates into `Incoming` and deliver `Outgoing`; nothing in
handlers/ knows which platform a message came from beyond the opaque channel name.
`Outgoing` round-trips through JSON because it waits in the outbox table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"  # text starting with "/": text holds the whole line
    BUTTON = "button"  # an inline button press: `data` holds the opaque token
    PHOTO = "photo"
    VOICE = "voice"  # a voice message or audio clip: `voice` holds it
    LOCATION = "location"
    CONTACT = "contact"  # a shared phone number
    JOIN = "join"  # the person opened the chat (WeCom enter_agent, web chat first visit)
    UNSUPPORTED = "unsupported"  # stickers, files, videos … anything we cannot read


@dataclass(frozen=True)
class FileRef:
    """A file kept by the desk (a photo, a voice message, a report); `key` is where storage
    can find it. An empty key describes a file the platform offered but that was not kept
    (a voice over the limits: its size and length say why)."""

    key: str
    name: str = ""
    mime: str = "application/octet-stream"
    size: int = 0
    seconds: int = 0  # a voice message's length (0: not known)


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
    voice: FileRef | None = None  # None: it could not be fetched at all
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

    `secrets`: strings in the text (an invitation code) that the outbox keeps only until
    the message is delivered or given up on; then the stored copy is `redacted`.
    """

    channel: str
    chat_id: str
    text: str
    key: str
    buttons: Keyboard = ()
    edits: str | None = None
    files: tuple[FileRef, ...] = field(default_factory=tuple)
    secrets: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "chat_id": self.chat_id,
            "text": self.text,
            "key": self.key,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "edits": self.edits,
            "files": [[f.key, f.name, f.mime, f.size, f.seconds] for f in self.files],
            **({"secrets": list(self.secrets)} if self.secrets else {}),
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
            secrets=tuple(d.get("secrets", ())),
        )


MASK = "•••••"


def redacted(payload: dict[str, Any]) -> dict[str, Any]:
    """The stored copy of a delivered message: its secrets masked in the text and the
    buttons, and no longer listed."""
    secrets = sorted((s for s in payload.get("secrets", ()) if s), key=len, reverse=True)

    def mask(text: str) -> str:
        for secret in secrets:  # the longest first: a code's shown form holds the code
            text = text.replace(secret, MASK)
        return text

    out = {k: v for k, v in payload.items() if k != "secrets"}
    out["text"] = mask(str(payload.get("text", "")))
    out["buttons"] = [[[mask(label), mask(data)] for label, data in row]
                      for row in payload.get("buttons", [])]
    return out


SEVERITIES = ("critical", "major", "minor", "warning", "info")  # most severe first


@dataclass(frozen=True)
class Alarm:
    """One alarm state from monitoring (Alertmanager, an IoT platform, MQTT, a silent device).

    Sources normalise their payloads into this; the desk's alarms flow turns alarms into
    incidents and tickets. Everything in it came from outside and is untrusted text.
    """

    source: str  # "alertmanager", "generic", "mqtt", "heartbeat"
    event_id: str  # unique per delivered state: a replay carries the same id and is ignored
    device: str  # the device id as the registry knows it ("" when the alarm names none)
    kind: str  # alarm type: "offline", "DeviceDown", "low_battery" …
    firing: bool  # False: cleared / resolved
    at: datetime  # when it started (firing) or ended (cleared); timezone-aware UTC
    severity: str = "warning"  # one of SEVERITIES
    summary: str = ""  # the alarm's own words
    fingerprint: str = ""  # the source's grouping key; "" means device + kind
    site: str = ""  # overrides the registry's site / plot when the source names them
    plot: str = ""
    labels: tuple[tuple[str, str], ...] = ()  # the rest of what the source said, for people

    @property
    def key(self) -> str:
        """One open incident per key: the device and the alarm type, unless the source groups."""
        return self.fingerprint or f"{self.device}/{self.kind}"


@dataclass(frozen=True)
class Heartbeat:
    """A device (or its platform) saying it is alive; silence past its window is an alarm."""

    source: str
    device: str
    at: datetime  # timezone-aware UTC
    event_id: str
