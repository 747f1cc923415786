"""Telegram channel: python-telegram-bot as a transport only; the flows stay in handlers/.

Long polling by default; webhook mode adds a route to the shared aiohttp app (the secret
token header is compared in constant time, anything else gets 403) — what several replicas
behind a load balancer use. PTB's AIORateLimiter honours 429 retry_after; what still fails
is retried by the outbox — a call that hangs past FRONTLINE_TELEGRAM_*_TIMEOUT too (TimedOut;
it may have reached Telegram, so that message can arrive twice: at-least-once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypedDict

import aiohttp
from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.badinput import scrub
from bot.channels import DeliveryError, Receive, RecipientUnreachable
from bot.settings import Settings
from bot.telegram_check import malformed
from bot.telegram_http import AiohttpRequest
from handlers.core.messages import FileRef, Incoming, Kind, Outgoing
from handlers.core.tokens import MAX_TOKEN_BYTES

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CONCURRENT_UPDATES = 64
COMMANDS = ("start", "help", "status", "cancel", "lang", "urge", "complain")
UNSUPPORTED = ("sticker", "document", "video", "video_note", "animation", "poll", "dice",
               "game", "venue")
# what Telegram plays as a voice message (sendVoice) or in its music player (sendAudio)
VOICE_TYPES = frozenset({"audio/ogg", "audio/opus"})
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a", "audio/m4a"})
AUDIO_EXTENSIONS = {"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mpeg": ".mp3",
                    "audio/mp3": ".mp3", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a",
                    "audio/m4a": ".m4a", "audio/amr": ".amr", "audio/wav": ".wav",
                    "audio/x-wav": ".wav", "audio/aac": ".aac", "audio/flac": ".flac"}


class Files(Protocol):
    async def save(self, data: bytes, name: str, mime: str) -> FileRef: ...

    async def read(self, key: str) -> bytes: ...


# The desk's texts as the adapter uses them: (language, key) → the rendered text.
Translate = Callable[[str, str], str]


class _Origin(TypedDict):
    """The fields every Incoming built from one message shares."""

    channel: str
    chat_id: str
    user_id: str
    update_id: str
    user_name: str
    private: bool
    bot_link: str


class TelegramAdapter:
    name = "telegram"

    def __init__(
        self, *, token: str, api_base_url: str, receive: Receive, files: Files,
        mode: str = "polling", webhook_path: str = "/telegram/webhook", webhook_url: str = "",
        webhook_secret: str = "", max_photo_bytes: int = 10 * 1024 * 1024,
        max_voice_bytes: int = 10 * 1024 * 1024, max_voice_seconds: int = 300,
        commands: dict[str, Sequence[tuple[str, str]]] | None = None,
        poll_timeout: float = 10, max_rate: float = 30,
        timeouts: tuple[float, float, float] = (10, 10, 10),
    ) -> None:
        if not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        if mode not in ("polling", "webhook"):
            raise ValueError("FRONTLINE_TELEGRAM_MODE must be polling or webhook")
        self.receive, self.files, self.mode = receive, files, mode
        self.webhook_path, self.webhook_url = webhook_path, webhook_url
        self.secret = webhook_secret or secrets.token_urlsafe(32)
        self.max_photo_bytes, self.commands, self.poll_timeout = (
            max_photo_bytes, commands or {}, poll_timeout)
        self.max_voice_bytes, self.max_voice_seconds = max_voice_bytes, max_voice_seconds
        api = api_base_url.rstrip("/")
        connect, write, read = timeouts  # a call over these raises TimedOut: outbox retry
        calls = AiohttpRequest(pool_size=64, connect_timeout=connect, write_timeout=write,
                               read_timeout=read)
        polls = AiohttpRequest(pool_size=1, connect_timeout=connect, write_timeout=write,
                               read_timeout=read)
        builder = (ApplicationBuilder().token(token).base_url(f"{api}/bot")
                   .base_file_url(f"{api}/file/bot")
                   .rate_limiter(AIORateLimiter(overall_max_rate=max_rate, max_retries=3))
                   # many chats at once; the desk's per-chat lock keeps one person's order
                   .concurrent_updates(CONCURRENT_UPDATES).request(calls)
                   .get_updates_request(polls))
        self._slots = asyncio.Semaphore(CONCURRENT_UPDATES)
        if mode == "webhook":
            builder = builder.updater(None)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.bot_id, self.username, self._state = 0, "", "starting"

    @classmethod
    def from_settings(cls, settings: Settings, *, receive: Receive, files: Files,
                      texts: Translate | None = None) -> TelegramAdapter:
        commands: dict[str, Sequence[tuple[str, str]]] | None = None
        if texts is not None:
            commands = {lang: [(c, texts(lang, f"telegram.cmd_{c}")) for c in COMMANDS]
                        for lang in ("zh", "en")}
        return cls(
            token=settings.telegram_bot_token.get_secret_value(),
            api_base_url=settings.telegram_api_base_url, receive=receive, files=files,
            mode=settings.telegram_mode, webhook_path=settings.telegram_webhook_path,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=settings.telegram_webhook_secret.get_secret_value(),
            max_photo_bytes=settings.max_photo_bytes, commands=commands,
            max_voice_bytes=settings.max_voice_bytes,
            max_voice_seconds=settings.max_voice_seconds,
            max_rate=settings.telegram_max_rate,
            timeouts=(settings.telegram_connect_timeout, settings.telegram_write_timeout,
                      settings.telegram_read_timeout),
        )

    # --- lifecycle ---------------------------------------------------------------------
    def attach(self, app: web.Application) -> None:
        if self.mode == "webhook":
            app.router.add_post(self.webhook_path, self._webhook)

    async def start(self) -> None:
        await self.app.initialize()
        me = await self.app.bot.get_me()
        self.bot_id, self.username = me.id, (me.username or "").lower()
        await self._set_commands()
        await self.app.start()
        if self.mode == "webhook":
            if self.webhook_url:
                await self.app.bot.set_webhook(self.webhook_url, secret_token=self.secret,
                                               allowed_updates=Update.ALL_TYPES)
        else:
            await self.app.bot.delete_webhook()
            assert self.app.updater is not None
            await self.app.updater.start_polling(timeout=int(self.poll_timeout),
                                                 poll_interval=0.0,
                                                 allowed_updates=Update.ALL_TYPES)
        self._state = "ok"

    async def _set_commands(self) -> None:
        for lang, commands in self.commands.items():
            menu = [BotCommand(c, d[:256]) for c, d in commands]
            code = None if lang == "zh" else lang  # Chinese is the default menu
            await self.app.bot.set_my_commands(menu, language_code=code)

    async def stop_receiving(self) -> None:
        """Shutdown, first step: no new updates; the bot can still send the final flush."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()

    async def stop(self) -> None:
        await self.stop_receiving()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        self._state = "stopped"

    def status(self) -> str:
        return self._state

    # --- incoming ----------------------------------------------------------------------
    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram webhook refused: bad secret token")
            return web.Response(status=403)
        # As many at once as long polling takes (concurrent_updates): a burst waits here as
        # unread bodies, not as parsed updates piling up in memory and in the desk's locks.
        async with self._slots:
            update = self._parse(await request.read())
            # Straight to our one handler: the Application's dispatch (groups, filters, a
            # callback context per update) does nothing for us (~3 % of a replica's CPU).
            if update is not None:
                await self._on_update(update, None)
        return web.Response()  # a malformed update too: Telegram would retry anything else

    def _parse(self, body: bytes) -> Update | None:
        """The update, or None (logged once) when its shape is not the Bot API's."""
        wrong: str | None
        try:
            data = json.loads(body)
        except ValueError:  # UnicodeDecodeError too
            data, wrong = None, "not JSON"
        else:
            wrong = malformed(data)
        if wrong is None:
            try:
                return Update.de_json(data, self.app.bot)
            except (AttributeError, TypeError, ValueError, KeyError) as exc:
                wrong = f"unreadable ({type(exc).__name__})"
        update_id = data.get("update_id") if isinstance(data, dict) else None
        log.warning("telegram webhook update %s dropped (bad input): %s",
                    update_id if isinstance(update_id, int) else "?", wrong)
        return None

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE | None) -> None:
        if update.callback_query is not None:  # always answered: the client's spinner stops
            await self._answer(update.callback_query)
        inc = await self.to_incoming(update)
        inc = scrub(inc) if inc is not None else None  # NUL, NaN: never to the database
        if inc is not None:
            await self.receive(inc)

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    async def to_incoming(self, update: Update) -> Incoming | None:
        """An update as the desk's Incoming; None when it is not for us (group chatter)."""
        query = update.callback_query
        if query is not None and query.message is not None:
            chat = query.message.chat
            return Incoming("telegram", str(chat.id), str(query.from_user.id),
                            str(update.update_id), Kind.BUTTON, data=query.data or "",
                            user_name=query.from_user.full_name,
                            private=chat.type == "private", bot_link=self.link())
        msg = update.message
        if msg is None or msg.from_user is None or not self._addressed(msg):
            return None
        base: _Origin = {"channel": "telegram", "chat_id": str(msg.chat.id),
                         "user_id": str(msg.from_user.id), "update_id": str(update.update_id),
                         "user_name": msg.from_user.full_name,
                         "private": msg.chat.type == "private", "bot_link": self.link()}
        return await self._message(msg, msg.from_user.id, base)

    async def _message(self, msg: Message, sender_id: int, base: _Origin) -> Incoming:
        if msg.text is not None:
            text = self._strip_mention(msg.text)
            kind = Kind.COMMAND if text.startswith("/") else Kind.TEXT
            return Incoming(**base, kind=kind, text=text)
        if msg.photo:
            return Incoming(**base, kind=Kind.PHOTO, photo=await self._photo(msg))
        if msg.voice is not None or msg.audio is not None:
            return Incoming(**base, kind=Kind.VOICE, voice=await self._voice(msg))
        if msg.location is not None:
            where = (msg.location.latitude, msg.location.longitude)
            return Incoming(**base, kind=Kind.LOCATION, location=where)
        if msg.contact is not None and msg.contact.user_id == sender_id:
            return Incoming(**base, kind=Kind.CONTACT, phone=msg.contact.phone_number)
        raw = next((k for k in UNSUPPORTED if getattr(msg, k, None)), "other")
        return Incoming(**base, kind=Kind.UNSUPPORTED, raw_kind=raw)

    def link(self) -> str:
        """The bot's private chat (https://t.me/<bot>), once its username is known."""
        return chat_link(self.username)

    def _addressed(self, msg: Message) -> bool:
        """In groups the bot answers only when spoken to: mention, reply, or command."""
        if msg.chat.type == "private":
            return True
        text = (msg.text or msg.caption or "").lower()
        replied = msg.reply_to_message
        to_bot = replied is not None and replied.from_user is not None \
            and replied.from_user.id == self.bot_id
        mention = bool(self.username) and f"@{self.username}" in text
        return to_bot or mention or text.startswith("/")

    def _strip_mention(self, text: str) -> str:
        if not self.username:
            return text.strip()
        # usernames are case-insensitive: "/status@OrchardBot" must lose the name too
        text = re.sub(rf"@{re.escape(self.username)}\b", "", text, flags=re.IGNORECASE)
        return " ".join(text.split()) if text.strip().startswith("/") else text.strip()

    async def _photo(self, msg: Message) -> FileRef | None:
        fitting = [p for p in msg.photo if (p.file_size or 0) <= self.max_photo_bytes]
        if not fitting:
            return None
        best = max(fitting, key=lambda p: p.width * p.height)
        try:
            data = bytes(await (await best.get_file()).download_as_bytearray())
            return await self.files.save(data, f"{best.file_unique_id}.jpg", "image/jpeg")
        except (TelegramError, ValueError, OSError) as exc:
            log.warning("photo of update could not be stored: %s", type(exc).__name__)
            return None

    async def _voice(self, msg: Message) -> FileRef | None:
        """The stored voice message or audio clip; over the limits it is not downloaded and
        only described (an empty key: the desk says which limit); None: not fetched."""
        clip = msg.voice or msg.audio
        assert clip is not None
        default = "audio/ogg" if msg.voice is not None else "audio/mpeg"
        mime = (clip.mime_type or default).lower()
        if not mime.startswith("audio/") or len(mime) > 40:  # the sender's client names it
            mime = default
        name = f"{clip.file_unique_id}{AUDIO_EXTENSIONS.get(mime, '.audio')}"
        # read from the wire form: the `duration` attribute changes type in PTB 23 (and warns)
        seconds = clip.to_dict().get("duration", 0)
        seconds = int(seconds) if isinstance(seconds, int | float) else 0
        offered = FileRef("", name, mime, int(clip.file_size or 0), max(0, seconds))
        if offered.seconds > self.max_voice_seconds or offered.size > self.max_voice_bytes:
            return offered
        try:
            data = bytes(await (await clip.get_file()).download_as_bytearray())
            if len(data) > self.max_voice_bytes:  # the announced size was wrong
                return replace(offered, size=len(data))
            return replace(await self.files.save(data, name, mime), seconds=offered.seconds)
        except (TelegramError, ValueError, OSError) as exc:
            log.warning("voice of update could not be stored: %s", type(exc).__name__)
            return None

    # --- outgoing ----------------------------------------------------------------------
    async def send(self, out: Outgoing) -> str | None:
        markup = keyboard(out)
        try:
            sent = await self.app.bot.send_message(int(out.chat_id), out.text,
                                                   reply_markup=markup)
            for ref in out.files:
                await self._send_file(out.chat_id, ref)
        except TelegramError as exc:
            raise _delivery_error(exc) from exc
        return str(sent.message_id)

    async def _send_file(self, chat_id: str, ref: FileRef) -> None:
        data = await self.files.read(ref.key)
        if ref.mime.startswith("image/"):
            await self.app.bot.send_photo(int(chat_id), data, filename=ref.name)
        elif ref.mime in VOICE_TYPES:
            await self.app.bot.send_voice(int(chat_id), data, filename=ref.name,
                                          duration=ref.seconds or None)
        elif ref.mime in AUDIO_TYPES:
            await self.app.bot.send_audio(int(chat_id), data, filename=ref.name,
                                          duration=ref.seconds or None)
        else:  # e.g. WeCom's AMR: Telegram plays neither as voice nor as audio
            await self.app.bot.send_document(int(chat_id), data, filename=ref.name)

    async def edit(self, out: Outgoing, platform_message_id: str) -> None:
        try:
            await self.app.bot.edit_message_text(
                out.text, chat_id=int(out.chat_id), message_id=int(platform_message_id),
                reply_markup=keyboard(out),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise _delivery_error(exc) from exc
        except TelegramError as exc:
            raise _delivery_error(exc) from exc


def chat_link(username: str, start: str = "") -> str:
    """A link that opens a private chat with the bot; `start` is what /start receives
    (an invitation code). Empty when the username is not known."""
    if not username:
        return ""
    return f"https://t.me/{username}" + (f"?start={start}" if start else "")


async def bot_username(api_base_url: str, token: str, seconds: float = 5) -> str:
    """The bot's username from getMe (for invitation links printed by the command line);
    "" when Telegram cannot say."""
    url = f"{api_base_url.rstrip('/')}/bot{token}/getMe"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as s, \
                s.get(url) as response:
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("telegram getMe failed: %s", type(exc).__name__)
        return ""
    result = body.get("result") if isinstance(body, dict) else None
    name = result.get("username") if isinstance(result, dict) else None
    return name.lower() if isinstance(name, str) else ""


def keyboard(out: Outgoing) -> InlineKeyboardMarkup | None:
    """Inline buttons; an edit without buttons removes the old ones (stale buttons vanish)."""
    for row in out.buttons:
        for b in row:
            if len(b.data.encode()) > MAX_TOKEN_BYTES:
                raise ValueError(f"callback data over {MAX_TOKEN_BYTES} bytes: a desk bug")
    if not out.buttons:
        return InlineKeyboardMarkup([]) if out.edits else None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
         for row in out.buttons])


def _delivery_error(exc: TelegramError) -> DeliveryError:
    if isinstance(exc, Forbidden):
        return RecipientUnreachable(str(exc))
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        seconds = after.total_seconds() if hasattr(after, "total_seconds") else float(after)
        return DeliveryError("telegram rate limit", retry_after=seconds)
    return DeliveryError(f"telegram: {type(exc).__name__}")
