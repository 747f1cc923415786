"""A whole ticket life by WeCom: signed callbacks in, the fake WeCom API out, the real desk."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Frontline, build
from bot.wecom import WeComAdapter
from handlers.core.clock import FakeClock
from storage import people
from storage.models import Role, Ticket, TicketStatus
from tests.fakes.wecom_api import FakeWeComApi
from tests.support.fakes import valve_kb
from tests.wecom.conftest import Caller, plain_xml, wecom_settings

_times = itertools.count(1_800_000_000)


@dataclass
class WeComUser:
    """One person in WeCom: writes and presses through signed callbacks, reads the fake API."""

    fl: Frontline
    api: FakeWeComApi
    caller: Caller
    user_id: str

    @property
    def adapter(self) -> WeComAdapter:
        return self.fl.adapters["wecom"]  # type: ignore[return-value]

    async def says(self, text: str) -> None:
        await self._post(plain_xml("text", self.user_id, Content=text))

    async def presses(self, label: str) -> None:
        task, key = self.button(label)
        xml = plain_xml("event", self.user_id, create_time=next(_times),
                        Event="template_card_event", EventKey=key, TaskId=task,
                        CardType="button_interaction", ResponseCode=self.api.issue_code())
        await self._post(xml)

    async def sends_voice(self, media_id: str, fmt: str = "amr") -> None:
        await self._post(plain_xml("voice", self.user_id, MediaId=media_id, Format=fmt))

    async def _post(self, xml: str) -> None:
        assert await self.caller.post(xml) == 200
        await self.adapter.callback.drain()
        await self.fl.delivery.flush_all()

    def button(self, label: str) -> tuple[str, str]:
        """(task id, key) of the newest live button with this label shown to this person."""
        for card in reversed(self._cards()):
            for b in card.get("button_list", []):
                if b["text"] == label:
                    return card["task_id"], b["key"]
        raise AssertionError(f"no button {label!r} for {self.user_id}:\n{self.transcript()}")

    def _cards(self) -> list[dict[str, Any]]:
        mine = [m for m in self.api.timeline
                if m.get("touser") == self.user_id or self.user_id in m.get("userids", [])]
        return [m["template_card"] for m in mine if "template_card" in m]

    def messages(self) -> list[str]:
        shown = []
        for m in self.api.timeline:
            if m.get("touser") != self.user_id:
                continue
            if m["msgtype"] == "text":
                shown.append(m["text"]["content"])
            elif m["msgtype"] in ("image", "file", "voice"):
                shown.append(f"[{m['msgtype']} {m[m['msgtype']]['media_id']}]")
            else:
                card = m["template_card"]
                title = card.get("main_title", {}).get("title", "")
                shown.append(f"{title}\n{card.get('sub_title_text', '')}".strip())
        return shown

    def last(self) -> str:
        return self.messages()[-1]

    def heard(self, fragment: str) -> bool:
        return any(fragment in m for m in self.messages())

    def labels(self) -> list[str]:
        return [b["text"] for card in self._cards() for b in card.get("button_list", [])]

    def transcript(self) -> str:
        return "\n---\n".join(self.messages())


@pytest.fixture
async def desk(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Frontline, FakeWeComApi,
                                                                        Caller]]:
    async with FakeWeComApi() as api:
        settings = wecom_settings(
            api.base_url, database_url=database_url, channels="wecom",
            files_dir=tmp_path / "files", company_name="荔枝智慧果园",
            project_name="智慧果园运维服务", service_manager="陈经理",
            support_hotline="400-800-1234", outbox_retry_base_seconds=1.0,
        )
        fl = await build(settings, clock=FakeClock(), kb=valve_kb())
        await fl.start(schedule=False)
        async with TestClient(TestServer(fl.web_app, host="127.0.0.1")) as client:
            yield fl, api, Caller(client)
        await fl.stop()


async def person(desk: tuple[Frontline, FakeWeComApi, Caller], user_id: str, name: str,
                 role: Role, **kw: Any) -> WeComUser:
    fl, api, caller = desk
    async with fl.db.transaction() as tx:
        await people.add_person(tx, name=name, role=role, now=fl.clock.now(),
                                identities={"wecom": user_id}, **kw)
    return WeComUser(fl, api, caller, user_id)


async def test_a_whole_ticket_life_by_wecom_with_the_token_expiring_midway(desk):
    fl, api, _ = desk
    reporter = await person(desk, "liming", "李明", Role.REPORTER, site="一号园区",
                            phone="13800000001")
    engineer = await person(desk, "zhanggong", "张工", Role.ENGINEER, site="一号园区",
                            skills=["valve", "irrigation"], phone="13900000001")

    await reporter.says("3号地块电磁阀打不开，不出水")
    assert reporter.heard("《电磁阀打不开》")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert reporter.heard("FL-000001")

    assert engineer.heard("FL-000001") and {"接单", "拒单"} <= set(engineer.labels())
    page_task, _ = engineer.button("接单")

    api.expire_tokens()  # WeCom expires the token mid-run: refreshed once, nothing lost
    await engineer.presses("接单")
    assert "张工" in reporter.last() and "FL-000001" in reporter.last()
    assert any(u["template_card"]["task_id"] == page_task for u in api.updates)
    assert api.token_requests == 2

    await engineer.presses("出发去现场")
    assert reporter.heard("正在赶往现场")
    await engineer.presses("已到现场")
    await engineer.presses("已解决")
    await engineer.presses("通讯线路或硬件故障")
    await engineer.says("线圈烧坏")
    await engineer.says("更换了电磁阀线圈")
    if engineer.heard("防止再次发生"):  # the closing record asks for prevention too
        await engineer.says("雷雨季前检查线圈")
    assert reporter.heard("线圈烧坏") and {"已解决", "还没好"} <= set(reporter.labels())

    await reporter.presses("已解决")
    assert engineer.heard("已确认")
    for m in api.to(reporter.user_id):  # attachments (the fault report) were uploaded first
        if m["msgtype"] in ("image", "file"):
            assert m[m["msgtype"]]["media_id"] in api.uploads

    async with fl.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    assert ticket.cause == "线圈烧坏"
    print("REPORTER\n" + reporter.transcript() + "\nENGINEER\n" + engineer.transcript())
    assert fl.adapters["wecom"].status() == "ok"
