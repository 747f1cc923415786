"""Every kind of WeCom callback becomes the right platform-neutral Incoming."""

from __future__ import annotations

from handlers.core.messages import Kind
from tests.wecom.conftest import plain_xml


async def deliver(caller, adapter, received, xml: str):
    assert await caller.post(xml) == 200
    await adapter.callback.drain()
    return received.got[-1]


async def test_text_becomes_text_from_that_person(caller, adapter, received):
    inc = await deliver(caller, adapter, received,
                        plain_xml("text", "zhangsan", msg_id="123456", Content="电磁阀打不开"))
    assert (inc.channel, inc.chat_id, inc.user_id) == ("wecom", "zhangsan", "zhangsan")
    assert inc.kind == Kind.TEXT and inc.text == "电磁阀打不开" and inc.update_id == "123456"


async def test_a_slash_line_becomes_a_command(caller, adapter, received):
    inc = await deliver(caller, adapter, received, plain_xml("text", Content="/status"))
    assert inc.kind == Kind.COMMAND and inc.text == "/status"


async def test_an_image_is_fetched_and_stored_as_a_photo(caller, adapter, received, api, files):
    api.media["MEDIA1"] = (b"\xff\xd8jpeg-bytes", "image/jpeg")
    inc = await deliver(caller, adapter, received,
                        plain_xml("image", PicUrl="http://example.invalid/p", MediaId="MEDIA1"))
    assert inc.kind == Kind.PHOTO and inc.photo is not None
    assert files.saved == [(b"\xff\xd8jpeg-bytes", "photo.jpg", "image/jpeg")]
    assert inc.photo.mime == "image/jpeg" and inc.photo.size == 12


async def test_an_image_that_cannot_be_fetched_still_arrives_without_the_photo(
    caller, adapter, received, files
):
    inc = await deliver(caller, adapter, received, plain_xml("image", MediaId="GONE"))
    assert inc.kind == Kind.PHOTO and inc.photo is None and files.saved == []


async def test_an_image_too_big_for_the_file_store_arrives_without_the_photo(
    caller, adapter, received, api, files
):
    files.max_bytes = 4
    api.media["BIG"] = (b"0123456789", "image/png")
    inc = await deliver(caller, adapter, received, plain_xml("image", MediaId="BIG"))
    assert inc.kind == Kind.PHOTO and inc.photo is None


async def test_a_location_becomes_latitude_and_longitude(caller, adapter, received):
    xml = plain_xml("location", Location_X="23.134521", Location_Y="113.358803", Scale="20",
                    Label="荔枝园")
    inc = await deliver(caller, adapter, received, xml)
    assert inc.kind == Kind.LOCATION and inc.location == (23.134521, 113.358803)


async def test_a_card_button_press_becomes_a_button_with_its_token(caller, adapter, received):
    xml = plain_xml("event", "wangwu", create_time=1700000000, Event="template_card_event",
                    EventKey="t:12:ack", TaskId="t_12_page@abc", CardType="button_interaction",
                    ResponseCode="code-press")
    inc = await deliver(caller, adapter, received, xml)
    assert inc.kind == Kind.BUTTON and inc.data == "t:12:ack" and inc.user_id == "wangwu"
    assert inc.update_id.startswith("template_card_event:wangwu:1700000000:")
    assert len(inc.update_id) <= 160
    assert adapter.cards.take_code("t_12_page@abc") == "code-press"


async def test_opening_the_app_becomes_a_join(caller, adapter, received):
    xml = plain_xml("event", "lisi", create_time=1700000001, Event="enter_agent", EventKey="")
    inc = await deliver(caller, adapter, received, xml)
    assert inc.kind == Kind.JOIN and inc.update_id == "enter_agent:lisi:1700000001"


async def test_video_and_other_events_are_unsupported_with_their_name(caller, adapter, received):
    video = await deliver(caller, adapter, received, plain_xml("video", MediaId="V"))
    assert video.kind == Kind.UNSUPPORTED and video.raw_kind == "video"
    click = await deliver(caller, adapter, received,
                          plain_xml("event", Event="click", EventKey="menu1"))
    assert click.kind == Kind.UNSUPPORTED and click.raw_kind == "event:click"


async def test_a_photo_larger_than_wecom_allows_is_not_buffered(caller, adapter, received,
                                                                 api, monkeypatch):
    monkeypatch.setattr("bot.wecom.client.MEDIA_MAX_BYTES", 1000)
    api.media["HUGE"] = (b"x" * 5000, "image/jpeg")
    inc = await deliver(caller, adapter, received, plain_xml("image", MediaId="HUGE"))
    assert inc.kind == Kind.PHOTO and inc.photo is None
