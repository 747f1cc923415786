"""SQLite's one writer in turns: people's transactions go before waiting background work."""

from __future__ import annotations

import asyncio

from storage.writer_turns import WriterTurns


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_person_waiting_goes_before_the_alarms_waiting():
    turns, order = WriterTurns(), []
    release = asyncio.Event()

    async def write(name: str, background: bool) -> None:
        async with turns.turn(background=background):
            order.append(name)
            if name == "alarm-1":
                await release.wait()  # writing while the others queue

    first = asyncio.create_task(write("alarm-1", True))
    await settle()
    queued = [asyncio.create_task(write(f"alarm-{n}", True)) for n in (2, 3)]
    await settle()
    person = asyncio.create_task(write("reply", False))  # came last, goes next
    await settle()
    release.set()
    await asyncio.gather(first, person, *queued)

    assert order[:2] == ["alarm-1", "reply"] and sorted(order[2:]) == ["alarm-2", "alarm-3"]


async def test_people_keep_their_own_order_and_background_runs_when_nobody_waits():
    turns, order = WriterTurns(), []

    async def write(name: str, background: bool = False) -> None:
        async with turns.turn(background=background):
            order.append(name)
            await asyncio.sleep(0)

    await asyncio.gather(*(write(f"reply-{n}") for n in range(3)))
    await write("alarm", background=True)  # alone: no wait at all
    assert order == ["reply-0", "reply-1", "reply-2", "alarm"]


async def _reply_held_then(turns: WriterTurns, middle: str) -> list[str]:
    """reply-1 writes and holds; then `middle` (background) queues; then reply-2 arrives."""
    order: list[str] = []
    hold = asyncio.Event()

    async def write(name: str, background: bool) -> None:
        async with turns.turn(background=background):
            order.append(name)
            if name == "reply-1":
                await hold.wait()

    first = asyncio.create_task(write("reply-1", False))
    await settle()
    queued = asyncio.create_task(write(middle, True))
    await settle()
    second = asyncio.create_task(write("reply-2", False))
    await settle()
    hold.set()
    await asyncio.gather(first, queued, second)
    return order


async def test_an_alarm_handed_the_lock_as_a_person_arrives_gives_it_back():
    assert await _reply_held_then(WriterTurns(), "alarm") == ["reply-1", "reply-2", "alarm"]


async def test_a_failing_step_frees_the_turn():
    turns = WriterTurns()

    async def fail(background: bool) -> None:
        async with turns.turn(background=background):
            raise RuntimeError("database hiccup")

    for background in (False, True):
        try:
            await fail(background)
        except RuntimeError:
            pass
    async with turns.turn(background=True):  # would hang if a turn were still held
        pass


async def test_background_work_out_of_patience_queues_with_the_people():
    # no patience: the timer queues at once, first come first served with the people
    assert await _reply_held_then(WriterTurns(patience=0), "timer") == [
        "reply-1", "timer", "reply-2"]
