"""WeCom test kit: the fake API server, an adapter wired to it, signed callbacks."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.wecom import WeComAdapter
from bot.wecom.crypto import WeComCrypto
from handlers.core.messages import FileRef, Incoming
from tests.fakes.wecom_api import CORP_ID, SECRET, FakeWeComApi

TOKEN = "frontlineToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
AGENT_ID = "1000002"
PATH = "/wecom/callback"

_msg_ids = itertools.count(7_000_000_000_000_000_001)


def wecom_settings(base_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "wecom_corp_id": CORP_ID, "wecom_agent_id": AGENT_ID, "wecom_secret": SECRET,
        "wecom_token": TOKEN, "wecom_aes_key": AES_KEY, "wecom_api_base_url": base_url,
    }
    return Settings(**{**values, **extra})  # type: ignore[arg-type]


@dataclass
class FakeFiles:
    max_bytes: int = 1024 * 1024
    saved: list[tuple[bytes, str, str]] = field(default_factory=list)

    async def save(self, data: bytes, name: str, mime: str) -> FileRef:
        if len(data) > self.max_bytes:
            raise ValueError("too big")
        self.saved.append((data, name, mime))
        return FileRef(key=f"f{len(self.saved)}", name=name, mime=mime, size=len(data))

    async def read(self, key: str) -> bytes:
        if not key.startswith("f") or not key[1:].isdigit() or int(key[1:]) > len(self.saved):
            raise ValueError("bad file key")
        return self.saved[int(key[1:]) - 1][0]


@dataclass
class Recorder:
    got: list[Incoming] = field(default_factory=list)

    async def __call__(self, incoming: Incoming) -> None:
        self.got.append(incoming)


def plain_xml(msg_type: str, user: str = "lisi", *, msg_id: str | None = None,
              create_time: int | None = None, **fields: str) -> str:
    """A decrypted callback as WeCom writes it."""
    parts = [f"<ToUserName><![CDATA[{CORP_ID}]]></ToUserName>",
             f"<FromUserName><![CDATA[{user}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    parts += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()]
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    parts.append(f"<AgentID>{AGENT_ID}</AgentID>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class Caller:
    """Plays WeCom's side of the callback: encrypts, signs and POSTs."""

    client: TestClient
    crypto: WeComCrypto = field(default_factory=lambda: WeComCrypto(TOKEN, AES_KEY, CORP_ID))

    def envelope(self, plain: str, *, timestamp: int | None = None, nonce: str = "1372623149",
                 signature: str | None = None) -> tuple[str, bytes]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        encrypt = self.crypto.encrypt(plain.encode())
        sig = signature or self.crypto.sign(ts, nonce, encrypt)
        query = urlencode({"msg_signature": sig, "timestamp": ts, "nonce": nonce})
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>")
        return f"{PATH}?{query}", body.encode()

    async def post(self, plain: str, **kw: object) -> int:
        url, body = self.envelope(plain, **kw)  # type: ignore[arg-type]
        resp = await self.client.post(url, data=body)
        return resp.status


@pytest.fixture
async def api() -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi() as fake:
        yield fake


@pytest.fixture
def files() -> FakeFiles:
    return FakeFiles()


@pytest.fixture
def received() -> Recorder:
    return Recorder()


@pytest.fixture
async def adapter(
    api: FakeWeComApi, received: Recorder, files: FakeFiles
) -> AsyncIterator[WeComAdapter]:
    wecom = WeComAdapter.from_settings(wecom_settings(api.base_url), receive=received,
                                       files=files)
    await wecom.start()
    yield wecom
    await wecom.stop()


@pytest.fixture
async def caller(adapter: WeComAdapter) -> AsyncIterator[Caller]:
    app = web.Application()
    adapter.attach(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Caller(client)
