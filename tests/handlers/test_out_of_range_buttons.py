"""A button naming a record number past the database's integer range is a forged button: the
polite bad-button answer, never "系统繁忙" (on PostgreSQL the number would overflow)."""

from __future__ import annotations

import logging

import pytest

from tests.handlers.test_ticket_life import report_valve_fault

HUGE = "999999999999"


@pytest.mark.parametrize("data", [f"t:{HUGE}:ack", f"t:{HUGE}:urge", f"d:{HUGE}:ok",
                                  f"k:{HUGE}:ack", "t:2147483648:ack", f"t:1:score:{HUGE}"])
async def test_a_button_naming_a_number_past_the_integer_range_gets_the_bad_button_answer(
    reporter, engineer, manager, caplog, data
):
    await report_valve_fault(reporter)
    caplog.set_level(logging.WARNING)
    for who in (reporter, manager):
        await who.presses_data(data)
        assert not who.heard("系统繁忙")
        assert any(w in who.last().text for w in ("无法识别", "已结束", "没有权限", "已过期"))
    assert "database failure" not in caplog.text
    if data.startswith("t:999") or data.startswith("t:2147") or data.startswith(("d:", "k:")):
        assert "bad input: a button we never issued" in caplog.text
