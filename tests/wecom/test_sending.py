"""Sending through the fake WeCom API: text, template cards, the token, failures."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from bot.channels import DeliveryError, RecipientUnreachable
from bot.wecom import WeComAdapter
from bot.wecom.cards import TEXT_MAX_BYTES, split_text, task_id
from handlers.core.messages import Button, FileRef, Outgoing
from tests.fakes.wecom_api import SECRET
from tests.wecom.conftest import (
    AES_KEY,
    AGENT_ID,
    TOKEN,
    FakeFiles,
    Recorder,
    plain_xml,
    wecom_settings,
)


def out(text: str, *rows: tuple[Button, ...], key: str = "t:1:page:1",
        to: str = "zhangsan") -> Outgoing:
    return Outgoing(channel="wecom", chat_id=to, text=text, key=key, buttons=tuple(rows))


async def test_plain_text_goes_out_as_a_text_message(adapter, api):
    msg_id = await adapter.send(out("工单 FL-000001 已创建"))
    assert api.sent == [{"touser": "zhangsan", "msgtype": "text", "agentid": int(AGENT_ID),
                         "text": {"content": "工单 FL-000001 已创建"}}]
    assert msg_id is not None and msg_id.startswith("msg:")


async def test_a_long_text_is_split_at_line_ends_within_wecom_s_byte_limit(adapter, api):
    text = "\n".join(f"第{i}行：电磁阀线圈电压检测" for i in range(200))
    await adapter.send(out(text))
    pieces = api.texts_to("zhangsan")
    assert len(pieces) > 1 and all(len(p.encode()) <= TEXT_MAX_BYTES for p in pieces)
    assert "\n".join(pieces) == text


def test_split_text_cuts_even_a_single_huge_line():
    pieces = split_text("荔" * 3000)
    assert "".join(pieces) == "荔" * 3000
    assert all(len(p.encode()) <= TEXT_MAX_BYTES for p in pieces)


async def test_buttons_go_out_as_a_button_interaction_card(adapter, api):
    page = out("新工单 FL-000001\n3号地块电磁阀打不开",
               (Button("接单", "t:1:ack"), Button("拒单", "t:1:decline")))
    msg_id = await adapter.send(page)
    card = api.cards_to("zhangsan")[0]
    assert card == {
        "card_type": "button_interaction",
        "main_title": {"title": "新工单 FL-000001"},
        "sub_title_text": "3号地块电磁阀打不开",
        "task_id": msg_id,
        "button_list": [{"text": "接单", "style": 1, "key": "t:1:ack"},
                        {"text": "拒单", "style": 1, "key": "t:1:decline"}],
    }
    assert api.sent[0]["agentid"] == int(AGENT_ID) and api.texts_to("zhangsan") == []


def test_task_ids_are_sanitised_bounded_and_distinct():
    a, b = task_id("t:1:page/ä 1"), task_id("t_1_page__1")
    long = task_id("x" * 500, 2)
    for tid in (a, b, long):
        assert all(c.isascii() and (c.isalnum() or c in "_-@") for c in tid)
        assert len(tid) <= 128
    assert a != b and long.endswith("-2")


async def test_more_than_six_buttons_become_several_cards(adapter, api):
    buttons = tuple(Button(f"类{i}", f"t:1:c_{i}") for i in range(13))
    msg_id = await adapter.send(out("选择类别", buttons[:3], buttons[3:6], buttons[6:]))
    sent = api.cards_to("zhangsan")
    assert [len(c["button_list"]) for c in sent] == [6, 6, 1]
    assert sent[0]["task_id"] == msg_id and len({c["task_id"] for c in sent}) == 3
    assert adapter.cards.tasks(msg_id) == [c["task_id"] for c in sent]


async def test_a_text_too_long_for_a_card_goes_first_as_text(adapter, api):
    text = "工单详情\n" + "描述" * 100
    await adapter.send(out(text, (Button("已解决", "t:1:ok"),)))
    assert [m["msgtype"] for m in api.sent] == ["text", "template_card"]
    assert api.sent[0]["text"]["content"] == text
    card = api.sent[1]["template_card"]
    assert card["main_title"] == {"title": "工单详情"} and "sub_title_text" not in card


async def test_the_token_is_cached_across_sends(adapter, api):
    for i in range(3):
        await adapter.send(out(f"消息{i}", key=f"k{i}"))
    assert api.token_requests == 1 and len(api.sent) == 3


async def test_an_expired_token_is_refreshed_once_for_concurrent_sends(adapter, api):
    await adapter.send(out("预热", key="warm"))
    api.expire_tokens()
    await asyncio.gather(*(adapter.send(out(f"并发{i}", key=f"c{i}", to=f"u{i}"))
                           for i in range(10)))
    assert api.token_requests == 2  # one at start, exactly one refresh
    assert len(api.sent) == 11


async def test_a_rate_limit_answer_becomes_a_delivery_error_with_retry_after(adapter, api):
    api.fail_next(errcode=45009)
    with pytest.raises(DeliveryError) as caught:
        await adapter.send(out("hi"))
    assert caught.value.retry_after == 60.0
    assert not isinstance(caught.value, RecipientUnreachable)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_becomes_a_delivery_error(adapter, api, status):
    api.fail_next(status=status)
    with pytest.raises(DeliveryError, match=str(status)):
        await adapter.send(out("hi"))
    await adapter.send(out("hi"))  # and the outbox's retry goes through
    assert len(api.sent) == 1


async def test_an_unreachable_server_is_a_delivery_error_without_the_token_in_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    wecom = WeComAdapter.from_settings(wecom_settings(f"http://127.0.0.1:{port}"),
                                       receive=Recorder(), files=FakeFiles())
    await wecom.start()
    assert wecom.status().startswith("error:")
    with pytest.raises(DeliveryError) as caught:
        await wecom.send(out("hi"))
    assert "secret" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    await wecom.stop()


async def test_a_recipient_outside_the_app_is_unreachable(adapter, api):
    api.invalid_users.add("left-the-company")
    with pytest.raises(RecipientUnreachable):
        await adapter.send(out("hi", to="left-the-company"))


async def test_a_wrong_secret_shows_in_the_status_not_as_a_crash(api):
    settings = wecom_settings(api.base_url, wecom_secret="wrong")
    wecom = WeComAdapter.from_settings(settings, receive=Recorder(), files=FakeFiles())
    await wecom.start()
    assert wecom.status() == "error: wecom errcode 40001"
    await wecom.stop()


async def test_the_status_is_ok_once_the_token_is_there(adapter):
    assert adapter.status() == "ok"


def test_missing_settings_fail_fast_with_their_names():
    with pytest.raises(ValueError, match="WECOM_SECRET, WECOM_TOKEN"):
        WeComAdapter.from_settings(
            wecom_settings("http://127.0.0.1:9", wecom_secret="", wecom_token=""),
            receive=Recorder(), files=FakeFiles())


async def test_a_part_already_sent_is_not_sent_again_on_retry(adapter, api):
    long_card = out("工单详情\n" + "描述" * 100, (Button("已解决", "t:1:ok"),))
    api.fail_next(errcode=-1, after=1)  # the text goes out, then WeCom is busy for the card
    with pytest.raises(DeliveryError):
        await adapter.send(long_card)
    msg_id = await adapter.send(long_card)
    assert [m["msgtype"] for m in api.sent] == ["text", "template_card"]
    assert msg_id == api.sent[1]["template_card"]["task_id"]


async def test_attached_files_are_uploaded_and_sent_after_the_text(adapter, api, files):
    photo = await files.save(b"\xff\xd8photo", "valve.jpg", "image/jpeg")
    report = await files.save(b"%PDF-1.7", "report.pdf", "application/pdf")
    message = Outgoing("wecom", "zhangsan", "FL-000001 新照片", key="t:1:photo",
                       files=(photo, report))
    await adapter.send(message)
    assert [m["msgtype"] for m in api.sent] == ["text", "image", "file"]
    image_id, file_id = api.sent[1]["image"]["media_id"], api.sent[2]["file"]["media_id"]
    assert api.uploads[image_id] == ("image", b"\xff\xd8photo", "valve.jpg", "image/jpeg")
    assert api.uploads[file_id][0] == "file" and api.uploads[file_id][1] == b"%PDF-1.7"


async def test_a_file_gone_from_the_store_is_skipped_not_retried_forever(adapter, api):
    message = Outgoing("wecom", "zhangsan", "照片", key="t:1:gone",
                       files=(FileRef("f99", "x.jpg", "image/jpeg"),))
    await adapter.send(message)
    assert [m["msgtype"] for m in api.sent] == ["text"]


async def test_logs_carry_ids_and_reasons_but_no_token_secret_or_message_text(
    caller, adapter, api, caplog
):
    caplog.set_level(logging.DEBUG)
    await adapter.send(out("电磁阀打不开", key="a"))
    api.expire_tokens()
    api.fail_next(status=502, after=1)
    await adapter.send(out("线圈烧坏", key="b"))
    with pytest.raises(DeliveryError):
        await adapter.send(out("更换线圈", key="c"))
    await caller.post(plain_xml("text", Content="秘密内容"), signature="0" * 40)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot.wecom"))
    assert "refused" in ours and "token rejected" in ours
    for secret in ("token-", SECRET, TOKEN, AES_KEY, "电磁阀", "线圈", "秘密"):
        assert secret not in ours


async def test_a_short_text_with_a_long_first_line_fits_a_card_as_its_subtitle(adapter, api):
    text = "您已接下工单 FL-000001，已通知报修人。解决截止 11月24日 09:00。\n请随时更新进度："
    await adapter.send(out(text, (Button("出发去现场", "t:1:way"),)))
    assert [m["msgtype"] for m in api.sent] == ["template_card"]
    card = api.sent[0]["template_card"]
    assert card["sub_title_text"] == text and "main_title" not in card
