"""The parts buttons through the real python-telegram-bot client and a fake Bot API server."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import PartUsage
from tests.telegram.test_telegram import ENGINEER, REPORTER, heard, press


async def test_an_engineer_records_parts_with_buttons_and_a_typed_number(
    polling, api
):
    api.say(REPORTER, "李明", "3号地块电磁阀打不开")
    await api.wait_for(heard(api, REPORTER, "《电磁阀打不开》"))
    await press(api, REPORTER, "没解决，报修", (REPORTER, "影响范围"))
    await press(api, REPORTER, "单个设备", (REPORTER, "请确认报修信息"))
    await press(api, REPORTER, "确认提交", (ENGINEER, "【新工单】FL-000001"))
    await press(api, ENGINEER, "接单", (ENGINEER, "您已接下工单"))
    await press(api, ENGINEER, "已解决", (ENGINEER, "请选择故障类型"))
    await press(api, ENGINEER, "通讯线路或硬件故障", (ENGINEER, "故障原因"))
    for text, expect in (("线圈烧坏", "处理方法"), ("更换线圈", "防止再次发生"),
                         ("定期检查", "用了备件吗")):
        api.say(ENGINEER, "张工", text)
        await api.wait_for(heard(api, ENGINEER, expect))

    await press(api, ENGINEER, "电磁阀 DN32", (ENGINEER, "用了多少个"))
    api.say(ENGINEER, "张工", "2")
    await api.wait_for(heard(api, ENGINEER, "已记录：电磁阀 DN32 × 2 个"))
    await press(api, ENGINEER, "完成", (ENGINEER, "备件已登记"))

    async with polling.db.transaction() as tx:
        used = await tx.scalars(select(PartUsage))
    assert [(u.code, u.quantity) for u in used] == [("SV_DN32", 2)]
    assert any("电磁阀 DN32（SV_DN32）× 2 个" in t for t in api.texts_to(ENGINEER))
