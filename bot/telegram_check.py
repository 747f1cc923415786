"""The shape of a webhook update, checked before python-telegram-bot reads it.

A POST that carries the right secret token may still hold anything: malformed JSON, `[]`,
`null`, `{}`, a `message` that is a string, a `text` that is a number. PTB trusts the Bot
API's types and fails deep inside (AttributeError, TypeError) — a 500, which Telegram
retries for hours. `malformed(data)` names what is wrong with an update (None when its shape
is usable): the adapter drops such an update with one log line and answers 200, so it is
never retried. Only the fields the adapter reads are checked; PTB ignores the rest.
"""

from __future__ import annotations

from typing import Any

# Update fields that hold a Message (what the adapter reads from is `message`; the others
# must at least be objects, or PTB's parsing fails on them).
MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post")
TEXTS = ("text", "caption")


def malformed(data: Any) -> str | None:
    """What is wrong with this update's shape, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if not _int(data.get("update_id")):
        return "no integer update_id"
    for key, value in data.items():
        if key != "update_id" and not isinstance(value, dict):
            return f"{key} is not an object"
    for key in MESSAGES:
        if key in data and (wrong := _message(data[key])):
            return f"{key}: {wrong}"
    if "callback_query" in data:
        return _callback(data["callback_query"])
    return None


def _message(msg: dict[str, Any]) -> str | None:
    if not _int(msg.get("message_id")) or not _chat(msg.get("chat")):
        return "no message_id or chat"
    if "from" in msg and not _user(msg["from"]):
        return "from is not a user"
    for key in TEXTS:
        if key in msg and not isinstance(msg[key], str):
            return f"{key} is not a string"
    contact = msg.get("contact")
    if contact is not None and not (isinstance(contact, dict)
                                    and isinstance(contact.get("phone_number"), str)):
        return "contact without a phone number"
    for key in ("location", "reply_to_message"):
        if key in msg and not isinstance(msg[key], dict):
            return f"{key} is not an object"
    if isinstance(msg.get("photo"), list) and \
            not all(isinstance(p, dict) for p in msg["photo"]):
        return "photo is not a list of sizes"
    if "photo" in msg and not isinstance(msg["photo"], list):
        return "photo is not a list"
    return None


def _callback(query: dict[str, Any]) -> str | None:
    if not isinstance(query.get("id"), str) or not _user(query.get("from")):
        return "callback_query: no id or from"
    if "data" in query and not isinstance(query["data"], str):
        return "callback_query: data is not a string"
    if "message" in query and not (isinstance(query["message"], dict)
                                   and _chat(query["message"].get("chat"))):
        return "callback_query: message without a chat"
    return None


def _user(user: Any) -> bool:
    return (isinstance(user, dict) and _int(user.get("id"))
            and isinstance(user.get("first_name"), str)
            and all(isinstance(user[k], str) for k in ("last_name", "username") if k in user))


def _chat(chat: Any) -> bool:
    return isinstance(chat, dict) and _int(chat.get("id")) and isinstance(chat.get("type"), str)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
