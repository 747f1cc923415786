"""The dashboard's sign-in (single-use links, a login cookie, revocation), what its pages show
of people's text, and /metrics and /healthz behind a token — on the real aiohttp app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.bootstrap import Frontline, build
from bot.cli import main
from bot.dashboard import COOKIE
from bot.dashboard_tokens import check_token, issue_token, token_id
from storage import people
from storage.models import Role, Ticket
from tests.support.fakes import valve_kb

HOSTILE_SITE = '<img src=x onerror="alert(1)">一号园区'
HOSTILE_NAME = "<script>alert('张工')</script>"


@pytest.fixture
async def client(app, history) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app.web_app)) as c:
        yield c


async def sign_in(app: Frontline, client: TestClient) -> str:
    link = issue_token(app.settings.files_dir, app.clock.now(), 15)
    login = await client.get(f"/dashboard/login?token={link}", allow_redirects=False)
    assert login.status == 303
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: login.cookies[COOKIE].value})
    return link


async def test_a_sign_in_link_works_once_and_is_exchanged_for_a_login_cookie(app, client):
    link = issue_token(app.settings.files_dir, app.clock.now(), 15)
    login = await client.get(f"/dashboard/login?token={link}", allow_redirects=False)
    cookie = login.headers["Set-Cookie"]
    session = login.cookies[COOKIE].value
    assert login.status == 303 and session != link  # the URL's token is not the cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=43200" in cookie
    again = await client.get(f"/dashboard/login?token={link}", allow_redirects=False)
    assert again.status == 403  # spent: a link seen in a history or a log is worthless
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: link})
    assert (await client.get("/dashboard")).status == 403  # a link is no session
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: session})
    assert (await client.get("/dashboard")).status == 200


async def test_links_last_minutes_and_sessions_hours(app, client):
    late = issue_token(app.settings.files_dir, app.clock.now(), 15)
    app.clock.advance(minutes=16)
    assert (await client.get(f"/dashboard/login?token={late}")).status == 403
    await sign_in(app, client)
    app.clock.advance(hours=11)
    assert (await client.get("/dashboard")).status == 200
    app.clock.advance(hours=2)  # past FRONTLINE_DASHBOARD_SESSION_HOURS (12)
    assert (await client.get("/dashboard")).status == 403


async def test_revoke_ends_one_sign_in_and_all_ends_every_one(app, client, monkeypatch, capsys):
    app.clock.set(datetime.now(UTC))  # the command line runs on the real clock
    files = app.settings.files_dir
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(files))
    link = await sign_in(app, client)
    other = issue_token(files, app.clock.now(), 15)
    assert main(["dashboard", "revoke", token_id(link)]) == 0
    assert "revoked 1" in capsys.readouterr().out  # the session (its link was spent)
    assert (await client.get("/dashboard")).status == 403
    assert check_token(files, other, app.clock.now())  # another sign-in is untouched
    assert main(["dashboard", "revoke", "--all"]) == 0
    assert not check_token(files, other, app.clock.now())
    assert main(["dashboard", "revoke", "nothing12345"]) == 1


async def test_revoke_takes_the_printed_link_too(app, client, monkeypatch):
    app.clock.set(datetime.now(UTC))
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(app.settings.files_dir))
    link = await sign_in(app, client)
    assert main(["dashboard", "revoke", f"http://x/dashboard/login?token={link}"]) == 0
    assert (await client.get("/dashboard")).status == 403


async def test_the_token_command_prints_a_short_lived_link_and_its_id(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setenv("FRONTLINE_FILES_DIR", str(tmp_path))
    monkeypatch.setenv("FRONTLINE_PUBLIC_URL", "https://desk.example.com")
    assert main(["dashboard", "token"]) == 0
    out = capsys.readouterr()
    link = out.out.strip()
    assert link.startswith("https://desk.example.com/dashboard/login?token=")
    assert "15 minutes" in out.err and token_id(link.rsplit("=", 1)[1]) in out.err


async def test_people_supplied_values_are_escaped_on_the_dashboard(app, client):
    now = app.clock.now()
    async with app.db.transaction() as tx:
        eng = await people.add_person(tx, name=HOSTILE_NAME, role=Role.ENGINEER, now=now)
        me = await people.add_person(tx, name="李<b>明</b>", role=Role.REPORTER, now=now)
        tx.add(Ticket(reporter_id=me.id or 0, assignee_id=eng.id, site=HOSTILE_SITE,
                      category="valve", priority="P2", description="<i>描述</i>",
                      status="acknowledged", created_at=now, updated_at=now,
                      response_due=now + timedelta(hours=1), resolve_due=now + timedelta(hours=8)))
    await sign_in(app, client)
    page = await client.get("/dashboard")
    html = await page.text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "&lt;script&gt;alert(&#x27;张工&#x27;)&lt;/script&gt;" in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js">']
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"


@pytest.fixture
async def guarded(settings, clock) -> AsyncIterator[tuple[Frontline, TestClient]]:  # type: ignore[no-untyped-def]
    s = settings.model_copy(update={"metrics_token": SecretStr("m3trics"),
                                    "metrics_cache_seconds": 3600.0})
    fl = await build(s, clock=clock, kb=valve_kb())
    await fl.start(schedule=False)
    async with TestClient(TestServer(fl.web_app)) as c:
        yield fl, c
    await fl.stop()


BEARER = {"Authorization": "Bearer m3trics"}


async def test_metrics_want_the_bearer_token_when_one_is_set(guarded):
    _, client = guarded
    assert (await client.get("/metrics")).status == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    assert (await client.get("/metrics", headers={"Authorization": "m3trics"})).status == 401
    good = await client.get("/metrics", headers=BEARER)
    assert good.status == 200 and "frontline_database_up 1.0" in await good.text()


async def test_healthz_says_only_ok_to_strangers_and_the_details_to_the_token(guarded):
    _, client = guarded
    public = await client.get("/healthz")
    assert await public.json() == {"status": "unhealthy"} and public.status == 503  # no sweep
    detailed = await (await client.get("/healthz", headers=BEARER)).json()
    assert detailed["database"] == "ok" and "channels" in detailed


async def test_metrics_count_the_database_once_per_cache_period(guarded, monkeypatch):
    _, client = guarded
    from bot import metrics

    counted = []
    real = metrics.database_metrics

    async def counting(tx, now):  # type: ignore[no-untyped-def]
        counted.append(now)
        return await real(tx, now)

    monkeypatch.setattr(metrics, "database_metrics", counting)
    for _ in range(5):
        body = await (await client.get("/metrics", headers=BEARER)).text()
        assert "frontline_sweep_age_seconds" in body and "frontline_tickets" in body
    assert len(counted) == 1  # five scrapes, one count
