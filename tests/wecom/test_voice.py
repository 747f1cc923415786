"""WeCom voice messages: fetched with media/get, measured, stored within the limits, handed to
the desk as voice; and a voice sent on to a WeCom engineer as WeCom plays it."""

from __future__ import annotations

from bot.wecom import WeComAdapter, amr
from handlers.core.messages import FileRef, Kind, Outgoing
from storage.models import Role, Ticket
from tests.wecom.conftest import plain_xml, wecom_settings
from tests.wecom.test_incoming import deliver
from tests.wecom.test_wecom_ticket_life import desk, person  # noqa: F401  (the fixture)

FRAME = bytes([0x3C]) + bytes(31)  # one AMR-NB 12.2 kbit/s frame: 20 ms


def amr_of(seconds: float) -> bytes:
    return b"#!AMR\n" + FRAME * round(seconds / amr.FRAME_SECONDS)


def test_the_length_of_an_amr_recording_is_counted_from_its_frames():
    assert amr.seconds(amr_of(42)) == 42
    assert amr.seconds(b"#!AMR-WB\n" + bytes([0x44]) + bytes(60)) == 1  # one wide-band frame
    assert amr.seconds(b"#!AMR\n") == 0
    assert amr.seconds(amr_of(2) + FRAME[:7]) == 2  # a frame cut short does not count
    assert amr.seconds(b"OggS\x00") is None


async def test_a_voice_is_fetched_measured_and_stored(caller, adapter, received, api, files):
    api.media["VOICE1"] = (amr_of(42), "audio/amr")
    inc = await deliver(caller, adapter, received,
                        plain_xml("voice", MediaId="VOICE1", Format="amr"))
    assert inc.kind == Kind.VOICE and inc.voice is not None
    assert (inc.voice.mime, inc.voice.seconds, inc.voice.name) == ("audio/amr", 42, "voice.amr")
    assert files.saved == [(amr_of(42), "voice.amr", "audio/amr")]


async def test_a_voice_over_the_length_limit_is_described_and_not_stored(api, received, files):
    settings = wecom_settings(api.base_url, max_voice_seconds=30)
    wecom = WeComAdapter.from_settings(settings, receive=received, files=files)
    api.media["LONG"] = (amr_of(31), "audio/amr")
    fields = {"MsgType": "voice", "FromUserName": "lisi", "MsgId": "9", "MediaId": "LONG",
              "Format": "amr"}
    inc = await wecom.inbound.to_incoming(fields)
    await wecom.stop()
    assert inc.kind == Kind.VOICE and inc.voice is not None
    assert (inc.voice.key, inc.voice.seconds) == ("", 31) and files.saved == []


async def test_a_voice_over_the_size_limit_is_described_and_not_stored(api, received, files):
    wecom = WeComAdapter.from_settings(wecom_settings(api.base_url, max_voice_bytes=100),
                                       receive=received, files=files)
    api.media["BIG"] = (amr_of(4), "audio/amr")  # 6 + 200 frames × 32 bytes
    fields = {"MsgType": "voice", "FromUserName": "lisi", "MsgId": "10", "MediaId": "BIG"}
    inc = await wecom.inbound.to_incoming(fields)
    await wecom.stop()
    assert inc.voice is not None and (inc.voice.key, inc.voice.size) == ("", 6406)
    assert files.saved == []


async def test_a_voice_that_cannot_be_fetched_arrives_without_it(caller, adapter, received,
                                                                 files):
    inc = await deliver(caller, adapter, received, plain_xml("voice", MediaId="GONE"))
    assert inc.kind == Kind.VOICE and inc.voice is None and files.saved == []


async def test_a_speex_voice_is_kept_without_a_length(caller, adapter, received, api, files):
    api.media["SPX"] = (b"Speex   spx-bytes", "audio/speex")
    inc = await deliver(caller, adapter, received,
                        plain_xml("voice", MediaId="SPX", Format="speex"))
    assert inc.voice is not None and (inc.voice.mime, inc.voice.seconds) == ("audio/speex", 0)


async def test_an_amr_voice_goes_out_as_a_voice_message_anything_else_as_a_file(
    adapter, api, files
):
    short = await files.save(amr_of(5), "voice.amr", "audio/amr")
    ogg = await files.save(b"OggS-telegram", "v.ogg", "audio/ogg")
    long = await files.save(amr_of(61), "long.amr", "audio/amr")
    message = Outgoing("wecom", "zhangsan", "FL-000001 新语音", key="t:1:voice",
                       files=(FileRef(short.key, short.name, short.mime, short.size, 5),
                              FileRef(ogg.key, ogg.name, ogg.mime, ogg.size, 3),
                              FileRef(long.key, long.name, long.mime, long.size, 61)))
    await adapter.send(message)
    assert [m["msgtype"] for m in api.sent] == ["text", "voice", "file", "file"]
    assert api.uploads[api.sent[1]["voice"]["media_id"]][:2] == ("voice", amr_of(5))
    assert api.uploads[api.sent[2]["file"]["media_id"]][0] == "file"


async def test_a_wecom_voice_reaches_the_engineer_with_the_page_and_on_accept(desk):  # noqa: F811
    fl, api, _ = desk
    reporter = await person(desk, "liming", "李明", Role.REPORTER, site="一号园区")
    engineer = await person(desk, "zhanggong", "张工", Role.ENGINEER, site="一号园区",
                            skills=["valve"])
    api.media["V1"] = (amr_of(42), "audio/amr")

    await reporter.says("3号地块电磁阀打不开")
    await reporter.sends_voice("V1")
    assert reporter.last() == "已收到语音，会附在这次报修里。"
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    await reporter.presses("确认提交")
    assert engineer.heard("1 段语音（0:42），接单后发给您")
    await engineer.presses("接单")

    voices = [m for m in api.to("zhanggong") if m["msgtype"] == "voice"]
    assert len(voices) == 1
    assert api.uploads[voices[0]["voice"]["media_id"]] == ("voice", amr_of(42), "voice.amr",
                                                          "audio/amr")
    async with fl.db.transaction() as tx:
        ticket = await tx.get(Ticket, 1)
    assert [(a["mime"], a["seconds"]) for a in ticket.attachments] == [("audio/amr", 42)]


async def test_a_wecom_voice_too_long_is_refused_with_the_limit(desk):  # noqa: F811
    fl, api, _ = desk
    fl.desk.config = fl.desk.config.model_copy(update={"max_voice_seconds": 60})
    adapter = fl.adapters["wecom"]
    adapter.inbound.max_voice_seconds = 60  # type: ignore[attr-defined]
    reporter = await person(desk, "liming", "李明", Role.REPORTER, site="一号园区")
    api.media["V2"] = (amr_of(61), "audio/amr")

    await reporter.sends_voice("V2")

    assert reporter.last() == "语音太长了（最长 1 分钟），请分几段发，或用文字描述。"
    assert not list(fl.settings.files_dir.rglob("*.amr"))
