"""The on-call rota: the file and its checks, who is on duty now and next, paging by it,
/oncall, and shift swaps in chat (asked, accepted, declined, stale, lapsed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.settings import Settings
from handlers.core.messages import FileRef, Kind
from handlers.rules import oncall
from handlers.rules.shifts import Calendar, Roster, Swap, duty
from storage.models import Role, ShiftSwap, SwapState
from tests.handlers.test_ticket_life import report_valve_fault
from tests.support.chat import labels, settle

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROTA = """\
[[site]]
name = "一号园区"
holiday = "sun"

[[shift]]
site = "一号园区"
days = "mon-fri"
hours = "08:00-18:00"
people = ["张工"]

[[shift]]
site = "一号园区"
days = "daily"
hours = "18:00-08:00"
people = ["13900000003"]

[[shift]]
site = "一号园区"
days = "sat,sun"
hours = "08:00-18:00"
people = ["李工"]

[[site]]
name = "二号园区"

[[shift]]
site = "二号园区"
days = "daily"
hours = "00:00-24:00"
people = ["王工"]

[[override]]
site = "一号园区"
from = 2026-11-26
to = 2026-11-26
people = ["王工"]
"""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in the orchard's time (the 23rd is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Someone:
    id: int
    name: str
    phone: str = ""
    on_duty: bool = True


TEAM = [Someone(1, "张工", "13900000001"), Someone(2, "王工"), Someone(3, "赵工", "13900000003"),
        Someone(4, "李工")]


NO_HOLIDAYS = Calendar()


def who(site: str, when: datetime, *, swaps: tuple[Swap, ...] = (), days: Calendar = NO_HOLIDAYS,
        team: list[Someone] = TEAM) -> tuple[list[str], datetime | None, list[str]]:
    """Who is on now, until when, and who next, by name."""
    plan = oncall.parse(ROTA, "rota.toml", "Asia/Shanghai").sites[site]
    d = duty(plan, when, Roster(team), list(swaps), days)
    names = {p.id: p.name for p in team}
    return [names[i] for i in d.now], d.until, [names[i] for i in d.next]


# --- the file -------------------------------------------------------------------------------

def problems_of(text: str) -> list[str]:
    with pytest.raises(oncall.RotaError) as caught:
        oncall.parse(text, "rota.toml", "Asia/Shanghai")
    return [str(p) for p in caught.value.problems]


def test_a_bad_rota_file_is_refused_with_the_line_and_reason_of_each_problem():
    found = problems_of("""\
[[site]]
name = "一号园区"
holiday = "holiday"

[[site]]
name = "二号园区"

[[shift]]
site = "二号园区"
days = "mun-fri"
hours = "08:00-18:00"
people = ["张工"]

[[shift]]
site = "二号园区"
days = "mon"
hours = "8点-18点"
people = ["张工"]

[[shift]]
site = "二号园区"
days = "sat"
hours = "09:00-09:00"
people = ["李工"]

[[shift]]
site = "二号园区"
days = "sun"
hours = "10:00-12:00"
people = []

[[shift]]
site = "三号园区"
days = "mon"
hours = "10:00-12:00"
people = ["赵工"]

[[override]]
site = "二号园区"
from = 2026-10-07
to = 2026-10-01
people = ["王工"]
""")
    assert found == [
        "rota.toml:1: holiday = 'holiday': name one day whose shifts apply "
        "(mon, tue, wed, thu, fri, sat, sun)",
        "rota.toml:8: unknown day 'mun': use mon, tue, wed, thu, fri, sat, sun, a range such "
        "as mon-fri, a list such as sat,sun, or daily",
        "rota.toml:14: hours = '8点-18点': use HH:MM-HH:MM, e.g. \"08:00-18:00\" or "
        "\"20:00-08:00\" (into the next morning)",
        "rota.toml:20: hours = '09:00-09:00' is an empty shift; a whole day is \"00:00-24:00\"",
        "rota.toml:26: nobody is on this shift: people = [\"name or phone\", …]",
        "rota.toml:32: site '三号园区' has no [[site]] table (sites: 二号园区)",
        "rota.toml:38: to = 2026-10-01 is before from = 2026-10-07",
    ]


def test_shifts_of_one_site_that_overlap_are_refused_even_across_midnight():
    found = problems_of("""\
[[site]]
name = "一号园区"

[[shift]]
site = "一号园区"
days = "sun"
hours = "20:00-09:00"
people = ["赵工"]

[[shift]]
site = "一号园区"
days = "mon-fri"
hours = "08:00-18:00"
people = ["张工"]

[[shift]]
site = "一号园区"
days = "mon"
hours = "08:00-08:00"
zone = "Asia/Shanghai"
people = ["张工"]
""")
    assert found == [
        "rota.toml:10: this shift overlaps the shift on line 4; put both people in one shift "
        "instead",
        "rota.toml:16: unknown key 'zone' in [[shift]]; keys: days, hours, people, site",
    ]


def test_a_bad_rota_file_stops_the_desk_before_it_starts(tmp_path: Path):
    bad = tmp_path / "rota.toml"
    bad.write_text('[[site]]\nname = "一号园区"\nzone = "Mars/Olympus"\n', "utf-8")
    with pytest.raises(ValidationError, match=r"rota.toml:1: zone 'Mars/Olympus' is not a time "
                                              r"zone"):
        Settings(rota_file=bad)


def test_the_shipped_example_rota_loads():
    path = Path(__file__).parents[2] / "handlers" / "policies" / "rota.toml"
    rota = oncall.load(path, "Asia/Shanghai")
    assert set(rota.sites) == {"一号园区", "二号园区"}
    assert rota.sites["一号园区"].holiday == oncall.DAYS.index("sun")


# --- who is on duty, now and next -----------------------------------------------------------

def test_on_a_weekday_the_day_shift_is_on_and_the_night_shift_is_next():
    assert who("一号园区", local(23, 9)) == (["张工"], local(23, 18), ["赵工"])


def test_the_night_shift_runs_past_midnight_into_the_morning():
    assert who("一号园区", local(23, 23)) == (["赵工"], local(24, 8), ["张工"])
    assert who("一号园区", local(24, 3)) == (["赵工"], local(24, 8), ["张工"])


def test_on_a_holiday_the_sunday_shifts_apply():
    holiday = Calendar(holidays=frozenset({date(2026, 11, 25)}))  # a Wednesday
    assert who("一号园区", local(25, 9), days=holiday) == (["李工"], local(25, 18), ["赵工"])
    assert who("一号园区", local(25, 9)) == (["张工"], local(25, 18), ["赵工"])


def test_an_override_replaces_whoever_the_shifts_name_for_its_days():
    # the night of the 25th is cut at midnight; the 26th is 王工's whole day
    assert who("一号园区", local(25, 23)) == (["赵工"], local(26, 0), ["王工"])
    assert who("一号园区", local(26, 19)) == (["王工"], local(27, 0), ["赵工"])


def test_an_accepted_swap_and_duty_off_change_who_is_on():
    day = Swap("一号园区", local(24, 8).astimezone(UTC), local(24, 18).astimezone(UTC), 1, 3)
    # 赵工 takes 张工's Tuesday and stays on through his own night: the change is at 08:00
    assert who("一号园区", local(24, 9), swaps=(day,)) == (["赵工"], local(25, 8), ["张工"])
    off = [Someone(1, "张工", "13900000001", on_duty=False), *TEAM[1:]]
    assert who("一号园区", local(24, 9), team=off) == ([], local(24, 18), ["赵工"])


def test_a_site_on_duty_all_day_every_day_has_no_next_change():
    assert who("二号园区", local(23, 9)) == (["王工"], None, [])


def test_names_the_rota_cannot_match_are_listed_for_the_manager():
    rota = oncall.parse(ROTA, "rota.toml", "Asia/Shanghai")
    twins = [*TEAM[:3], Someone(5, "王工", "13911111111")]
    assert [str(p) for p in Roster(twins).problems(rota)] == [
        "rota.toml:17: 李工 is not a registered engineer",
        "rota.toml:26: 王工 matches several people: write the phone instead",
        "rota.toml:32: 王工 matches several people: write the phone instead",
    ]


# --- in chat --------------------------------------------------------------------------------

@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "rota.toml"
    path.write_text(ROTA, "utf-8")
    return settings.model_copy(update={"rota_file": path})


@pytest.fixture
async def zhao(cast):
    return await cast.add("e3", "赵工", Role.ENGINEER, site="一号园区", skills=["valve"],
                          phone="13900000003")


@pytest.fixture
async def li(cast):
    return await cast.add("e4", "李工", Role.ENGINEER, site="一号园区", skills=["irrigation"])


def at(clock, day: int, hour: int, minute: int = 0) -> None:
    clock.set(local(day, hour, minute).astimezone(UTC))


async def tick(app, clock, day: int, hour: int, minute: int = 0) -> None:
    at(clock, day, hour, minute)
    await app.sweeper.run_once()
    await settle(app)


def paged(person) -> bool:
    return person.heard("新工单")


async def test_paging_picks_the_engineer_on_shift_at_the_tickets_site(clock, reporter, engineer,
                                                                      engineer2, zhao, li):
    at(clock, 23, 20)  # Monday evening: 赵工's night shift at 一号园区
    await report_valve_fault(reporter)
    assert paged(zhao)
    assert not paged(engineer)  # 张工 has no hours of his own, but the rota says: day shift


async def test_someone_on_shift_who_said_duty_off_is_skipped_for_whoever_is_on_duty(
        clock, reporter, engineer, engineer2, zhao, li):
    await engineer.says("/duty off")
    await report_valve_fault(reporter)  # Monday 09:00: 张工's shift
    assert not paged(engineer)
    assert paged(engineer2)  # on shift at 二号园区: on duty now, the next best
    assert not paged(zhao) and not paged(li)  # off shift


async def test_oncall_shows_now_and_next_per_site_in_site_time(engineer, engineer2, zhao):
    await engineer.says("/oncall")
    text = engineer.last().text
    assert "【一号园区】（Asia/Shanghai）" in text
    assert "现在：张工（13900000001）（至 18:00）" in text
    assert "接下来：赵工（13900000003）（18:00 起）" in text
    assert "【二号园区】" in text and "现在：王工\n" in text


async def test_oncall_for_one_site_in_english(app, cast, engineer, engineer2, zhao):
    await engineer2.says("/lang en")
    await engineer2.says("/oncall 一号园区")
    text = engineer2.last().text
    assert "Now: 张工 (13900000001)" not in text  # names keep their own brackets
    assert "Now: 张工（13900000001） (until 18:00)" in text
    assert "Next: 赵工（13900000003） (from 18:00)" in text and "二号园区" not in text

    await engineer2.says("/oncall 三号园区")
    assert engineer2.last().text == ('The rota has no site "三号园区". Sites with a rota: '
                                     "一号园区, 二号园区")


async def test_a_reporter_asking_for_the_rota_is_told_the_desk_pages_for_them(reporter):
    await reporter.says("值班表")
    assert "直接描述故障，我会通知正在值班的工程师" in reporter.last().text
    await reporter.says("/swap")
    assert "换班是工程师之间的事" in reporter.last().text


async def test_a_manager_sees_which_names_of_the_rota_match_nobody(manager, engineer, engineer2,
                                                                   zhao):
    await manager.says("/oncall")
    assert "值班表需要核对：\n" in manager.last().text
    assert "rota.toml:17: 李工 is not a registered engineer" in manager.last().text


async def ask_zhao_for_tuesday(engineer, zhao) -> None:
    await engineer.says("/swap")
    offered = engineer.last()
    assert "1. 一号园区 周二 11/24 08:00–18:00" in offered.text
    assert "周四 11/26" not in offered.text  # Thursday is 王工's (the override)
    assert labels(offered)[0] == "1. 周二 11/24 08:00"
    await engineer.presses("1. 周二 11/24 08:00")
    assert labels(engineer.last())[0] == "1. 赵工（一号园区）"
    await engineer.presses("1. 赵工（一号园区）")


async def test_a_swap_asked_and_accepted_moves_the_shift_and_paging_follows(
        app, clock, reporter, engineer, zhao, li, manager):
    await ask_zhao_for_tuesday(engineer, zhao)
    assert engineer.last().text.startswith("已请赵工替班：一号园区 周二 11/24 08:00–18:00")
    assert zhao.last().text.startswith("张工请您替班：一号园区 周二 11/24 08:00–18:00")
    assert labels(zhao.last()) == ["接受", "拒绝"]

    await zhao.presses("接受")

    assert zhao.last().text.startswith("您已接受替张工值班") and labels(zhao.last()) == []
    assert engineer.last().text.startswith("赵工接受了替班：一号园区 周二 11/24 08:00–18:00")
    assert manager.last().text == "换班：赵工替张工值班，一号园区 周二 11/24 08:00–18:00。"
    async with app.db.transaction() as tx:
        swap = (await tx.scalars(select(ShiftSwap)))[0]
    assert swap.state == SwapState.ACCEPTED and swap.answered_at == clock.now()

    at(clock, 24, 10)
    await report_valve_fault(reporter)
    assert paged(zhao) and not paged(engineer)
    await engineer.says("/oncall 一号园区")
    assert "现在：赵工（13900000003）（至 明天 08:00）" in engineer.last().text  # and his night


async def test_a_declined_swap_tells_the_asker_and_changes_nothing(app, clock, reporter, engineer,
                                                                   zhao):
    await ask_zhao_for_tuesday(engineer, zhao)
    await zhao.presses("拒绝")
    assert zhao.last().text.startswith("您已拒绝替张工值班")
    assert engineer.last().text.startswith("赵工不能替班：一号园区 周二 11/24 08:00–18:00。"
                                           "这一班仍由您值班")

    at(clock, 24, 10)
    await report_valve_fault(reporter)
    assert paged(engineer) and not paged(zhao)


async def test_stale_and_foreign_presses_get_a_clear_answer(app, clock, engineer, engineer2,
                                                            zhao):
    await ask_zhao_for_tuesday(engineer, zhao)
    token = zhao.button("接受")

    await engineer2.presses_data(token)
    assert engineer2.last().text == "这个换班请求不是发给您的。"
    await zhao.presses_data(token.replace(token.split(":")[1], "999"))
    assert "按钮" in zhao.last().text  # a swap that does not exist: a forged button

    await zhao.presses("接受")
    await zhao.presses_data(token)
    assert zhao.last().text == "这个换班请求已经处理过了（已接受）。"

    await engineer.says("/swap")
    assert "周二 11/24" not in engineer.last().text  # Tuesday is 赵工's now


async def test_an_answer_after_the_shift_began_is_too_late(app, clock, engineer, zhao):
    await ask_zhao_for_tuesday(engineer, zhao)
    at(clock, 24, 8, 30)  # the sweep has not run yet
    await zhao.presses("接受")
    assert zhao.last().text == "这一班已经开始，换班请求作废了：一号园区 周二 11/24 08:00–18:00。"


async def test_an_unanswered_swap_lapses_when_the_shift_begins(app, clock, engineer, zhao):
    await ask_zhao_for_tuesday(engineer, zhao)
    await tick(app, clock, 24, 7, 59)
    assert not engineer.heard("换班作废")

    await tick(app, clock, 24, 8)

    assert engineer.last().text.startswith("班次开始前赵工没有回复，换班作废")
    assert zhao.last().text.startswith("班次已经开始，张工的换班请求作废")
    assert labels(zhao.last()) == []
    async with app.db.transaction() as tx:
        swap = (await tx.scalars(select(ShiftSwap)))[0]
    assert swap.state == SwapState.EXPIRED


async def test_typed_text_and_photos_where_a_choice_is_expected(app, engineer, zhao, li):
    await engineer.says("/swap")
    await engineer.says("明天那班")
    assert engineer.last().text.startswith("请点上面的按钮，或回复序号（1–")
    await engineer.says("99")
    assert engineer.last().text.startswith("请点上面的按钮")
    await engineer.sends_photo(FileRef("k1", "a.jpg", "image/jpeg", 10))
    assert engineer.last().text.startswith("请点上面的按钮")

    await engineer.says("1")  # the first shift, typed
    assert "请谁替班" in engineer.last().text
    await engineer.says("老周")
    assert engineer.last().text.startswith("请点上面的按钮")
    await engineer.says("李工")  # a colleague by name

    assert li.last().text.startswith("张工请您替班：一号园区 周二 11/24 08:00–18:00")


async def test_asking_twice_for_one_shift_names_who_is_asked_and_cancel_ends_it(engineer, zhao,
                                                                                li):
    await ask_zhao_for_tuesday(engineer, zhao)
    await engineer.says("换班")
    await engineer.presses("1. 周二 11/24 08:00")
    assert engineer.last().text.startswith("这一班已经在问赵工了，请等对方回复")

    await engineer.says("/swap")
    await engineer.says("/cancel")
    assert engineer.last().text == "已取消换班，班次不变。"


async def test_a_forged_colleague_button_is_refused(app, engineer, engineer2, zhao):
    await engineer.says("/swap")
    await engineer.presses("1. 周二 11/24 08:00")
    nonce = engineer.button("1. 赵工（一号园区）").split(":")[1]
    await engineer.presses_data(f"w:{nonce}:to:2")  # 王工: not offered (other site/skills)
    assert engineer.last().text == "这个按钮不是这次换班给您的选择，请重新发 /swap。"
    assert not engineer2.heard("请您替班")


async def test_the_same_answer_delivered_twice_is_handled_once(app, engineer, zhao, manager):
    await ask_zhao_for_tuesday(engineer, zhao)
    press = zhao.incoming(Kind.BUTTON, data=zhao.button("接受"))
    await zhao.send(press)
    await zhao.send(press)
    assert len([m for m in manager.inbox() if m.text.startswith("换班：")]) == 1


async def test_swap_offers_only_shifts_not_yet_begun_and_says_when_there_are_none(
        cast, engineer2, zhao):
    await engineer2.says("/swap")  # 王工 is on every day at 二号园区; today's began at 00:00
    assert "1. 二号园区 周二 11/24 00:00–24:00" in engineer2.last().text
    await zhao.says("/swap")
    assert "1. 一号园区 周一 11/23 18:00–次日 08:00" in zhao.last().text

    sun = await cast.add("e5", "孙工", Role.ENGINEER, site="一号园区")
    await sun.says("/swap")
    assert sun.last().text == "您接下来 14 天没有排班，没有可换的班次。"


async def test_buttons_of_an_earlier_step_or_an_earlier_swap_say_so(engineer, zhao):
    await engineer.says("/swap")
    tuesday = engineer.button("1. 周二 11/24 08:00")
    await engineer.presses("1. 周二 11/24 08:00")  # now choosing a colleague

    await engineer.presses_data(tuesday)
    assert engineer.last().text.startswith("这是前一步的按钮：这次换班还在进行中")

    await engineer.says("/cancel")
    await engineer.says("/swap")
    await engineer.presses_data(tuesday)
    assert engineer.last().text.startswith("这是之前一次换班的按钮，已经失效")
