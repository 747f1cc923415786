"""WeComAdapter: the WeCom self-built app as a frontline channel (bot.channels.Adapter).

Outgoing without buttons → text message(s); with buttons → button_interaction template
cards (6 buttons a card; a text too long for a card goes first as text). The message id is
the first card's task_id ("msg:<msgid>" for plain text, which WeCom cannot edit). An edit
replaces the card through update_template_card when a response code is at hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.badinput import scrub
from bot.channels import DeliveryError, Receive, RecipientUnreachable
from bot.settings import Settings
from bot.wecom import cards
from bot.wecom.cache import TtlCache
from bot.wecom.callback import CallbackEndpoint
from bot.wecom.cardstate import CardMemory, SentCard
from bot.wecom.client import TOKEN_ERRORS, WeComApiError, WeComClient
from bot.wecom.crypto import WeComCrypto
from bot.wecom.inbound import CHANNEL, Files, Inbound
from bot.wecom.pacing import Pacer, PacingBusy
from handlers.core.messages import Button, FileRef, Outgoing

log = logging.getLogger(__name__)

SEND = "/cgi-bin/message/send"
UPDATE_CARD = "/cgi-bin/message/update_template_card"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})  # what WeCom shows as an image message
VOICE_TYPE = "audio/amr"  # the only voice WeCom plays in chat …
VOICE_MAX_BYTES, VOICE_MAX_SECONDS = 2 * 1024 * 1024, 60  # … and only this big; else a file
TEXT_PREFIX = "msg:"


class WeComAdapter:
    name = CHANNEL

    def __init__(
        self, *, client: WeComClient, crypto: WeComCrypto, agent_id: int, receive: Receive,
        files: Files, callback_path: str = "/wecom/callback", window_seconds: float = 300,
        pacer: Pacer | None = None, now: Callable[[], float] = time.time,
        max_voice_bytes: int = 10 * 1024 * 1024, max_voice_seconds: int = 300,
    ) -> None:
        self.client, self.agent_id, self._receive, self._files = client, agent_id, receive, files
        self.cards = CardMemory()
        self.pacer = pacer or Pacer()
        self.inbound = Inbound(client.get_media, files, self.cards,
                               max_voice_bytes=max_voice_bytes,
                               max_voice_seconds=max_voice_seconds)
        self.callback = CallbackEndpoint(crypto, self._on_message,
                                         window_seconds=window_seconds, now=now)
        self._path = callback_path
        self._parts: TtlCache[str] = TtlCache(3600, 10_000)  # parts of an Outgoing already sent
        self._status = "starting"

    @classmethod
    def from_settings(
        cls, settings: Settings, *, receive: Receive, files: Files
    ) -> WeComAdapter:
        values = _required(settings)
        if not values["WECOM_AGENT_ID"].isdigit():
            raise ValueError("WECOM_AGENT_ID must be the app's numeric AgentId")
        client = WeComClient(settings.wecom_api_base_url, values["WECOM_CORP_ID"],
                             values["WECOM_SECRET"])
        crypto = WeComCrypto(values["WECOM_TOKEN"], values["WECOM_AES_KEY"],
                             values["WECOM_CORP_ID"])
        return cls(client=client, crypto=crypto, agent_id=int(values["WECOM_AGENT_ID"]),
                   receive=receive, files=files, callback_path=settings.wecom_callback_path,
                   window_seconds=settings.wecom_timestamp_window_seconds,
                   max_voice_bytes=settings.max_voice_bytes,
                   max_voice_seconds=settings.max_voice_seconds)

    # -- lifecycle ----------------------------------------------------------------------

    def attach(self, app: web.Application) -> None:
        self.callback.attach(app, self._path)

    async def start(self) -> None:
        try:
            await self.client.token()  # warm up, and tell /healthz early if the secret is wrong
        except DeliveryError as exc:
            self._status = f"error: {exc}"
            log.warning("wecom: no access token at start: %s", exc)
        else:
            self._status = "ok"

    async def stop(self) -> None:
        await self.callback.close()
        await self.client.close()

    def status(self) -> str:
        return self._status

    # -- receiving ----------------------------------------------------------------------

    async def _on_message(self, fields: dict[str, str]) -> None:
        incoming = scrub(await self.inbound.to_incoming(fields))  # NUL, NaN: bad input
        if incoming is not None:
            await self._receive(incoming)

    # -- sending ------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> str | None:
        buttons = cards.flat_buttons(out)
        if buttons:
            message_id = await self._send_cards(out, buttons)
        else:
            message_id = await self._send_text(out, out.text)
        for i, ref in enumerate(out.files):
            await self._send_file(out, f"file{i}", ref)
        return message_id

    async def _send_text(self, out: Outgoing, text: str) -> str:
        msgid = ""
        for i, piece in enumerate(cards.split_text(text)):
            if not piece.strip():
                continue
            payload = cards.text_message(out.chat_id, self.agent_id, piece)
            body = await self._send_part(out, f"text{i}", payload)
            msgid = str(body.get("msgid", ""))
        return TEXT_PREFIX + msgid

    async def _send_cards(self, out: Outgoing, buttons: list[Button]) -> str:
        full = cards.fits_card(out.text)
        if not full:
            await self._send_text(out, out.text)
        group = cards.task_id(out.key)
        for i, chunk in enumerate(cards.chunks(buttons)):
            task = cards.task_id(out.key, i)
            body = cards.card(out.text, chunk, task, full=full and i == 0)
            answer = await self._send_part(out, f"card{i}",
                                           cards.card_message(out.chat_id, self.agent_id, body))
            if answer:  # empty when this part went out on an earlier attempt
                state = SentCard(out.chat_id, {b.data: b.label for b in chunk},
                                 answer.get("response_code") or None)
                self.cards.sent(group, task, state)
        return group

    async def _send_file(self, out: Outgoing, part: str, ref: FileRef) -> None:
        if self._parts.get(f"{out.key}#{part}") is not None:
            return  # sent on an earlier attempt: do not upload again
        try:
            data = await self._files.read(ref.key)
        except (OSError, ValueError):
            log.warning("wecom: file %s of %s is gone, not sent", ref.key, out.key)
            return
        kind = "image" if ref.mime in IMAGE_TYPES else "file"
        if ref.mime == VOICE_TYPE and len(data) <= VOICE_MAX_BYTES \
                and ref.seconds <= VOICE_MAX_SECONDS:
            kind = "voice"
        media_id = await self.client.upload_media(kind, data, ref.name or ref.key, ref.mime)
        payload = {"touser": out.chat_id, "msgtype": kind, "agentid": self.agent_id,
                   kind: {"media_id": media_id}}
        await self._send_part(out, part, payload)

    async def _send_part(
        self, out: Outgoing, part: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Send one message of an Outgoing once: a retry after a later part failed skips it."""
        done_key = f"{out.key}#{part}"
        if self._parts.get(done_key) is not None:
            return {}
        try:
            await self.pacer.wait(out.chat_id)
        except PacingBusy as exc:
            raise DeliveryError("recipient paced", retry_after=exc.wait) from None
        body = await self._call(SEND, payload)
        if out.chat_id in _invalid_users(body):
            raise RecipientUnreachable("wecom: recipient not in the app's visible range")
        self._parts.put(done_key, str(body.get("msgid", "")))
        return body

    async def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            body = await self.client.post(path, payload)
        except RecipientUnreachable:
            raise
        except DeliveryError as exc:
            # Health reflects reaching WeCom at all, not one person's or one minute's limits.
            if not isinstance(exc, WeComApiError) or exc.errcode in TOKEN_ERRORS:
                self._status = f"error: {exc}"
            raise
        self._status = "ok"
        return body

    # -- editing ------------------------------------------------------------------------

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        """Replace the card(s) of an earlier Outgoing.

        WeCom cannot edit plain text, and a card only once per response code. When the edit
        cannot be applied, an edit that brings buttons goes out as a new message (the flow
        must not lose its next step); one without buttons is dropped, and the old buttons
        stay (the desk refuses a stale press politely).
        """
        applied = False
        if platform_message_id and not platform_message_id.startswith(TEXT_PREFIX):
            applied = await self._update_cards(out, platform_message_id)
        if not applied and cards.flat_buttons(out):
            log.info("wecom: %s cannot be edited in place, sent anew", out.edits)
            await self.send(out)

    async def _update_cards(self, out: Outgoing, group: str) -> bool:
        """Update every card of the group; True when the first one (the text) was updated."""
        new_chunks = cards.chunks(cards.flat_buttons(out))
        first_applied = False
        for i, task in enumerate(self.cards.tasks(group)):
            chunk = new_chunks[i] if i < len(new_chunks) else []
            state = self.cards.card(task)
            # No new buttons: show the pressed one greyed out, as WeCom does after a press.
            grey = state.pressed_label if state is not None and not chunk else None
            body = cards.card(out.text, chunk, task, full=i == 0, replace_text=grey)
            applied = await self._update(task, out.chat_id, body)
            if applied and state is not None:
                state.labels, state.pressed_label = {b.data: b.label for b in chunk}, None
            first_applied = first_applied or (applied and i == 0)
        return first_applied

    async def _update(self, task: str, user: str, body: dict[str, Any]) -> bool:
        code = self.cards.take_code(task)
        if code is None:
            log.info("wecom card %s: no response code left, not updated", task)
            return False
        payload = cards.card_update(user, self.agent_id, code, body)
        try:
            await self._call(UPDATE_CARD, payload)
        except WeComApiError as exc:
            if exc.retryable:
                self.cards.give_back(task, code)
                raise
            log.warning("wecom card %s not updated: errcode %s", task, exc.errcode)
            return False
        except RecipientUnreachable:
            log.warning("wecom card %s not updated: recipient unreachable", task)
            return False
        except DeliveryError:
            self.cards.give_back(task, code)
            raise
        return True


def _invalid_users(body: dict[str, Any]) -> set[str]:
    raw = body.get("invaliduser") or ""
    users = raw if isinstance(raw, list) else str(raw).split("|")
    return {str(u) for u in users if u}


def _required(settings: Settings) -> dict[str, str]:
    values = {
        "WECOM_CORP_ID": settings.wecom_corp_id,
        "WECOM_AGENT_ID": settings.wecom_agent_id,
        "WECOM_SECRET": settings.wecom_secret.get_secret_value(),
        "WECOM_TOKEN": settings.wecom_token.get_secret_value(),
        "WECOM_AES_KEY": settings.wecom_aes_key.get_secret_value(),
    }
    missing = [name for name, value in values.items() if not value.strip()]
    if missing:
        raise ValueError(f"the wecom channel needs {', '.join(missing)}")
    return {name: value.strip() for name, value in values.items()}
