"""Monitoring alarms through the desk: incidents, grace, topology, people meeting alarms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from handlers.core.messages import Alarm, Heartbeat
from handlers.flows.alarms import registry
from handlers.flows.reporting import figures, render
from handlers.flows.reporting import period as period_of
from handlers.rules import devices
from storage.models import AlarmRecord, Device, Incident, Ticket, TicketFollower, TicketStatus
from tests.handlers.test_sla_and_escalation import events, tick
from tests.handlers.test_ticket_life import resolve
from tests.support.chat import settle

REGISTRY = """
[[device]]
id = "gw-01"
name = "3号地块网关"
type = "gateway"
site = "一号园区"
plot = "3号地块"

[[device]]
id = "valve-07"
name = "7号电磁阀"
type = "valve"
site = "一号园区"
plot = "3号地块"
parent = "gw-01"

[[device]]
id = "soil-01"
name = "土壤墒情1"
type = "sensor"
site = "一号园区"
plot = "3号地块"
parent = "gw-01"
"""
WATCHED = """
[[device]]
id = "soil-hb"
type = "sensor"
site = "一号园区"
heartbeat_minutes = 10
"""
SENSORS = "".join(
    f'\n[[device]]\nid = "soil-{i:02d}"\ntype = "sensor"\nsite = "一号园区"\nparent = "gw-01"\n'
    for i in range(2, 21))


async def load_registry(app, text: str = REGISTRY) -> None:
    rows = devices.parse_toml(text, "devices.toml")
    await app.desk.run_job("test:devices", lambda ctx: registry.store(ctx, rows))


_seq = iter(range(1, 10**6))


def alarm(app, device: str, kind: str = "offline", *, firing: bool = True,
          severity: str = "major", at: datetime | None = None, summary: str = "",
          event_id: str = "") -> Alarm:
    return Alarm(source="alertmanager", event_id=event_id or f"e{next(_seq)}", device=device,
                 kind=kind, firing=firing, at=at or app.clock.now(), severity=severity,
                 summary=summary)


async def fire(app, *alarms: Alarm) -> list[bool]:
    got = [await app.desk.alarm(a) for a in alarms]
    await settle(app)
    return got


async def rows(app, model) -> list:
    async with app.db.transaction() as tx:
        return await tx.scalars(select(model).order_by(model.id))


@pytest.fixture
async def orchard(app):
    await load_registry(app)
    return app


async def test_a_gateway_down_past_its_grace_pages_the_engineer_with_its_story(
    orchard, clock, engineer, manager
):
    await fire(orchard, alarm(orchard, "gw-01", severity="major", summary="网关离线"))
    assert engineer.inbox() == []  # grace: 5 minutes for major in the day
    await tick(orchard, clock, minutes=5)

    page = engineer.last().text
    assert "【新工单】" in page and "监控系统" in page
    assert "3号地块网关" in page and "gw-01" in page and "3号地块" in page
    assert "网关离线" in page
    assert [b.label for row in engineer.last().buttons for b in row] == ["接单", "拒单"]
    (t,) = await rows(orchard, Ticket)
    assert t.channel == "monitoring" and t.device == "gw-01" and t.priority == "P2"
    assert t.category == "network"


async def test_a_gateway_back_within_its_grace_at_night_pages_nobody_but_is_recorded(
    orchard, clock, engineer
):
    clock.set(datetime(2026, 12, 2, 18, 0, tzinfo=UTC))  # 02:00 in the orchard
    await fire(orchard, alarm(orchard, "gw-01"))
    await tick(orchard, clock, minutes=2)
    await fire(orchard, alarm(orchard, "gw-01", firing=False))
    await tick(orchard, clock, minutes=30)

    assert engineer.inbox() == [] and await rows(orchard, Ticket) == []
    (inc,) = await rows(orchard, Incident)
    assert inc.state == "cleared" and inc.open_key is None and inc.count == 2
    assert [r.firing for r in await rows(orchard, AlarmRecord)] == [True, False]


async def test_fifty_repeats_make_one_incident_and_one_ticket(orchard, clock, engineer):
    first = alarm(orchard, "valve-07", "stuck", severity="critical")
    got = await fire(orchard, first, first)  # the same event twice: a replay
    assert got == [True, False]
    for _ in range(49):
        await fire(orchard, alarm(orchard, "valve-07", "stuck", severity="critical"))
    await tick(orchard, clock, minutes=10)
    for _ in range(3):
        await fire(orchard, alarm(orchard, "valve-07", "stuck", severity="critical"))

    assert len(await rows(orchard, Ticket)) == 1
    (inc,) = await rows(orchard, Incident)
    assert inc.count == 53
    assert sum("【新工单】" in m.text for m in engineer.inbox()) == 1


async def test_a_gateway_outage_with_its_sensors_is_one_incident(orchard, clock, engineer):
    await load_registry(orchard, REGISTRY + SENSORS)
    # the sensors notice first, then the gateway's own alarm arrives
    for i in range(1, 21):
        await fire(orchard, alarm(orchard, f"soil-{i:02d}", "no_data", severity="major"))
    await fire(orchard, alarm(orchard, "gw-01", severity="critical"))
    await fire(orchard, alarm(orchard, "valve-07", "offline"))  # after the gateway: attached
    await tick(orchard, clock, minutes=15)

    (t,) = await rows(orchard, Ticket)
    assert t.device == "gw-01"
    incidents = await rows(orchard, Incident)
    gw = next(i for i in incidents if i.device == "gw-01")
    assert all(i.parent_id == gw.id for i in incidents if i is not gw)
    assert "其后 21 台设备同时告警" in engineer.last().text


async def test_a_staff_report_about_a_known_fault_joins_its_ticket(
    orchard, clock, reporter, engineer
):
    await fire(orchard, alarm(orchard, "gw-01", severity="critical"))
    await tick(orchard, clock, minutes=5)
    await engineer.presses("接单")

    await reporter.says("3号地块的土壤数据没了")  # no article covers it
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert "监控已经发现了" in reporter.last().text and "FL-000001" in reporter.last().text
    assert "张工 正在处理" in reporter.last().text
    assert len(await rows(orchard, Ticket)) == 1
    assert "李明" in engineer.last().text and "土壤数据没了" in engineer.last().text
    (f,) = await rows(orchard, TicketFollower)
    assert f.ticket_id == 1

    await resolve(engineer)
    assert "已由 张工 修好" in reporter.last().text


async def test_a_staff_report_during_the_grace_period_becomes_the_alarms_ticket(
    orchard, clock, reporter, engineer
):
    await fire(orchard, alarm(orchard, "valve-07", "stuck", severity="minor"))
    await reporter.says("3号地块电磁阀打不开，不出水")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert "已登记工单 FL-000001" in reporter.last().text
    await tick(orchard, clock, minutes=30)  # the grace timer no longer pages

    (t,) = await rows(orchard, Ticket)
    assert t.device == "valve-07" and t.channel != "monitoring"
    assert sum("【新工单】" in m.text for m in engineer.inbox()) == 1
    (inc,) = await rows(orchard, Incident)
    assert inc.ticket_id == t.id


async def test_cleared_by_monitoring_asks_the_engineer_to_confirm_and_a_firing_alarm_warns(
    orchard, clock, engineer
):
    await fire(orchard, alarm(orchard, "gw-01", severity="critical"))
    await tick(orchard, clock, minutes=5)
    await engineer.presses("接单")
    await engineer.presses("已解决")
    assert any("监控告警仍在" in m.text for m in engineer.inbox()[-2:])
    await engineer.presses_data(engineer.inbox()[-1].buttons[0][0].data)  # back out: pick again

    await fire(orchard, alarm(orchard, "gw-01", firing=False))
    assert "已恢复正常" in engineer.last().text
    assert [b.label for row in engineer.last().buttons for b in row] == ["已解决"]
    assert len(await events(orchard, "alarm_cleared")) == 1


async def test_the_follow_up_of_an_alarm_ticket_checks_the_alarm(orchard, clock, engineer):
    await fire(orchard, alarm(orchard, "gw-01", severity="critical"))
    await tick(orchard, clock, minutes=5)
    await engineer.presses("接单")
    await fire(orchard, alarm(orchard, "gw-01", firing=False))
    await resolve(engineer)
    await tick(orchard, clock, hours=25)

    t = (await rows(orchard, Ticket))[0]
    assert t.status == TicketStatus.CLOSED and t.survey_state == ""
    assert len(await events(orchard, "alarm_quiet")) == 1
    (inc,) = await rows(orchard, Incident)
    assert inc.open_key == "gw-01/offline"  # closes with the next alarm of its key

    await fire(orchard, alarm(orchard, "gw-01", severity="critical"))  # a new fault
    incidents = await rows(orchard, Incident)
    assert len(incidents) == 2 and incidents[0].state == "closed"


async def test_an_alarm_back_after_the_fix_reopens_the_ticket_at_the_follow_up(
    orchard, clock, engineer, manager
):
    await fire(orchard, alarm(orchard, "gw-01", severity="major"))
    await tick(orchard, clock, minutes=5)
    await engineer.presses("接单")
    await fire(orchard, alarm(orchard, "gw-01", firing=False))
    await resolve(engineer)
    await fire(orchard, alarm(orchard, "gw-01"))
    assert "修复后再次告警" in manager.last().text
    await tick(orchard, clock, hours=25)

    t = (await rows(orchard, Ticket))[0]
    assert t.status == TicketStatus.REOPENED and t.priority == "P1" and t.recurrences == 1


async def test_a_flapping_device_is_paged_at_its_third_flap_and_only_once(orchard, clock,
                                                                         engineer):
    async def flap() -> None:
        await fire(orchard, alarm(orchard, "valve-07", severity="minor"))
        clock.advance(minutes=1)
        await fire(orchard, alarm(orchard, "valve-07", severity="minor", firing=False))
        clock.advance(minutes=1)

    for _ in range(3):  # fired three times: two flaps, each back within its grace
        await flap()
    assert await rows(orchard, Ticket) == []
    await fire(orchard, alarm(orchard, "valve-07", severity="minor"))  # the third flap
    assert len(await rows(orchard, Ticket)) == 1
    for _ in range(3):
        await flap()
    await tick(orchard, clock, minutes=60)

    assert len(await rows(orchard, Ticket)) == 1
    (inc,) = await rows(orchard, Incident)
    assert inc.flapping and inc.flaps == 5  # the first fire of these repeated a firing one
    assert "反复掉线" in engineer.inbox()[0].text
    assert sum("【新工单】" in m.text for m in engineer.inbox()) == 1


async def test_a_silent_device_raises_an_alarm_and_a_heartbeat_clears_it(orchard, clock):
    await load_registry(orchard, REGISTRY + WATCHED)
    beat = Heartbeat(source="generic", device="soil-hb", at=clock.now(), event_id="b1")
    assert await orchard.desk.alarm(beat) is True
    assert await orchard.desk.alarm(beat) is False  # replay
    await tick(orchard, clock, minutes=9)
    assert await rows(orchard, Incident) == []
    await tick(orchard, clock, minutes=2)
    (inc,) = await rows(orchard, Incident)
    assert inc.kind == "silent" and inc.firing

    await orchard.desk.alarm(Heartbeat(source="generic", device="soil-hb", at=clock.now(),
                                       event_id="b2"))
    (inc,) = await rows(orchard, Incident)
    assert not inc.firing and inc.state == "cleared"


async def test_an_unknown_device_still_makes_an_alarm_flagged(app, clock, engineer):
    await fire(app, alarm(app, "mystery-9", severity="critical", summary="温度过高"))
    await tick(app, clock, minutes=5)
    (t,) = await rows(app, Ticket)
    assert t.device == "mystery-9" and t.category == "general"
    async with app.db.transaction() as tx:
        dev = await tx.get(Device, "mystery-9")
    assert dev is not None and dev.registered is False


def test_a_registry_with_problems_is_refused_with_lines():
    bad = 'id,type,parent,colour\n"gw",gateway,,red\n'
    with pytest.raises(devices.RegistryError, match="unknown column 'colour'"):
        devices.parse_csv(bad, "d.csv")
    loop = "id,parent\na,b\nb,a\nc,zz\nd,\nd,\n"
    with pytest.raises(devices.RegistryError) as err:
        devices.parse_csv(loop, "d.csv")
    text = str(err.value)
    assert "d.csv:2: 'a' is behind itself" in text
    assert "d.csv:4: parent 'zz' of 'c' is not in the registry" in text
    assert "d.csv:6: device 'd' is listed twice (first on line 5)" in text
    rows_ = devices.parse_csv("id,heartbeat_minutes,site\ngw,10,一号园区\n", "ok.csv")
    assert rows_[0].heartbeat_minutes == 10 and rows_[0].site == "一号园区"
    with pytest.raises(devices.RegistryError, match="heartbeat_minutes"):
        devices.parse_csv("id,heartbeat_minutes\ngw,-3\n", "d.csv")


async def test_reports_count_alarms_incidents_and_availability(orchard, clock, engineer,
                                                               reporter):
    clock.set(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    gw = alarm(orchard, "gw-01", severity="critical")
    await fire(orchard, gw, alarm(orchard, "gw-01", severity="critical"),
               alarm(orchard, "soil-01", "no_data"))
    await tick(orchard, clock, minutes=5)
    await tick(orchard, clock, minutes=5)
    await engineer.presses("接单")
    await tick(orchard, clock, minutes=50)
    await fire(orchard, alarm(orchard, "gw-01", firing=False))

    period = period_of.parse("2026-12", "Asia/Shanghai")
    async with orchard.db.transaction() as tx:
        fig = await figures.compute(tx, period, clock.now())
    m = fig.monitoring
    assert (m.alerts, m.incidents, m.noise) == (4, 2, 2.0)
    assert m.to_page.count == 1 and m.to_page.mean_minutes == 5.0
    assert m.to_ack.count == 1 and m.to_ack.mean_minutes == 10.0
    assert (m.alarm_tickets, m.human_tickets) == (1, 0)
    net = m.availability["network"]  # an hour down in the month so far
    assert net.down_minutes == 60.0 and not net.on_target and "sensor" not in m.availability

    lb = render.Labels(orchard.texts, "zh")
    text = render.table(fig, lb)
    assert "4 条告警，2 个故障" in text and "监控 1 件，人工报修 0 件" in text
    assert "网络/网关" in text and "✗ 未达标" in text
