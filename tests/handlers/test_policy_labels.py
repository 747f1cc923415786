"""Issue 16, "Clocks": the second policy calls its levels 重大/紧急/一般/咨询 (major, urgent, …),
and every message that shows a priority says so, in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest

import handlers
from handlers.rules.sla import SlaPolicy
from storage.models import Role
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import labels

POLICIES = Path(handlers.__file__).parent / "policies"
SECOND = POLICIES / "major-urgent-general.toml"
WHOLE = "整个系统/平台不能用"


def use_second_policy(app) -> None:  # type: ignore[no-untyped-def]
    app.desk.config = app.desk.config.model_copy(update={"sla_policy_file": SECOND})


async def test_the_second_policy_names_p1_major_for_reporter_engineer_and_manager(
        app, reporter, engineer, manager):
    use_second_policy(app)
    await report_valve_fault(reporter, impact=WHOLE)

    assert reporter.heard("优先级：P1 重大（")  # the summary before submitting
    assert reporter.last().text.startswith("已登记工单 FL-000001（P1 重大）")
    assert engineer.heard("【新工单】FL-000001 · P1 重大 ·")
    assert manager.heard("【紧急工单】FL-000001（P1 重大）")
    everything = reporter.transcript() + engineer.transcript() + manager.transcript()
    assert "P1 紧急" not in everything


async def test_p2_is_urgent_there_not_important(app, reporter, engineer):
    use_second_policy(app)
    await reporter.says("电磁阀打不开，很急")  # a single device, urgent: P2
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")

    assert "（P2 紧急）" in reporter.last().text and "重要" not in reporter.transcript()


async def test_english_readers_see_the_policys_english_names(app, cast):
    use_second_policy(app)
    reporter = await cast.add("r9", "Lee", Role.REPORTER, site="Site 1", language="en")
    engineer = await cast.add("e9", "Zhang", Role.ENGINEER, skills=["valve"], language="en")
    await reporter.says("valve 3 will not open, 电磁阀打不开")
    await reporter.presses("Not solved, report it")
    await reporter.presses("Whole system / platform down")
    await reporter.presses("Submit")

    assert "(P1 major)" in reporter.last().text
    assert engineer.heard("[NEW JOB] FL-000001 · P1 major ·")


async def test_the_engineers_priority_buttons_use_the_policys_names(app, reporter, engineer):
    use_second_policy(app)
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("改优先级")

    assert "当前优先级：P3 一般" in engineer.last().text
    assert labels(engineer.last()) == ["P1 重大", "P2 紧急", "P3 一般", "P4 咨询"]
    await engineer.presses("P2 紧急")
    assert "从 P3 一般 调整为 P2 紧急" in engineer.last().text
    assert "优先级已调整为 P2 紧急" in reporter.last().text


async def test_the_default_policy_keeps_its_own_names(app, reporter, engineer):
    await report_valve_fault(reporter, impact=WHOLE)
    assert "（P1 紧急）" in reporter.last().text and "重大" not in reporter.transcript()


def test_a_level_the_policy_does_not_name_in_a_language_falls_back_to_the_catalog():
    text = SECOND.read_text("utf-8").replace('label = { zh = "重大", en = "major" }',
                                             'label = { zh = "重大" }')
    policy = SlaPolicy.from_toml(text)
    assert policy.label("P1", "zh") == "重大" and policy.label("P1", "en") is None
    assert policy.label("P2", "en") == "urgent"


async def test_a_policy_without_names_shows_the_catalogs_labels(app, reporter, engineer,
                                                                tmp_path):
    bare = tmp_path / "bare.toml"
    bare.write_text("\n".join(line for line in SECOND.read_text("utf-8").splitlines()
                              if not line.startswith("label =")), encoding="utf-8")
    app.desk.config = app.desk.config.model_copy(update={"sla_policy_file": bare})
    await report_valve_fault(reporter, impact=WHOLE)
    assert "（P1 紧急）" in reporter.last().text


@pytest.mark.parametrize("label", ['"重大"', "{ zh = 1 }", '{ zh = "" }'])
def test_a_label_that_is_not_names_by_language_is_refused(label):
    text = SECOND.read_text("utf-8").replace('{ zh = "重大", en = "major" }', label)
    with pytest.raises(ValueError, match="P1: label"):
        SlaPolicy.from_toml(text)
