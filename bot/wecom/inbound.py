"""Decrypted callback XML (as fields) → the desk's platform-neutral Incoming."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from bot.badinput import usable_location
from bot.channels import DeliveryError
from bot.wecom import amr
from bot.wecom.cardstate import CardMemory
from bot.wecom.client import Media
from handlers.core.messages import FileRef, Incoming, Kind

log = logging.getLogger(__name__)

CHANNEL = "wecom"
VOICE_FORMATS = {"amr": ("audio/amr", ".amr"), "speex": ("audio/speex", ".spx")}


class Files(Protocol):
    """The part of bot.files.FileStore the adapter uses (ValueError: too big / bad key)."""

    async def save(self, data: bytes, name: str, mime: str) -> FileRef: ...

    async def read(self, key: str) -> bytes: ...


GetMedia = Callable[[str], Awaitable[Media]]


def update_id(f: dict[str, str]) -> str:
    """Unique per update, and the same when WeCom delivers the same update again."""
    if f.get("MsgId"):
        return f["MsgId"]
    event, who, at = f.get("Event", ""), f.get("FromUserName", ""), f.get("CreateTime", "")
    if event == "template_card_event":
        # Two presses on different cards may share a second: the card and key tell them
        # apart. Hashed, because outbox keys grow from update ids and task ids from those.
        pressed = f"{f.get('TaskId', '')}\n{f.get('EventKey', '')}".encode()
        return f"{event}:{who}:{at}:{hashlib.sha256(pressed).hexdigest()[:12]}"
    return f"{event}:{who}:{at}"


class Inbound:
    def __init__(
        self, get_media: GetMedia, files: Files, cards: CardMemory, *,
        max_voice_bytes: int = 10 * 1024 * 1024, max_voice_seconds: int = 300,
    ) -> None:
        self._get_media, self._files, self._cards = get_media, files, cards
        self.max_voice_bytes, self.max_voice_seconds = max_voice_bytes, max_voice_seconds

    async def to_incoming(self, f: dict[str, str]) -> Incoming:
        who = f.get("FromUserName", "")
        base = Incoming(channel=CHANNEL, chat_id=who, user_id=who, update_id=update_id(f))
        msg_type = f.get("MsgType", "")
        if msg_type == "text":
            text = f.get("Content", "")
            kind = Kind.COMMAND if text.startswith("/") else Kind.TEXT
            return replace(base, kind=kind, text=text)
        if msg_type == "image":
            return replace(base, kind=Kind.PHOTO, photo=await self._photo(f))
        if msg_type == "voice":
            return replace(base, kind=Kind.VOICE, voice=await self._voice(f))
        if msg_type == "location":
            return self._location(base, f)
        if msg_type == "event":
            return self._event(base, f)
        return replace(base, kind=Kind.UNSUPPORTED, raw_kind=msg_type or "unknown")

    async def _photo(self, f: dict[str, str]) -> FileRef | None:
        """The stored photo, or None (the desk tells the person it could not be read)."""
        media_id = f.get("MediaId", "")
        if not media_id:
            return None
        try:
            media = await self._get_media(media_id)
            return await self._files.save(media.data, media.name or "photo", media.mime)
        except DeliveryError as exc:
            log.warning("wecom photo %s not fetched: %s", f.get("MsgId", ""), exc)
        except ValueError:
            log.warning("wecom photo %s refused by the file store", f.get("MsgId", ""))
        return None

    async def _voice(self, f: dict[str, str]) -> FileRef | None:
        """The stored voice message; over the limits it is only described (an empty key:
        the desk says which limit) and nothing is stored; None: it could not be fetched."""
        media_id = f.get("MediaId", "")
        if not media_id:
            return None
        try:
            media = await self._get_media(media_id)
        except DeliveryError as exc:
            log.warning("wecom voice %s not fetched: %s", f.get("MsgId", ""), exc)
            return None
        given = f.get("Format", "").lower()
        mime, ext = VOICE_FORMATS.get(given, VOICE_FORMATS["amr"])
        if given not in VOICE_FORMATS and media.mime.startswith("audio/"):
            mime = media.mime
        length = amr.seconds(media.data) if mime == "audio/amr" else None
        offered = FileRef("", f"voice{ext}", mime, len(media.data), length or 0)
        if offered.seconds > self.max_voice_seconds or offered.size > self.max_voice_bytes:
            return offered
        try:
            kept = await self._files.save(media.data, offered.name, mime)
        except ValueError:
            log.warning("wecom voice %s refused by the file store", f.get("MsgId", ""))
            return None
        return replace(kept, seconds=offered.seconds)

    @staticmethod
    def _location(base: Incoming, f: dict[str, str]) -> Incoming:
        try:
            # WeCom: Location_X is the latitude, Location_Y the longitude.
            lat, lon = float(f["Location_X"]), float(f["Location_Y"])
        except (KeyError, ValueError):
            return replace(base, kind=Kind.UNSUPPORTED, raw_kind="location")
        if not usable_location(lat, lon):  # float() reads "nan" and "inf": not a place
            log.warning("wecom update %s: location not a finite latitude/longitude",
                        base.update_id)
            return replace(base, kind=Kind.UNSUPPORTED, raw_kind="location")
        return replace(base, kind=Kind.LOCATION, location=(lat, lon))

    def _event(self, base: Incoming, f: dict[str, str]) -> Incoming:
        event = f.get("Event", "")
        if event == "template_card_event":
            key, task = f.get("EventKey", ""), f.get("TaskId", "")
            if task:
                self._cards.pressed(task, base.chat_id, key, f.get("ResponseCode", ""))
            return replace(base, kind=Kind.BUTTON, data=key)
        if event == "enter_agent":
            return replace(base, kind=Kind.JOIN)
        return replace(base, kind=Kind.UNSUPPORTED, raw_kind=f"event:{event}")
