"""Voice messages and audio files through the real python-telegram-bot client and the fake
Bot API: downloaded and kept within the limits, refused with a reply beyond them, and sent on
to the engineer as Telegram plays them."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.core.messages import FileRef, Outgoing
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram.test_telegram import ENGINEER, REPORTER, heard, press

OPUS = b"OggS\x00\x02opus-voice"


def stored(folder: Path, suffix: str) -> list[bytes]:
    return [p.read_bytes() for p in Path(folder).rglob(f"*{suffix}")]


async def report_start(api: FakeBotApi) -> None:
    api.say(REPORTER, "李明", "电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))


async def test_a_voice_is_kept_with_the_report_and_the_engineer_gets_it_to_play(polling, api):
    await report_start(api)
    voice_id = api.send_voice(REPORTER, "李明", OPUS, duration=42, mime="audio/ogg")
    await api.wait_for(heard(api, REPORTER, "已收到语音，会附在这次报修里"))
    assert stored(polling.settings.files_dir, ".ogg") == [OPUS]
    assert api.downloads() == [voice_id]

    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "另有1 段语音（0:42）"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "1 段语音（0:42），接单后发给您"))
    await press(api, ENGINEER, "接单", (ENGINEER, "您已接下工单"))
    await api.wait_for(lambda: bool(api.sent_to(ENGINEER, "sendVoice")))

    sent = api.sent_to(ENGINEER, "sendVoice")[-1]
    assert sent["voice"] == OPUS and sent["duration"] == 42
    assert heard(api, ENGINEER, "工单 FL-000001 报修时附带的1 段语音（0:42）")()


@pytest.mark.parametrize(("duration", "size", "reply"), [
    (301, 1000, "语音太长了（最长 5 分钟），请分几段发，或用文字描述。"),
    (60, 10 * 1024 * 1024 + 1, "语音文件太大了（最大 10 MB），请分几段发，或用文字描述。"),
])
async def test_a_voice_over_a_limit_is_not_downloaded_and_the_reply_names_the_limit(
    polling, api, duration, size, reply
):
    api.send_voice(REPORTER, "李明", OPUS, duration=duration, size=size)
    await api.wait_for(heard(api, REPORTER, reply))
    assert api.downloads() == [] and stored(polling.settings.files_dir, ".ogg") == []


async def test_a_voice_that_cannot_be_downloaded_is_explained(polling, api):
    api.fail_next("getFile", 400, description="Bad Request: file is too big")
    api.send_voice(REPORTER, "李明", OPUS, duration=5)
    await api.wait_for(heard(api, REPORTER, "语音没有收到（无法下载）"))
    assert stored(polling.settings.files_dir, ".ogg") == []


async def test_an_audio_file_to_an_open_job_reaches_its_engineer_as_audio(polling, api):
    await report_start(api)
    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "【新工单】FL-000001"))
    await press(api, ENGINEER, "接单", (ENGINEER, "您已接下工单"))

    api.send_voice(REPORTER, "李明", b"ID3mp3-bytes", duration=130, audio=True,
                   mime="audio/mpeg")
    await api.wait_for(heard(api, REPORTER, "语音已附到工单 FL-000001"))
    await api.wait_for(lambda: bool(api.sent_to(ENGINEER, "sendAudio")))

    assert api.sent_to(ENGINEER, "sendAudio")[-1]["audio"] == b"ID3mp3-bytes"
    assert heard(api, ENGINEER, "报修人给工单 FL-000001 补充了1 段语音（2:10）")()
    assert stored(polling.settings.files_dir, ".mp3") == [b"ID3mp3-bytes"]


async def test_a_sender_s_odd_mime_type_is_not_trusted(polling, api):
    api.send_voice(REPORTER, "李明", OPUS, duration=3, mime="image/jpeg")
    await api.wait_for(heard(api, REPORTER, "已收到语音"))
    assert stored(polling.settings.files_dir, ".ogg") == [OPUS]  # kept as the voice it is


async def test_a_voice_from_another_channel_goes_out_as_a_document(polling, api):
    """WeCom records AMR, which Telegram plays neither as voice nor as audio."""
    ref = await polling.files.save(b"#!AMR\n\x3c", "voice.amr", "audio/amr")
    out = Outgoing(channel="telegram", chat_id=str(ENGINEER), text="语音", key="k-amr",
                   files=(FileRef(ref.key, ref.name, ref.mime, ref.size, 1),))
    await polling.adapters["telegram"].send(out)
    assert api.sent_to(ENGINEER, "sendDocument")[-1]["document"] == b"#!AMR\n\x3c"
    assert api.sent_to(ENGINEER, "sendVoice") == []
