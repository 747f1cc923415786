"""Dashboard sign-in: short-lived, single-use links exchanged for a login cookie; revocable.

`frontline dashboard token` makes a **link** token (valid for minutes: it travels in a URL,
so in browser history and chat logs). Opening it once exchanges it for a **session** token,
set as an HttpOnly cookie with its own expiry (hours); the link is then spent. Both are kept
only as SHA-256 digests in `<files_dir>/dashboard_tokens`, one a line:

    <kind> <sha256> <expires, ISO 8601> <grant id> [<sites>]

The grant id (the first 12 hex digits of the link's digest, printed with the link) ties a
session to the link it came from: `frontline dashboard revoke <link | token | id>` ends that
sign-in (its link and every session opened with it), `--all` ends them all. Lines of the old
format (`<sha256> <expires>`) are read as unspent links. Writers hold an exclusive lock
(`dashboard_tokens.lock`) and replace the file whole; expired lines are dropped as they go.

`--site` (repeatable) limits a sign-in to a manager's sites: the link's line carries them
(URL-quoted, comma-separated) and each session opened with it inherits them; a line without
them is every site.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

TOKENS_FILE = "dashboard_tokens"
LINK, SESSION = "link", "session"
ID_LENGTH = 12


@dataclass(frozen=True)
class Grant:
    kind: str  # LINK or SESSION
    digest: str
    expires: datetime
    grant: str  # the id of the sign-in link it comes from
    sites: tuple[str, ...] = ()  # what this sign-in may see; () = every site

    def line(self) -> str:
        scope = f" {quote(','.join(quote(s, safe='') for s in self.sites), safe='')}" \
            if self.sites else ""
        return f"{self.kind} {self.digest} {self.expires.isoformat()} {self.grant}{scope}\n"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str:
    """The id `frontline dashboard revoke` takes for this link (safe to write down)."""
    return digest(token)[:ID_LENGTH]


def issue_token(files_dir: Path, now: datetime, minutes: float = 15,
                sites: tuple[str, ...] = ()) -> str:
    """A new sign-in link token, valid for `minutes` and once; `sites`: what it may see."""
    token = secrets.token_urlsafe(32)
    grant = Grant(LINK, digest(token), now + timedelta(minutes=minutes), token_id(token),
                  tuple(sites))
    with _rewrite(files_dir, now) as grants:
        grants.append(grant)
    return token


def check_token(files_dir: Path, token: str, now: datetime, kind: str = LINK) -> bool:
    """Is `token` a live token of this kind (an unspent link, or a session)?"""
    return _find(_read(files_dir), token, now, kind) is not None


def sign_in(files_dir: Path, token: str, now: datetime, kind: str = SESSION) -> Grant | None:
    """The live grant of this token (its sites with it), or None."""
    return _find(_read(files_dir), token, now, kind)


def exchange(files_dir: Path, link: str, now: datetime, hours: float) -> str | None:
    """Spend a sign-in link: a new session token valid for `hours`, or None when the link is
    wrong, spent or expired."""
    with _rewrite(files_dir, now) as grants:
        found = _find(grants, link, now, LINK)
        if found is None:
            return None
        grants.remove(found)
        session = secrets.token_urlsafe(32)
        grants.append(Grant(SESSION, digest(session), now + timedelta(hours=hours),
                            found.grant, found.sites))
    return session


def revoke(files_dir: Path, which: str | None, now: datetime) -> int:
    """End one sign-in (`which`: its link URL, a token or a grant id) or all (None): how many
    tokens were removed."""
    wanted = _grant_of(which) if which is not None else None
    with _rewrite(files_dir, now) as grants:
        if wanted is None:
            gone = len(grants)
            grants.clear()
            return gone
        # a link's grant id is its digest's head, so a spent link still names its sessions
        ids = {g.grant for g in grants if g.grant == wanted[:ID_LENGTH] or g.digest == wanted}
        kept = [g for g in grants if g.grant not in ids]
        gone = len(grants) - len(kept)
        grants[:] = kept
    return gone


def _grant_of(which: str) -> str:
    """A link URL or a token → its digest; an id stays an id."""
    query = parse_qs(urlsplit(which.strip()).query).get("token")
    token = query[0] if query else which.strip()
    return token if len(token) == ID_LENGTH else digest(token)


def _find(grants: list[Grant], token: str, now: datetime, kind: str) -> Grant | None:
    if not token:
        return None
    wanted, found = digest(token), None
    for g in grants:  # every line compared in constant time: no early exit to time
        if secrets.compare_digest(g.digest, wanted) and g.kind == kind and g.expires > now:
            found = g
    return found


def _path(files_dir: Path) -> Path:
    return Path(files_dir) / TOKENS_FILE


def _read(files_dir: Path) -> list[Grant]:
    try:
        text = _path(files_dir).read_text("utf-8")
    except FileNotFoundError:
        return []
    return [g for g in (_parse(line) for line in text.splitlines()) if g is not None]


def _parse(line: str) -> Grant | None:
    fields = line.split()
    try:
        if len(fields) == 2:  # the old format: a link (it is spent on its next use)
            return Grant(LINK, fields[0], datetime.fromisoformat(fields[1]),
                         fields[0][:ID_LENGTH])
        kind, hashed, expires, grant, *scope = fields
        sites = tuple(unquote(s) for s in unquote(scope[0]).split(",")) if scope else ()
        return Grant(kind, hashed, datetime.fromisoformat(expires), grant, sites)
    except ValueError:
        return None  # a damaged line grants nothing


@contextlib.contextmanager
def _rewrite(files_dir: Path, now: datetime) -> Iterator[list[Grant]]:
    """The live grants, under the lock, written back whole (atomically) afterwards."""
    path = _path(files_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(TOKENS_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        grants = [g for g in _read(files_dir) if g.expires > now]
        yield grants
        aside = path.with_name(f".{TOKENS_FILE}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(g.line() for g in grants)
        os.replace(aside, path)
    finally:
        os.close(lock)  # closing releases the lock
