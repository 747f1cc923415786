"""Spare parts used (备品备件): asked once the job is resolved, by buttons or typed words; the
managers' fault report waits for the answer and lists them."""

from __future__ import annotations

from sqlalchemy import select

from bot.webchat import mark_live
from handlers.core.messages import Kind
from storage import tickets
from storage.models import PartUsage, Role, TicketEvent, TicketStatus
from tests.handlers.test_sla_and_escalation import events, tick, ticket
from tests.handlers.test_ticket_life import report_uncovered_fault, report_valve_fault
from tests.support.chat import labels

QUESTION = "用了备件吗"


async def fixed(reporter, engineer) -> None:
    """A valve job, accepted and resolved; the parts question is the engineer's last message."""
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    await engineer.presses("已解决")
    await engineer.presses("通讯线路或硬件故障")
    for text in ("线圈老化烧坏", "更换电磁阀", "每季度检查线圈电阻"):
        await engineer.says(text)


async def usage(app) -> list[tuple[str, int]]:
    async with app.db.transaction() as tx:
        rows = await tx.scalars(select(PartUsage).order_by(PartUsage.id))
    return [(r.code, r.quantity) for r in rows]


async def test_two_parts_by_button_and_by_name_reach_the_managers_report(
    app, reporter, engineer, manager
):
    await fixed(reporter, engineer)
    asked = engineer.last()
    assert asked.text.startswith("工单 FL-000001 用了备件吗？")
    assert labels(asked)[:3] == ["电磁阀 DN32", "电磁阀 DN50", "电磁阀线圈 24V AC"]  # valve job
    assert labels(asked)[-2:] == ["其他", "没有用备件"]

    await engineer.presses("电磁阀 DN32")
    assert engineer.last().text.startswith("电磁阀 DN32 用了多少个？")
    assert labels(engineer.last()) == ["1", "2", "3"]
    await engineer.presses("2")
    assert engineer.last().text == "已记录：电磁阀 DN32 × 2 个。\n还有别的备件吗？"
    assert labels(engineer.last()) == ["添加", "完成"]
    await engineer.presses("添加")
    await engineer.presses("其他")
    assert "请输入备件名称或编号" in engineer.last().text
    await engineer.says("电瓶")  # an alias of the 12 V battery
    assert engineer.last().text.startswith("12V 蓄电池（100Ah） 用了多少个？")
    await engineer.says("1")
    await engineer.presses("完成")

    assert engineer.last().text == (
        "工单 FL-000001 的备件已登记：\n电磁阀 DN32（SV_DN32）× 2 个\n"
        "12V 蓄电池（100Ah）（BAT_12V）× 1 个\n故障报告已发给服务经理。")
    report = manager.last().text
    assert report.startswith("故障处理报告 FL-000001")
    assert ("【更换备件】\n电磁阀 DN32（SV_DN32）× 2 个\n12V 蓄电池（100Ah）（BAT_12V）× 1 个"
            in report)
    assert await usage(app) == [("SV_DN32", 2), ("BAT_12V", 1)]
    assert (await ticket(app)).status == TicketStatus.RESOLVED
    assert len(await events(app, "parts_used")) == 2


async def test_the_ticket_is_resolved_and_the_reporter_told_before_the_parts_question(
    app, reporter, engineer, manager
):
    await fixed(reporter, engineer)

    assert (await ticket(app)).status == TicketStatus.RESOLVED
    summary = reporter.last()
    assert summary.text.startswith("工单 FL-000001 已处理完毕。")
    assert summary.text.endswith("问题解决了吗？")
    assert labels(summary) == ["已解决", "还没好"]
    assert not manager.heard("故障处理报告")  # the report waits for the parts
    await engineer.presses("没有用备件")
    assert engineer.last().text == "好的，工单 FL-000001 没有用备件。故障报告已发给服务经理。"
    assert "【更换备件】\n无" in manager.last().text
    assert await usage(app) == []


async def test_a_typed_name_offers_the_close_parts_and_nonsense_gets_the_list_again(
    app, reporter, engineer
):
    await fixed(reporter, engineer)

    await engineer.says("阀门")  # two valves share the word: choose
    assert engineer.last().text.startswith("“阀门”可能是下面这些备件")
    assert labels(engineer.last()) == ["电磁阀 DN32", "电磁阀 DN50"]
    await engineer.says("xyzzy")
    assert engineer.last().text.startswith("备件清单里没有找到“xyzzy”")
    assert "没有用备件" in labels(engineer.last())
    await engineer.says("ｌｏｒａ_ant")  # a code, full-width and in lower case
    assert engineer.last().text.startswith("LoRa 网关天线 用了多少个？")
    await engineer.says("3个")
    assert await usage(app) == [("LORA_ANT", 3)]
    await engineer.says("滴灌管")  # after 还有别的吗, a typed name is the next part
    assert labels(engineer.last()) == ["滴灌管 16mm", "滴灌管直通接头 16mm"]
    await engineer.presses("滴灌管 16mm")
    assert engineer.last().text.startswith("滴灌管 16mm 用了多少米？")


async def test_a_quantity_out_of_range_or_not_a_number_is_asked_again(app, reporter, engineer):
    await fixed(reporter, engineer)
    await engineer.presses("电磁阀 DN50")

    for typed in ("abc", "0", "-1", "10000", "1.5", "99999999999999999999999"):
        await engineer.says(typed)
        said = engineer.last().text
        assert said.startswith(f"“{typed[:20]}”不是有效的数量。电磁阀 DN50 用了多少？")
        assert "1 到 999 的整数" in engineer.last().text
        assert labels(engineer.last()) == ["1", "2", "3"]
    await engineer.sends_photo(None)
    assert "请点按钮，或用文字输入备件名称和数量" in engineer.last().text
    await engineer.send(engineer.incoming(Kind.LOCATION, location=(22.5, 114.0)))
    assert "请点按钮，或用文字输入备件名称和数量" in engineer.last().text
    assert await usage(app) == []

    await engineer.says("两个")
    assert await usage(app) == [("SV_DN50", 2)]
    await engineer.says("完成")
    assert "备件已登记" in engineer.last().text


async def test_cancel_ends_it_and_the_report_follows_after_the_wait(
    app, clock, reporter, engineer, manager
):
    await fixed(reporter, engineer)
    await engineer.presses("电磁阀 DN32")
    await engineer.presses("1")

    await engineer.says("/cancel")
    assert engineer.last().text.startswith("备件登记已结束，已记录的备件都保留")
    assert not manager.heard("故障处理报告")
    await tick(app, clock, minutes=29)
    assert not manager.heard("故障处理报告")
    await tick(app, clock, minutes=1)

    assert "【更换备件】\n电磁阀 DN32（SV_DN32）× 1 个" in manager.last().text
    assert len(await events(app, "report_sent")) == 1
    await engineer.presses("添加")  # the dialogue is over
    assert engineer.last().text == "工单 FL-000001 的这一步备件登记已经结束，这个按钮不用再按了。"


async def test_parts_recorded_after_the_report_went_send_it_again(
    app, clock, reporter, engineer, manager
):
    await fixed(reporter, engineer)
    await tick(app, clock, minutes=30)  # nobody answered: the report goes without parts
    assert "【更换备件】\n无" in manager.last().text

    await engineer.says("保险丝")
    await engineer.presses("保险丝 10A")
    await engineer.presses("2")
    await engineer.presses("完成")

    assert "【更换备件】\n保险丝 10A（FUSE_10A）× 2 个" in manager.last().text
    assert len(await events(app, "report_sent")) == 2


async def test_an_old_button_a_second_press_and_someone_elses_press_are_refused(
    app, reporter, engineer, engineer2
):
    await fixed(reporter, engineer)
    await engineer.presses("电磁阀 DN32")
    quantity = engineer.button("2")
    await engineer.presses_data(quantity)
    await engineer.presses_data(quantity)  # pressed twice
    assert "这一步备件登记已经结束" in engineer.last().text
    assert await usage(app) == [("SV_DN32", 2)]

    await engineer2.presses_data(quantity)  # another engineer with the same token
    assert engineer2.last().text == "工单 FL-000001 不是由您负责的，不能操作。"
    await reporter.presses_data(quantity)
    assert reporter.last().text.startswith("抱歉，您没有权限")
    await engineer.presses_data("p:1:part_pick:NO_SUCH_PART")
    assert "这一步备件登记已经结束" in engineer.last().text  # not asked now
    await engineer.presses("添加")
    await engineer.presses_data("p:1:part_pick:NO_SUCH_PART")
    assert engineer.last().text.startswith("备件清单已更新，这个备件不在清单里了")
    await engineer.presses_data("p:1:part_qty:1000")  # never issued
    assert "这个按钮" in engineer.last().text
    assert await usage(app) == [("SV_DN32", 2)]


async def test_the_same_update_delivered_twice_records_the_part_once(app, reporter, engineer):
    await fixed(reporter, engineer)
    await engineer.presses("电磁阀 DN32")
    twice = engineer.incoming(Kind.TEXT, text="3")

    await engineer.send(twice)
    await engineer.send(twice)

    assert await usage(app) == [("SV_DN32", 3)]


async def test_an_english_speaking_engineer_records_parts_in_english(app, cast, reporter,
                                                                    manager):
    grace = await cast.add("e9", "Grace", Role.ENGINEER, site="一号园区", language="en",
                           skills=["valve", "irrigation"])
    await report_valve_fault(reporter)
    await grace.presses("Accept")
    await grace.presses("Resolved")
    await grace.presses(labels(grace.last())[2])  # a fault type
    for text in ("coil burnt", "new coil", "check yearly"):
        await grace.says(text)

    assert grace.last().text.startswith("Did FL-000001 use any spare parts?")
    assert labels(grace.last())[0] == "Solenoid valve DN32"
    await grace.says("solenoid coil")
    assert grace.last().text.startswith("“solenoid coil” may be one of these parts")
    await grace.presses("Solenoid coil 24 V AC")
    assert grace.last().text.startswith("How many pcs of Solenoid coil 24 V AC?")
    await grace.says("one")
    assert grace.last().text.startswith("“one” is not a quantity.")
    await grace.says("1")
    await grace.presses("Done")
    assert grace.last().text.startswith("Parts recorded for FL-000001:\n"
                                        "Solenoid coil 24 V AC (SV_COIL) × 1 pcs")
    assert "电磁阀线圈 24V AC（SV_COIL）× 1 个" in manager.last().text  # the manager's language


async def test_an_empty_parts_list_asks_nothing_and_the_report_goes_at_once(
    app, reporter, engineer, manager, tmp_path
):
    empty = tmp_path / "parts.toml"
    empty.write_text("# no parts kept\n", "utf-8")
    app.desk.config = app.desk.config.model_copy(update={"parts_file": empty})

    await fixed(reporter, engineer)

    assert not engineer.heard(QUESTION)
    assert manager.last().text.startswith("故障处理报告 FL-000001")


async def test_deleting_a_ticket_record_deletes_its_parts(app, reporter, engineer):
    await fixed(reporter, engineer)
    await engineer.presses("电磁阀 DN32")
    await engineer.presses("1")
    await engineer.presses("完成")

    async with app.db.transaction() as tx:
        await tickets.delete_record(tx, 1)
    assert await usage(app) == []
    async with app.db.transaction() as tx:
        assert await tx.scalars(select(TicketEvent)) == []


async def test_in_web_chat_the_parts_question_leaves_the_draft_button_pressable(reporter,
                                                                                engineer):
    await report_uncovered_fault(reporter)  # no article covered it: a draft is offered
    await engineer.presses("接单")
    await engineer.presses("已解决")
    await engineer.presses("配置错误")
    for text in ("灯的定时被改了", "恢复定时", "改定时前先问"):
        await engineer.says(text)

    history = [{"key": m.key, "buttons": [[{"label": b.label, "data": b.data} for b in row]
                                          for row in m.buttons]} for m in engineer.inbox()]
    live = {b["label"] for m in mark_live(history) if m["live"]
            for row in m["buttons"] for b in row}
    assert {"保存为知识库草稿", "没有用备件", "其他"} <= live
