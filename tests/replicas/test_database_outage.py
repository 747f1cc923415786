"""The database unreachable for a while: the bot says so, keeps running, loses nothing."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.bootstrap import build
from bot.settings import Settings
from handlers.core.clock import FakeClock
from handlers.core.messages import Incoming, Kind
from storage.models import Role, Ticket
from tests.conftest import PG_URL, Cast, _clean_postgres
from tests.fakes.tcp_proxy import CuttableProxy
from tests.replicas.test_replicas import pytestmark  # noqa: F401  (needs PostgreSQL)
from tests.support.chat import settle
from tests.support.fakes import FakeChannel, valve_kb


async def test_an_outage_is_reported_unhealthy_and_every_report_survives(tmp_path):
    await _clean_postgres(PG_URL)
    pg = make_url(PG_URL)
    proxy = CuttableProxy(pg.host or "127.0.0.1", pg.port or 5432)
    port = await proxy.start()
    url = pg.set(port=port).render_as_string(hide_password=False)
    channel, clock = FakeChannel(), FakeClock()
    settings = Settings(database_url=url, channels="", files_dir=tmp_path / "files",
                        sla_digest_time="", weekly_report_cron="")
    fl = await build(settings, clock=clock, channels={"fake": channel}, kb=valve_kb())
    await fl.start(schedule=False)
    fl.scheduler.start()  # /healthz wants a live scheduler
    cast = Cast(fl, channel)
    reporter = await cast.add("r1", "李明", Role.REPORTER, site="一号园区")
    await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"])
    client = TestClient(TestServer(fl.web_app))
    await client.start_server()
    try:
        await reporter.says("电磁阀打不开")
        await reporter.presses("没解决，报修")
        await reporter.presses("单个设备")
        submit = Incoming("fake", "r1", "r1", "submit-1", Kind.BUTTON,
                          data=reporter.button("确认提交"))

        await proxy.cut()
        assert (await client.get("/healthz")).status == 503
        await fl.receive(submit)  # the desk cannot reach the database
        assert "请稍后再发一次" in channel.sent[-1].text  # told directly, not via the outbox

        await proxy.restore()
        assert (await client.get("/healthz")).status == 200
        await fl.receive(submit)  # the platform delivers the same update again
        await settle(fl)
        assert "已登记工单 FL-" in reporter.last().text
        async with fl.db.transaction() as tx:
            assert await tx.scalar(select(func.count()).select_from(Ticket)) == 1
    finally:
        await client.close()
        await fl.stop()
        await proxy.cut()
