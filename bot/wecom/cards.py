"""Outgoing → WeCom message bodies: text chunks and button_interaction template cards.

Only layout lives here; every word shown comes from the desk (Outgoing.text, Button.label).
WeCom renders `<a href>` in text messages and cards, and the desk's texts carry what people
wrote (a description, a name): every word is HTML-escaped here (`escape`), so a reporter's
`<a href="http://evil.example/login">点此查看</a>` reaches the engineer as those characters,
never as a link. Limits are measured on the escaped text, which is what WeCom counts.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from typing import Any

from handlers.core.messages import Button, Outgoing

TEXT_MAX_BYTES = 2048  # message/send text: longer content is cut off by WeCom
TITLE_MAX = 26  # main_title.title, as WeCom's card layout shows it
SUBTITLE_MAX = 112  # sub_title_text
BUTTONS_PER_CARD = 6  # button_interaction allows at most 6 buttons
TASK_ID_MAX = 128
_TASK_UNSAFE = re.compile(r"[^A-Za-z0-9_\-@]")
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Text as WeCom shows it literally: `&`, `<` and `>` as entities (no tag, no link)."""
    return html.escape(text, quote=False)


def _size(text: str) -> int:
    """UTF-8 bytes of the text once escaped (what WeCom's 2048-byte limit counts)."""
    return len(escape(text).encode())


def task_id(key: str, index: int = 0) -> str:
    """A WeCom task_id for the `index`-th card of the Outgoing with this key.

    Readable prefix, plus a hash of the whole key so sanitising never makes two keys collide.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    suffix = f"@{digest}" + (f"-{index}" if index else "")
    prefix = _TASK_UNSAFE.sub("_", key)[: TASK_ID_MAX - len(suffix)]
    return prefix + suffix


def flat_buttons(out: Outgoing) -> list[Button]:
    """Rows flattened; a repeated token kept once (card button keys must be unique)."""
    seen: set[str] = set()
    flat: list[Button] = []
    for row in out.buttons:
        for button in row:
            if button.data not in seen:
                seen.add(button.data)
                flat.append(button)
    return flat


def chunks(buttons: Sequence[Button]) -> list[list[Button]]:
    return [list(buttons[i:i + BUTTONS_PER_CARD])
            for i in range(0, len(buttons), BUTTONS_PER_CARD)]


def split_text(text: str, limit: int = TEXT_MAX_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes once escaped, cut at line ends where possible
    (never inside an entity). The pieces are raw text: `text_message` escapes them."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while _size(line) > limit:
            head = _cut_bytes(line, limit)
            pieces, current = _flush(pieces, current), ""
            pieces.append(head)
            line = line[len(head):]
        if _size(current + line) > limit:
            pieces, current = _flush(pieces, current), ""
        current += line
    return _flush(pieces, current) or [""]


def _flush(pieces: list[str], current: str) -> list[str]:
    return [*pieces, current.rstrip("\n")] if current.strip() else pieces


def _cut_bytes(text: str, limit: int) -> str:
    """The longest head of `text` whose escaped UTF-8 fits in `limit` bytes."""
    used = 0
    for i, char in enumerate(text):
        used += _size(char)
        if used > limit:
            return text[:i]
    return text


def headline(text: str) -> tuple[str, str]:
    """First non-empty line and the rest."""
    lines = text.strip().splitlines()
    if not lines:
        return "", ""
    return lines[0].strip(), "\n".join(lines[1:]).strip()


def fits_card(text: str) -> bool:
    """Can a card show this text whole (as title + subtitle, or as subtitle alone)?"""
    title, rest = headline(text)
    return (len(title) <= TITLE_MAX and len(rest) <= SUBTITLE_MAX) or _one_block(text)


def _one_block(text: str) -> bool:
    return len(text.strip()) <= SUBTITLE_MAX


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _text_fields(text: str, full: bool) -> dict[str, Any]:
    """main_title / sub_title_text for the text (a card needs at least one of them)."""
    title, rest = headline(text)
    if full and len(title) > TITLE_MAX and _one_block(text):
        return {"sub_title_text": escape(text.strip())}  # a long first line: unclipped
    fields: dict[str, Any] = {"main_title": {"title": escape(_clip(title, TITLE_MAX))}}
    if full and rest:
        fields["sub_title_text"] = escape(_clip(rest, SUBTITLE_MAX))
    return fields


def card(
    text: str, buttons: Sequence[Button], task: str, *, full: bool,
    replace_text: str | None = None,
) -> dict[str, Any]:
    """A button_interaction card; `full` shows as much of the text as a card can."""
    body: dict[str, Any] = {
        "card_type": "button_interaction",
        **_text_fields(text, full),
        "task_id": task,
        "button_list": [{"text": escape(b.label), "style": 1, "key": b.data} for b in buttons],
    }
    if replace_text:
        body["replace_text"] = escape(_clip(replace_text, TITLE_MAX))
    return body


def text_message(user: str, agent_id: int, content: str) -> dict[str, Any]:
    """A text message showing `content` literally (escaped)."""
    return {"touser": user, "msgtype": "text", "agentid": agent_id,
            "text": {"content": escape(content)}}


def card_message(user: str, agent_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"touser": user, "msgtype": "template_card", "agentid": agent_id,
            "template_card": body}


def card_update(
    user: str, agent_id: int, response_code: str, body: dict[str, Any]
) -> dict[str, Any]:
    return {"userids": [user], "agentid": agent_id, "response_code": response_code,
            "template_card": body}
