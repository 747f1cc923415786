"""The routers: a flow adds itself in one file, keys are owned once, old buttons keep working,
and the state diagrams in docs/flows/ name the states the flows declare."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from handlers import flows
from handlers.core import tokens
from handlers.core.context import IDLE, Ctx
from handlers.core.router import RouteConflict, Router, Routes
from handlers.flows import complaints, consent, knowledge, oncall, registration
from handlers.flows.engineer import parts, work
from handlers.flows.inspections import base as inspections
from handlers.flows.intake import report
from storage import timers
from storage.models import Ticket, TicketStatus, Timer
from tests.handlers.test_ticket_life import report_valve_fault, resolve
from tests.support.chat import settle

DOCS = Path(__file__).parents[2] / "docs" / "flows"


class Toy(StrEnum):
    POKE = "poke"
    DUE = "toy_due"


def toy_router() -> Router:
    """A whole flow in one place: one command, one button, one timer."""
    router = Router("toy")

    @router.command("toy")
    async def hello(ctx: Ctx, arg: str) -> None:
        rows = [[("toy.poke", tokens.encode("y", 7, Toy.POKE))]]
        await ctx.reply("toy.hello", rows, arg=arg or "-")

    @router.record_button("y", Toy.POKE)
    async def poke(ctx: Ctx, ref: int, arg: str) -> None:
        await timers.schedule(ctx.tx, f"toy:{ref}", Toy.DUE, ctx.now, payload={"to": ref})
        await ctx.reply("toy.poked", ref=ref)

    @router.timer(Toy.DUE)
    async def due(ctx: Ctx, timer: Timer) -> None:
        FIRED.append(f"{timer.key} for {timer.payload['to']}")

    return router


FIRED: list[str] = []


async def test_a_toy_flow_is_one_router_plus_its_texts(app, reporter):
    app.desk.routes = Routes.assemble([*flows.ORDER, toy_router()])
    for lang, words in (("zh", ("玩具 {arg}", "戳一下", "戳了 {ref}")),
                        ("en", ("toy {arg}", "poke", "poked {ref}"))):
        app.texts.catalogs[lang].update(dict(zip(("toy.hello", "toy.poke", "toy.poked"), words,
                                                 strict=True)))
    FIRED.clear()

    await reporter.says("/toy 你好")
    assert reporter.last().text == "玩具 你好"
    await reporter.presses("戳一下")
    assert reporter.last().text == "戳了 7"
    await app.sweeper.run_once()
    await settle(app)
    assert FIRED == ["toy:7 for 7"]


def test_two_flows_cannot_claim_the_same_command_or_button():
    twin = Router("twin")

    @twin.command("status")
    async def mine(ctx: Ctx, arg: str) -> None: ...

    with pytest.raises(RouteConflict, match="twin: command 'status'"):
        Routes.assemble([*flows.ORDER, twin])

    button_twin = Router("button-twin")

    @button_twin.ticket_button(work.Action.RESOLVED)
    async def also(ctx: Ctx, ticket: Ticket, arg: str) -> None: ...

    with pytest.raises(RouteConflict, match="button"):
        Routes.assemble([*flows.ORDER, button_twin])


async def test_a_survey_button_sent_before_the_redesign_still_scores(app, clock, reporter,
                                                                     engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)
    clock.advance(hours=25)
    await app.sweeper.run_once()
    await settle(app)
    await reporter.presses("没有复发")

    await reporter.presses_data("t:1:s4")  # as the bot wrote score buttons before issue 14

    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert ticket.satisfaction == 4


async def test_an_old_priority_button_on_a_closed_job_gets_the_stale_answer(app, reporter,
                                                                          engineer):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await resolve(engineer)

    await engineer.presses_data("t:1:p1")  # an old 改优先级 choice, pressed after resolving

    assert engineer.last().text.startswith("这个按钮已过期：工单 FL-000001 的状态已经变了")
    async with app.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert ticket.priority == "P3" and ticket.status == TicketStatus.RESOLVED


async def test_an_old_impact_button_of_the_current_report_still_works(reporter):
    await reporter.says("电磁阀打不开")
    await reporter.presses("没解决，报修")
    nonce = tokens.parse(reporter.button("单个设备")).ref

    await reporter.presses_data(f"i:{nonce}:imp_single")  # the pre-issue-14 spelling

    assert "确认提交" in [b.label for row in reporter.last().buttons for b in row]


def _diagram_states() -> set[str]:
    names: set[str] = set()
    for path in DOCS.glob("*.mmd"):
        if path.name == "ticket.mmd":
            continue  # the ticket's statuses, checked below
        for line in path.read_text("utf-8").splitlines():
            m = re.match(r"\s*(\w+)\s*-->\s*(\w+)", line)
            if m:
                names |= {m[1], m[2]}
    return names - {"*", IDLE}


def test_the_conversation_diagrams_name_exactly_the_states_the_flows_declare():
    declared = {str(s) for enum in (report.State, registration.State, work.State,
                                    complaints.State, knowledge.State, consent.State,
                                    parts.State, oncall.State, inspections.State)
                for s in enum}
    assert _diagram_states() == declared
    assert set(flows.routes().cancels) == declared  # /cancel knows every dialogue


def test_the_ticket_diagram_names_every_status():
    text = (DOCS / "ticket.mmd").read_text("utf-8")
    drawn = {n for a, b in re.findall(r"(\w+)\s*-->\s*(\w+)", text) for n in (a, b)}
    assert drawn - {"*"} == {str(s) for s in TicketStatus}


async def test_an_earlier_steps_button_in_an_open_report_says_the_report_is_still_open(reporter):
    await reporter.says("电磁阀打不开")
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")  # now at the summary

    await reporter.presses("没解决，报修")  # the articles' button, pressed again

    assert reporter.last().text.startswith("这是前面步骤的按钮，这份报修还在进行中")
    assert "确认提交" in [b.label for m in reporter.inbox() for row in m.buttons for b in row]
