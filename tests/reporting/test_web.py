"""The dashboard's sign-in and pages, and /metrics, on the real aiohttp app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.dashboard import COOKIE, issue_token
from bot.metrics import health_fields


@pytest.fixture
async def client(app, history) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app.web_app)) as c:  # bootstrap added every route
        yield c


def token(app, minutes: float = 15) -> str:
    return issue_token(app.settings.files_dir, app.clock.now(), minutes)


async def test_the_dashboard_wants_a_token(client):
    page = await client.get("/dashboard", allow_redirects=False)
    assert page.status == 401 and "frontline dashboard token" in await page.text()
    assert (await client.get("/dashboard/login", allow_redirects=False)).status == 401
    assert (await client.get("/dashboard/chart/sla.png")).status == 401


async def test_a_wrong_token_is_forbidden(app, client):
    token(app)  # a real one exists, but it is not this one
    login = await client.get("/dashboard/login?token=guess", allow_redirects=False)
    assert login.status == 403 and COOKIE not in login.cookies
    client.session.cookie_jar.update_cookies({COOKIE: "guess"})
    assert (await client.get("/dashboard")).status == 403


async def test_an_expired_token_is_forbidden(app, client):
    old = token(app, minutes=15)
    app.clock.advance(minutes=16)
    assert (await client.get(f"/dashboard/login?token={old}")).status == 403


async def test_a_signed_in_manager_sees_open_tickets_and_figures(app, client):
    login = await client.get(f"/dashboard/login?token={token(app)}", allow_redirects=False)
    assert login.status == 303 and login.headers["Location"] == "/dashboard"
    assert "HttpOnly" in login.headers["Set-Cookie"]
    client.session.cookie_jar.update_cookies({COOKIE: login.cookies[COOKIE].value})
    page = await client.get("/dashboard")
    html = await page.text()
    assert page.status == 200
    assert "FL-000007" in html and 'class="ticket overdue"' in html  # T6, never answered
    assert "FL-000008" not in html  # T7 was cancelled
    assert "服务及时率（按时响应）" in html and "/dashboard/chart/weekly.png" in html
    assert f'data-due="{(app.clock.now() - timedelta(days=1)).year}' in html
    chart = await client.get("/dashboard/chart/weekly.png")
    assert chart.content_type == "image/png" and (await chart.read()).startswith(b"\x89PNG")
    assert (await client.get("/dashboard/chart/nope.png")).status == 404
    script = await client.get("/dashboard/static/dashboard.js")
    assert script.status == 200 and "setInterval" in await script.text()


async def test_metrics_expose_the_series(client):
    body = await (await client.get("/metrics")).text()
    assert 'frontline_tickets{priority="P3",status="closed"} 4.0' in body
    assert 'frontline_tickets{priority="P2",status="paged"} 1.0' in body
    assert 'frontline_sla_breaches_total{clock="resolve"} 3.0' in body
    assert 'frontline_sla_breaches_total{clock="response"} 2.0' in body
    assert "frontline_outbox_backlog 0.0" in body
    assert "frontline_timer_lag_seconds 0.0" in body
    assert "frontline_database_up 1.0" in body
    assert "# TYPE frontline_messages_in_total counter" in body


async def test_messages_in_and_out_are_counted_by_channel(app, client, manager):
    await manager.says("/help")
    body = await (await client.get("/metrics")).text()
    assert 'frontline_messages_in_total{channel="fake"} 1.0' in body
    assert 'frontline_messages_out_total{channel="fake",state="sent"} 1.0' in body


async def test_health_fields_add_timer_lag_and_the_last_sweep(app):
    fields = await health_fields(app.db, app.clock, app.sweeper)
    assert fields["timer_lag_seconds"] == 0.0 and "last_sweep" in fields


async def test_healthz_reports_the_database_the_scheduler_and_the_timers(client):
    answer = await client.get("/healthz")
    report = await answer.json()
    assert report["database"] == "ok" and report["outbox_backlog"] == 0
    assert report["scheduler"] == "stopped" and answer.status == 503  # started without it
    assert report["timer_lag_seconds"] == 0.0 and report["channels"] == {}
