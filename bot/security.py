"""The web app's doors, hardened: response headers, WebSocket origins, who a client is, how
many identities one address may take, and the secret that signs web chat cookies.

- `add_security_headers(app)`: every response says `nosniff`; pages (HTML) also get a
  Content-Security-Policy (only our own scripts, styles and connections; no frames around
  them: `frame-ancestors 'none'`), `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`
  (a dashboard sign-in link never leaks through a Referer).
- `origin_allowed(request, allowed)`: a browser's WebSocket names the page it comes from in
  `Origin`; only our own host (or a configured origin) may open one, so another site cannot
  drive a visitor's chat with the visitor's cookie. Clients that send no Origin are not
  browsers: a cookie is all they have, and they could forge any Origin anyway.
- `client_address(request, trusted_proxies)`: the socket's address, or — only when the
  operator says how many proxies stand in front — the address the outermost trusted proxy
  saw, read from the right of `X-Forwarded-For` (the left is whatever the client wrote).
- `NewIdentityLimit`: at most N new web chat identities per client address per hour (per
  process; replicas each count their own).
- `cookie_secret(files_dir)`: generated once and kept with the data (mode 0600, created
  atomically), so a restart keeps every visitor's identity and replicas that share the files
  folder share the secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

SECRET_FILE = "webchat_cookie_secret"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
MAX_ADDRESSES = 100_000  # addresses remembered by the identity limit (memory stays bounded)
HOUR = 3600.0


def add_security_headers(app: web.Application) -> None:
    """Headers on every response of this app (see the module docstring)."""

    async def on_prepare(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.content_type == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "no-referrer")

    app.on_response_prepare.append(on_prepare)


def origin_of(url: str) -> str:
    """'https://Desk.example.com:8443/x' → 'https://desk.example.com:8443' ('' if not a URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


def origins(*configured: str) -> frozenset[str]:
    """The origins a setting names (comma-separated URLs), normalised."""
    found = (origin_of(u) for text in configured for u in text.split(",") if u.strip())
    return frozenset(o for o in found if o)


def origin_allowed(request: web.Request, allowed: Iterable[str] = ()) -> bool:
    """Same host as the request (http or https), or one of `allowed`; no Origin: not a
    browser, allowed (see the module docstring)."""
    given = request.headers.get("Origin")
    if given is None:
        return True
    origin = origin_of(given)
    if not origin:
        return False  # "null" (a sandboxed frame, a file) or garbage
    host = request.host.lower()
    return origin in {f"http://{host}", f"https://{host}"} or origin in set(allowed)


def bearer_ok(request: web.Request, token: str) -> bool:
    """`Authorization: Bearer <token>` names `token` (compared in constant time)."""
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(
        value.strip().encode(), token.encode())


def client_address(request: web.Request, trusted_proxies: int = 0) -> str:
    """Who is asking: see the module docstring."""
    if trusted_proxies > 0:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            return hops[-min(trusted_proxies, len(hops))]
    return request.remote or ""


class NewIdentityLimit:
    """At most `per_hour` new identities per address in any hour; 0 = no limit."""

    def __init__(self, per_hour: int, now: Callable[[], float] = time.monotonic) -> None:
        self.per_hour, self._now = per_hour, now
        self._given: dict[str, deque[float]] = {}
        self._told: dict[str, float] = {}  # address → when its refusal was last logged

    def worth_logging(self, address: str) -> bool:
        """True once an hour per refused address (a flood must not flood the log too)."""
        now = self._now()
        if now - self._told.get(address, -HOUR) < HOUR:
            return False
        self._told[address] = now
        while len(self._told) > MAX_ADDRESSES:
            del self._told[next(iter(self._told))]
        return True

    def allow(self, address: str) -> bool:
        """Count one new identity for `address`; False when its hour is full."""
        if self.per_hour <= 0:
            return True
        now = self._now()
        given = self._given.pop(address, None) or deque()
        while given and now - given[0] >= HOUR:
            given.popleft()
        self._given[address] = given  # re-inserted: the dict's order is least recent first
        if len(given) >= self.per_hour:
            return False
        given.append(now)
        while len(self._given) > MAX_ADDRESSES:
            del self._given[next(iter(self._given))]
        return True


def cookie_secret(files_dir: Path) -> str:
    """The web chat's signing secret kept in `<files_dir>/webchat_cookie_secret`, made on
    first use. Two processes starting at once agree: the file appears whole or not at all
    (written aside, then hard-linked into place, which never replaces an existing file)."""
    path = Path(files_dir) / SECRET_FILE
    for _ in range(50):
        with contextlib.suppress(FileNotFoundError):
            value = path.read_text("ascii").strip()
            if len(value) >= 32:
                return value
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path, secrets.token_hex(32))
        time.sleep(0.01)  # another process may be half-way through the fallback below
    raise RuntimeError(f"{path} holds no usable secret: delete it to make a new one")


def _create(path: Path, value: str) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(aside, path)  # atomic, and fails if the file exists: the first one wins
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: exclusive create instead
            with contextlib.suppress(FileExistsError):
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(target, "w", encoding="ascii") as f:
                    f.write(value + "\n")
    finally:
        aside.unlink(missing_ok=True)
