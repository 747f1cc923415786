"""Random sequences of reporter, engineer and manager actions, button presses (valid, stale,
forged) and clock jumps through the real handlers, with invariants checked after every step.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from bot.bootstrap import build
from bot.settings import Settings
from handlers.core.clock import FakeClock
from handlers.rules.lifecycle import WORKING
from storage.models import Role, Ticket, TicketEvent, TicketStatus, Timer, TimerState
from tests.conftest import Cast
from tests.support.fakes import FakeChannel, valve_kb

TEXTS = ["电磁阀打不开", "水泵冒烟了，全部停了", "摄像头黑屏", "", "  ", "好", "催单", "投诉",
         "/status", "/cancel", "/help", "/open", "/lang en", "/lang zh", "/drafts", "我的工单",
         "/priority FL-000001 P1", "/category FL-000001 pump", "/duty off", "/duty on",
         "x" * 5000, "原因是线圈坏了", "已更换", "/urge", "/complain", "/nonsense"]
FORGED = ["t:1:ack", "t:2:done", "t:1:s5", "t:1:fu_again", "i:abc:submit", "d:1:ok", "k:1:ack",
          "t:99:ack", "zz", "t:1:" + "x" * 70, "t:1:p1", "t:1:c_pump", "t:1:take",
          "t:999999999999:ack", "a:1:approve", "a:999999999999:refuse"]
PEOPLE = ["r1", "r2", "e1", "e2", "x1", "m1", "stranger"]


class DeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = FakeClock()
        self.channel = FakeChannel()
        self.internal_errors = 0
        self.responded: dict[int, object] = {}
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        url = f"sqlite+aiosqlite:///{Path(self.tmp.name) / 'fuzz.db'}"
        s = Settings(database_url=url, channels="", files_dir=Path(self.tmp.name) / "files",
                     flood_burst=100_000)
        self.fl = await build(s, clock=self.clock, channels={"fake": self.channel},
                              kb=valve_kb())
        await self.fl.start(schedule=False)
        original = self.fl.desk._answer_internal

        async def counting(inc):  # an exception escaped a flow: that is a bug
            self.internal_errors += 1
            return await original(inc)

        self.fl.desk._answer_internal = counting
        cast = Cast(self.fl, self.channel)
        self.users = {
            "r1": await cast.add("r1", "李明", Role.REPORTER, site="一号园区"),
            "r2": await cast.add("r2", "周八", Role.REPORTER, site="二号园区"),
            "e1": await cast.add("e1", "张工", Role.ENGINEER, skills=["valve"], site="一号园区"),
            "e2": await cast.add("e2", "王工", Role.ENGINEER, skills=["camera"]),
            "x1": await cast.add("x1", "刘专家", Role.EXPERT),
            "m1": await cast.add("m1", "陈经理", Role.MANAGER),
            "stranger": cast.user("stranger"),
        }

    def teardown(self) -> None:
        self.loop.run_until_complete(self.fl.stop())
        self.loop.close()
        self.tmp.cleanup()

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    @rule(who=st.sampled_from(PEOPLE), text=st.sampled_from(TEXTS))
    def says(self, who: str, text: str) -> None:
        self.run(self.users[who].says(text))

    @rule(who=st.sampled_from(["r1", "r2"]), text=st.sampled_from(TEXTS[:3]),
          impact=st.integers(min_value=0, max_value=3))
    def reports_a_whole_fault(self, who: str, text: str, impact: int) -> None:
        self.run(self._report(who, text, impact))

    async def _report(self, who: str, text: str, impact: int) -> None:
        user = self.users[who]
        await user.says(text)
        for step in ("这是新的故障", "没解决，报修"):
            if self._newest_has(user, step):
                await user.presses(step)
        labels = [b.label for b in (user.last().buttons[impact % 4] if len(
            user.last().buttons) == 4 else ())]
        if labels:
            await user.presses(labels[0])
            if self._newest_has(user, "确认提交"):
                await user.presses("确认提交")

    @staticmethod
    def _newest_has(user, label: str) -> bool:  # type: ignore[no-untyped-def]
        inbox = user.inbox()
        return bool(inbox) and any(b.label == label for row in inbox[-1].buttons for b in row)

    @rule(who=st.sampled_from(PEOPLE), pick=st.integers(min_value=0, max_value=50),
          newest=st.booleans())
    def presses_a_button_they_were_shown(self, who: str, pick: int, newest: bool) -> None:
        inbox = [m for m in self.users[who].inbox() if m.buttons]
        if not inbox:
            return
        messages = inbox[-1:] if newest else inbox
        shown = [b.data for m in messages for row in m.buttons for b in row]
        self.run(self.users[who].presses_data(shown[-1 - pick % len(shown)]))

    @rule(who=st.sampled_from(PEOPLE), data=st.sampled_from(FORGED))
    def presses_a_forged_or_stale_button(self, who: str, data: str) -> None:
        self.run(self.users[who].presses_data(data))

    @rule(minutes=st.sampled_from([1, 14, 16, 61, 240, 60 * 9, 60 * 25, 60 * 24 * 3]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.run(self.fl.sweeper.run_once())

    @invariant()
    def nothing_escaped_dispatch(self) -> None:
        assert self.internal_errors == 0

    @invariant()
    def tickets_are_consistent(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        async with self.fl.db.transaction() as tx:
            tickets = await tx.scalars(select(Ticket))
            pending = await tx.scalars(select(Timer).where(Timer.state == TimerState.PENDING))
            events = await tx.scalars(select(TicketEvent).order_by(TicketEvent.id))
        kinds = {(t.ticket_id, t.kind) for t in pending}
        now = self.clock.now()
        for t in tickets:
            status = TicketStatus(t.status)  # exactly one valid state
            waiting = status in (TicketStatus.NEW, TicketStatus.PAGED)
            if t.responded_at is None and waiting and t.response_due > now:
                assert (t.id, "response_due") in kinds, f"{t.id} lost its response clock"
            if status in WORKING and t.paused_at is None and t.resolve_due > now:
                assert (t.id, "resolve_due") in kinds, f"{t.id} lost its resolution clock"
            if status is TicketStatus.RESOLVED and t.survey_state != "no_response":
                assert {(t.id, "followup"), (t.id, "followup_reminder"),
                        (t.id, "followup_expired")} & kinds or t.followup_step == "comment"
            if t.responded_at is not None:  # recorded SLA times never move
                assert self.responded.setdefault(t.id or 0, t.responded_at) == t.responded_at
            assert t.created_at <= t.updated_at
        times = [e.at for e in events]
        assert times == sorted(times), "the audit trail went back in time"


DeskMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_desk_survives_random_use = DeskMachine.TestCase
