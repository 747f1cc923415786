"""After a press the card is replaced through update_template_card, greyed out or renewed."""

from __future__ import annotations

import pytest

from bot.channels import DeliveryError
from handlers.core.messages import Button, Outgoing
from tests.wecom.conftest import AGENT_ID, plain_xml

PAGE = Outgoing("wecom", "zhangsan", "新工单 FL-000001\n3号地块电磁阀打不开", key="t:1:page:1",
                buttons=((Button("接单", "t:1:ack"), Button("拒单", "t:1:decline")),))


async def press(caller, adapter, api, task: str, key: str, user: str = "zhangsan") -> str:
    code = api.issue_code()
    xml = plain_xml("event", user, Event="template_card_event", EventKey=key, TaskId=task,
                    CardType="button_interaction", ResponseCode=code)
    assert await caller.post(xml) == 200
    await adapter.callback.drain()
    return code


async def test_an_edit_without_buttons_greys_out_the_pressed_button(caller, adapter, api,
                                                                    received):
    task = await adapter.send(PAGE)
    code = await press(caller, adapter, api, task, "t:1:ack")
    assert received.got[-1].data == "t:1:ack"

    accepted = Outgoing("wecom", "zhangsan", "新工单 FL-000001\n已由张工接单", key="t:1:acc",
                        edits=PAGE.key)
    await adapter.edit(accepted, task)

    assert api.updates == [{
        "userids": ["zhangsan"], "agentid": int(AGENT_ID), "response_code": code,
        "template_card": {
            "card_type": "button_interaction", "main_title": {"title": "新工单 FL-000001"},
            "sub_title_text": "已由张工接单", "task_id": task, "button_list": [],
            "replace_text": "接单",
        },
    }]


async def test_an_edit_with_new_buttons_renews_the_card(caller, adapter, api):
    task = await adapter.send(PAGE)
    await press(caller, adapter, api, task, "t:1:ack")
    progress = Outgoing("wecom", "zhangsan", "FL-000001 处理中", key="t:1:work",
                        buttons=((Button("已到现场", "t:1:site"),),), edits=PAGE.key)
    await adapter.edit(progress, task)
    card = api.updates[0]["template_card"]
    assert card["button_list"] == [{"text": "已到现场", "style": 1, "key": "t:1:site"}]
    assert "replace_text" not in card


async def test_a_card_nobody_pressed_is_updated_with_the_code_from_sending(adapter, api):
    task = await adapter.send(PAGE)
    taken = Outgoing("wecom", "zhangsan", "FL-000001 已由王工接单", key="t:1:taken",
                     edits=PAGE.key)
    await adapter.edit(taken, task)
    assert len(api.updates) == 1 and "replace_text" not in api.updates[0]["template_card"]


async def test_a_response_code_is_used_once_then_the_card_is_left_alone(adapter, api):
    task = await adapter.send(PAGE)
    edit = Outgoing("wecom", "zhangsan", "FL-000001", key="e1", edits=PAGE.key)
    await adapter.edit(edit, task)
    await adapter.edit(edit, task)  # no code left: nothing to do, and no error
    assert len(api.updates) == 1


async def test_a_failed_update_for_a_network_reason_keeps_its_code_for_the_retry(adapter, api):
    task = await adapter.send(PAGE)
    edit = Outgoing("wecom", "zhangsan", "FL-000001", key="e1", edits=PAGE.key)
    api.fail_next(status=502)
    with pytest.raises(DeliveryError):
        await adapter.edit(edit, task)
    await adapter.edit(edit, task)
    assert len(api.updates) == 1


async def test_plain_text_is_never_edited(adapter, api):
    msg_id = await adapter.send(Outgoing("wecom", "zhangsan", "你好", key="hello"))
    await adapter.edit(Outgoing("wecom", "zhangsan", "再见", key="bye", edits="hello"), msg_id)
    assert api.updates == []


async def test_all_cards_of_a_many_button_message_are_updated(caller, adapter, api):
    buttons = tuple(Button(f"类{i}", f"t:1:c_{i}") for i in range(8))
    msg_id = await adapter.send(Outgoing("wecom", "zhangsan", "选择类别", key="cat",
                                         buttons=(buttons,)))
    second = adapter.cards.tasks(msg_id)[1]
    await press(caller, adapter, api, second, "t:1:c_7")
    await adapter.edit(Outgoing("wecom", "zhangsan", "类别：类7", key="cat2", edits="cat"),
                       msg_id)
    by_task = {u["template_card"]["task_id"]: u["template_card"] for u in api.updates}
    assert set(by_task) == {msg_id, second}
    assert by_task[second]["replace_text"] == "类7" and "replace_text" not in by_task[msg_id]


async def test_an_edit_bringing_buttons_to_plain_text_goes_out_as_a_new_card(adapter, api):
    msg_id = await adapter.send(Outgoing("wecom", "zhangsan", "工单已解决", key="done"))
    follow = Outgoing("wecom", "zhangsan", "工单已解决\n请确认", key="done2", edits="done",
                      buttons=((Button("已解决", "t:1:ok"), Button("还没好", "t:1:notok")),))
    await adapter.edit(follow, msg_id)
    assert api.updates == [] and [m["msgtype"] for m in api.sent] == ["text", "template_card"]


async def test_an_edit_bringing_buttons_without_a_code_left_goes_out_as_a_new_card(adapter, api):
    task = await adapter.send(PAGE)
    assert adapter.cards.take_code(task) is not None  # spent elsewhere
    work = Outgoing("wecom", "zhangsan", "FL-000001", key="t:1:work", edits=PAGE.key,
                    buttons=((Button("已到现场", "t:1:site"),),))
    await adapter.edit(work, task)
    assert api.updates == []
    assert api.cards_to("zhangsan")[-1]["button_list"][0]["key"] == "t:1:site"


async def test_an_edited_card_keeps_as_much_text_as_a_card_shows(adapter, api):
    task = await adapter.send(PAGE)
    await adapter.edit(Outgoing("wecom", "zhangsan", "FL-000001\n" + "详" * 300, key="e",
                                edits=PAGE.key), task)
    sub = api.updates[0]["template_card"]["sub_title_text"]
    assert len(sub) == 112 and sub.endswith("…")
