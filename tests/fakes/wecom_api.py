"""A fake WeCom server API on 127.0.0.1: gettoken, message/send, media/get, card updates.

    async with FakeWeComApi() as api:
        settings.wecom_api_base_url = api.base_url
        ...
        api.expire_tokens()          # every issued token now answers 42001
        api.fail_next(errcode=45009) # the next message/send answers that errcode
        api.fail_next(status=502)    # … or that HTTP status
        api.fail_next(errcode=-1, after=1)  # the second call from now fails
"""

from __future__ import annotations

import html
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CORP_ID = "wwfakecorp0000001"
SECRET = "fake-secret"


@dataclass
class Failure:
    errcode: int = 0
    status: int = 200


@dataclass
class FakeWeComApi:
    corp_id: str = CORP_ID
    secret: str = SECRET
    expires_in: int = 7200
    sent: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id → (bytes, mime)
    uploads: dict[str, tuple[str, bytes, str, str]] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # sends and card updates
    token_requests: int = 0
    invalid_users: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._live: set[str] = set()
        self._expired: set[str] = set()
        self._codes: set[str] = set()
        self._failures: list[Failure | None] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- control ------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._expired |= self._live
        self._live.clear()

    def fail_next(self, errcode: int = 0, status: int = 200, after: int = 0) -> None:
        """The next API call (send, media, update) after `after` good ones fails so."""
        self._failures += [None] * after + [Failure(errcode, status)]

    def to(self, user: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m.get("touser") == user]

    def texts_to(self, user: str) -> list[str]:
        return [m["text"]["content"] for m in self.to(user) if m["msgtype"] == "text"]

    def cards_to(self, user: str) -> list[dict[str, Any]]:
        return [m["template_card"] for m in self.to(user) if m["msgtype"] == "template_card"]

    def links_to(self, user: str) -> list[str]:
        """The links this person's WeCom would render: `<a href>` tags in any text message
        or card field sent to them (WeCom shows those as links, entities as characters)."""
        raw = [json.dumps(m, ensure_ascii=False) for m in self.to(user)]
        raw += [json.dumps(u, ensure_ascii=False) for u in self.updates
                if user in u.get("userids", [])]
        return [href for body in raw for href in _LINK.findall(body.replace('\\"', '"'))]

    def shown_to(self, user: str) -> list[str]:
        """Each text message and card as this person reads it (entities decoded)."""
        shown = []
        for m in self.to(user):
            if m["msgtype"] == "text":
                shown.append(html.unescape(m["text"]["content"]))
            elif m["msgtype"] == "template_card":
                card = m["template_card"]
                parts = [card.get("main_title", {}).get("title", ""),
                         card.get("sub_title_text", "")]
                parts += [b["text"] for b in card.get("button_list", [])]
                shown.append(html.unescape("\n".join(parts)))
        return shown

    # -- server -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeWeComApi:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/media/upload", self._upload)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        q = request.query
        if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.secret:
            return _json({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"token-{next(self._ids)}"
        self._live.add(token)
        return _json({"errcode": 0, "errmsg": "ok", "access_token": token,
                      "expires_in": self.expires_in})

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token in self._expired:
            return _json({"errcode": 42001, "errmsg": "access_token expired"})
        if token not in self._live:
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        return None

    def _failure(self) -> web.Response | None:
        if not self._failures:
            return None
        f = self._failures.pop(0)
        if f is None:
            return None
        if f.status != 200:
            return web.Response(status=f.status, text="upstream trouble")
        return _json({"errcode": f.errcode, "errmsg": "fake failure"})

    async def _send(self, request: web.Request) -> web.Response:
        error = self._token_error(request) or self._failure()
        if error is not None:
            return error
        body = await request.json()
        if body.get("touser") in self.invalid_users:
            return _json({"errcode": 0, "errmsg": "ok", "invaliduser": body["touser"]})
        self.sent.append(body)
        self.timeline.append(body)
        answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "",
                  "msgid": f"msg{next(self._ids)}"}
        if body.get("msgtype") == "template_card":
            answer["response_code"] = self.issue_code()
        return _json(answer)

    def issue_code(self) -> str:
        """A fresh response code, as WeCom hands out with a send or a press."""
        code = f"code-{next(self._ids)}"
        self._codes.add(code)
        return code

    async def _media(self, request: web.Request) -> web.Response:
        error = self._token_error(request) or self._failure()
        if error is not None:
            return error
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return _json({"errcode": 40007, "errmsg": "invalid media_id"})
        data, mime = found
        name = "voice.amr" if mime.startswith(("audio/", "voice/")) else "photo.jpg"
        return web.Response(body=data, content_type=mime, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})

    async def _upload(self, request: web.Request) -> web.Response:
        """media/upload: multipart field "media"; kept as id → (type, bytes, name, mime)."""
        error = self._token_error(request) or self._failure()
        if error is not None:
            return error
        form = await request.post()
        media = form.get("media")
        if not isinstance(media, web.FileField):
            return _json({"errcode": 41005, "errmsg": "media data missing"})
        kind = request.query.get("type", "")
        media_id = f"media-{next(self._ids)}"
        self.uploads[media_id] = (kind, media.file.read(), media.filename, media.content_type)
        return _json({"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id,
                      "created_at": "1380000000"})

    async def _update(self, request: web.Request) -> web.Response:
        error = self._token_error(request) or self._failure()
        if error is not None:
            return error
        body = await request.json()
        code = body.get("response_code", "")
        if code not in self._codes:
            return _json({"errcode": 40000, "errmsg": "invalid response_code"})  # used or unknown
        self._codes.discard(code)
        self.updates.append(body)
        self.timeline.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "invaliduser": []})


_LINK = re.compile(r"<a\s[^>]*href\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


def _json(data: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False),
                        content_type="application/json")
