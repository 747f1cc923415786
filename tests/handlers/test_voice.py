"""Voice messages in chat: kept like photos, within limits, and passed on to the engineer."""

from __future__ import annotations

from dataclasses import replace

from handlers.core.messages import FileRef, Kind
from handlers.flows.records import retention
from storage import tickets
from tests.handlers.test_sla_and_escalation import events, ticket
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import ChatUser

OGG = b"OggS\x00\x02voice-bytes"


async def voice(app, seconds: int = 42, data: bytes = OGG) -> FileRef:
    """A voice message as an adapter hands it on: stored, with its length."""
    ref = await app.files.save(data, "v1.ogg", "audio/ogg")
    return replace(ref, seconds=seconds)


async def sends_voice(user: ChatUser, ref: FileRef | None):  # type: ignore[no-untyped-def]
    return await user.send(user.incoming(Kind.VOICE, voice=ref))


async def report_with(reporter: ChatUser, *refs: tuple[Kind, FileRef]) -> None:
    """A valve fault, with these files sent while the articles are shown."""
    await reporter.says("电磁阀打不开")
    for kind, ref in refs:
        field = "voice" if kind is Kind.VOICE else "photo"
        await reporter.send(reporter.incoming(kind, **{field: ref}))
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")


async def test_a_voice_sent_with_the_report_reaches_the_engineer_on_the_page_and_accept(
    app, reporter, engineer
):
    ref = await voice(app, seconds=42)
    photo = await app.files.save(b"\xff\xd8jpeg", "valve.jpg", "image/jpeg")
    await reporter.says("电磁阀打不开")
    await sends_voice(reporter, ref)
    assert reporter.last().text == "已收到语音，会附在这次报修里。"
    await reporter.sends_photo(photo)
    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    assert "照片：1 张，另有1 段语音（0:42）" in reporter.last().text

    await reporter.presses("确认提交")

    assert "附件：1 张照片、1 段语音（0:42），接单后发给您" in engineer.last().text
    t = await ticket(app)
    assert [a["mime"] for a in t.attachments] == ["audio/ogg", "image/jpeg"]
    assert t.attachments[0]["seconds"] == 42
    await engineer.presses("接单")
    handed = [m for m in engineer.inbox() if m.files][-1]
    assert handed.text == "工单 FL-000001 报修时附带的1 张照片、1 段语音（0:42）："
    assert [(f.key, f.mime, f.seconds) for f in handed.files] == [
        (ref.key, "audio/ogg", 42), (photo.key, "image/jpeg", 0)]
    assert app.files.path(ref.key).read_bytes() == OGG


async def test_a_voice_too_long_or_too_big_is_refused_with_the_limit_and_not_kept(
    app, reporter, engineer
):
    await reporter.says("电磁阀打不开")
    too_long = FileRef("", "v.ogg", "audio/ogg", size=9000, seconds=301)  # not stored
    await sends_voice(reporter, too_long)
    assert reporter.last().text == "语音太长了（最长 5 分钟），请分几段发，或用文字描述。"
    too_big = FileRef("", "v.mp3", "audio/mpeg", size=10 * 1024 * 1024 + 1, seconds=200)
    await sends_voice(reporter, too_big)
    assert reporter.last().text == "语音文件太大了（最大 10 MB），请分几段发，或用文字描述。"
    await sends_voice(reporter, None)  # the platform would not hand it over
    assert reporter.last().text == "语音没有收到（无法下载），请重发，或用文字描述。"

    await reporter.presses("没解决，报修")
    await reporter.presses("单个设备")
    assert "另有" not in reporter.last().text
    await reporter.presses("确认提交")
    assert (await ticket(app)).attachments == []
    assert "语音" not in engineer.last().text


async def test_the_limits_come_from_the_settings(app, reporter):
    app.desk.config = app.desk.config.model_copy(update={"max_voice_seconds": 90})
    await sends_voice(reporter, await voice(app, seconds=91))
    assert reporter.last().text == "语音太长了（最长 1.5 分钟），请分几段发，或用文字描述。"


async def test_a_voice_to_an_open_job_is_added_and_forwarded_to_its_engineer(
    app, reporter, engineer
):
    await report_valve_fault(reporter)
    await engineer.presses("接单")
    ref = await voice(app, seconds=75)

    await sends_voice(reporter, ref)

    assert reporter.last().text == "语音已附到工单 FL-000001，已通知工程师。"
    told = engineer.last()
    assert told.text == "报修人给工单 FL-000001 补充了1 段语音（1:15）。"
    assert told.files == (ref,)
    assert [a["key"] for a in (await ticket(app)).attachments] == [ref.key]
    added = await events(app, "added.voice")
    assert len(added) == 1 and added[0].details["key"] == ref.key


async def test_the_same_voice_update_twice_is_kept_once(app, reporter, engineer):
    await report_valve_fault(reporter)
    inc = reporter.incoming(Kind.VOICE, voice=await voice(app))
    await reporter.send(inc)
    await reporter.send(inc)
    assert len((await ticket(app)).attachments) == 1


async def test_a_voice_when_idle_is_kept_for_the_next_report(app, reporter, engineer):
    ref = await voice(app, seconds=9)
    await sends_voice(reporter, ref)
    assert reporter.last().text == "已收到语音。请再用文字简单描述一下故障，语音会附在工单里。"

    await report_valve_fault(reporter)

    assert [a["key"] for a in (await ticket(app)).attachments] == [ref.key]
    assert "1 段语音（0:09），接单后发给您" in engineer.last().text


async def test_status_lists_the_voice_messages_of_a_ticket(app, reporter, engineer):
    await report_with(reporter, (Kind.VOICE, await voice(app, seconds=30)),
                      (Kind.VOICE, await voice(app, seconds=45, data=b"OggS-other")))
    await reporter.presses("确认提交")

    await reporter.says("/status")

    assert "\n  附件：2 段语音（1:15）" in reporter.last().text


async def test_status_says_nothing_of_attachments_for_a_ticket_without_any(reporter):
    await report_valve_fault(reporter)
    await reporter.says("/status")
    assert "附件" not in reporter.last().text


async def test_an_english_reporter_reads_the_voice_words_in_english(app, reporter, engineer):
    await reporter.says("/lang en")
    await sends_voice(reporter, FileRef("", "v.ogg", "audio/ogg", 10, seconds=600))
    assert reporter.last().text.startswith("That voice message is too long (at most 5 minutes)")


async def test_a_voice_without_a_known_length_is_listed_without_one(app, reporter, engineer):
    ref = await app.files.save(b"#!AMR\n", "voice.spx", "audio/speex")  # length unknown
    await report_with(reporter, (Kind.VOICE, ref))
    await reporter.presses("确认提交")
    assert "附件：1 段语音，接单后发给您" in engineer.last().text


async def test_voice_messages_are_purged_with_the_photos(app, reporter, engineer):
    ref = await voice(app)
    await report_with(reporter, (Kind.VOICE, ref))
    await reporter.presses("确认提交")
    assert app.files.path(ref.key).exists()

    async def purge(ctx):  # type: ignore[no-untyped-def]
        await retention.purge_attachments(ctx, await tickets.get(ctx.tx, 1, lock=True))

    await app.desk.run_job("purge-test", purge)

    assert not app.files.path(ref.key).exists() and (await ticket(app)).attachments == []


async def test_a_stranger_s_voice_asks_them_to_register_first(app, cast):
    stranger = cast.user("nobody")
    await sends_voice(stranger, await voice(app))
    assert stranger.last().text.startswith("请先登记")
