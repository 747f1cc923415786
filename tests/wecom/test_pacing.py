"""Per-person pacing: at most 30 messages a minute to one person, the rest delayed."""

from __future__ import annotations

import pytest

from bot.channels import DeliveryError
from bot.wecom.pacing import Pacer, PacingBusy
from handlers.core.messages import Outgoing


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def pacer(clock: FakeTime, max_wait: float = 5.0) -> Pacer:
    return Pacer(limit=30, window=60.0, max_wait=max_wait, now=clock, sleep=clock.sleep)


async def test_thirty_messages_to_one_person_go_at_once(clock):
    p = pacer(clock)
    for _ in range(30):
        assert await p.wait("lisi") == 0.0
    assert clock.slept == []


async def test_the_thirty_first_message_in_a_minute_is_delayed(clock):
    p = pacer(clock)
    for _ in range(30):
        await p.wait("lisi")
        clock.now += 2.0  # one every two seconds: the first is 60 s old when the loop ends
    clock.now -= 1.5  # … but the 31st comes 1.5 s before that
    assert await p.wait("lisi") == pytest.approx(1.5)
    assert clock.slept == [pytest.approx(1.5)]


async def test_other_people_are_not_held_up_by_a_busy_one(clock):
    p = pacer(clock)
    for _ in range(30):
        await p.wait("lisi")
    assert await p.wait("zhangsan") == 0.0


async def test_a_wait_longer_than_allowed_is_left_to_the_outbox(clock):
    p = pacer(clock, max_wait=5.0)
    for _ in range(30):
        await p.wait("lisi")
    with pytest.raises(PacingBusy) as caught:
        await p.wait("lisi")
    assert caught.value.wait == pytest.approx(60.0) and clock.slept == []
    clock.now += 60.0
    assert await p.wait("lisi") == 0.0  # the refused one took no slot


async def test_the_adapter_turns_a_long_wait_into_a_delivery_error(adapter, api, clock):
    adapter.pacer = pacer(clock, max_wait=5.0)
    for i in range(30):
        await adapter.send(Outgoing("wecom", "lisi", f"消息{i}", key=f"k{i}"))
    with pytest.raises(DeliveryError) as caught:
        await adapter.send(Outgoing("wecom", "lisi", "第31条", key="k31"))
    assert caught.value.retry_after == pytest.approx(60.0)
    assert len(api.to("lisi")) == 30
