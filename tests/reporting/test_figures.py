"""Every figure of a report, checked exactly against a history whose answers we chose."""

from __future__ import annotations

from handlers.flows.reporting import classify, figures, period
from handlers.flows.reporting.rates import Rate, Targets
from tests.reporting.history import seed, utc

SHANGHAI = "Asia/Shanghai"
NOW = utc(11, 23, 1)


async def test_volumes_count_the_tickets_created_in_the_site_time_month(october):
    assert october.tickets == 10
    assert october.by_priority == {"P1": 2, "P2": 2, "P3": 4, "P4": 2}
    assert october.by_category == {"valve": 3, "sensor": 2, "network": 1, "platform": 1,
                                   "camera": 1, "power": 1, "general": 1}
    assert october.by_site == {"一号园区": 6, "二号园区": 4}
    assert october.by_engineer == {"张工": 5, "王工": 3, "-": 2}
    assert october.by_fault_type == {"hardware": 3, "config": 2, "unclassified": 2,
                                     "operator": 1, "software_bug": 1, "improvement": 1}


async def test_timeliness_counts_an_unanswered_overdue_ticket_as_a_miss(october):
    # due in October: T0–T6 and T8; T7 was cancelled unanswered, T9 is due in November
    assert october.response == Rate(6, 8, 0.98)
    assert october.response.percent == 75.0 and october.response.on_target is False


async def test_resolution_rate_is_resolved_within_the_deadline(october):
    assert october.resolution == Rate(5, 8, 0.95)
    assert october.resolution.percent == 62.5


async def test_satisfaction_share_average_and_response_rate(october):
    # resolved in October: T0–T5 and T8; answered 5,5,4,2,3; T4 silent; T8 still pending
    assert october.satisfied == Rate(3, 5, 0.90)
    assert october.satisfied.percent == 60.0
    assert october.average_score == 3.8
    assert october.survey_response == Rate(5, 6)
    assert october.survey_response.percent == 83.3
    assert october.scores == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2}


async def test_mean_and_p90_times_in_minutes(october):
    respond, resolve = october.time_to_respond, october.time_to_resolve
    assert (respond.count, respond.mean_minutes, respond.p90_minutes) == (8, 163.1, 600.0)
    assert (resolve.count, resolve.mean_minutes, resolve.p90_minutes) == (8, 708.0, 1800.0)


async def test_remote_share_counts_self_service_and_remote_fixes(october):
    assert october.onsite == 2  # T2 on site, T3 on the way
    assert october.remote == Rate(8, 10, 0.80)  # 5 remote fixes + 3 self-service
    assert october.remote.percent == 80.0 and october.remote.on_target is True
    assert october.self_service == Rate(3, 13)
    assert october.self_service.percent == 23.1


async def test_each_article_is_credited_only_with_what_it_solved(october):
    # valve-wont-open was shown 4 times and solved 2; gateway-reset, shown once beside it,
    # was the one that solved that time
    assert october.articles == {"valve-wont-open": [4, 2], "gateway-reset": [1, 1]}


async def test_events_in_the_period_only(october):
    assert october.recurrences == 1
    assert october.complaints == 1
    assert october.escalations == {"2": 1, "3": 1}
    assert october.breaches == {"response": 2, "resolve": 2}


async def test_weeks_cover_the_month_for_the_charts(october):
    assert [str(w.start) for w in october.weeks][:2] == ["2026-09-28", "2026-10-05"]
    assert sum(sum(w.by_priority.values()) for w in october.weeks) == 10
    first = october.weeks[0]
    assert first.by_priority["P3"] == 1 and first.response == Rate(1, 1, 0.98)


async def test_a_month_in_utc_moves_the_midnight_tickets(app):
    await seed(app.db)
    async with app.db.transaction() as tx:
        utc_month = await figures.compute(tx, period.parse("2026-10", "UTC"), NOW)
        local = await figures.compute(tx, period.parse("2026-10", SHANGHAI), NOW)
    assert utc_month.by_category.get("pest") == 1 and utc_month.by_category["sensor"] == 1
    assert "pest" not in local.by_category and local.by_category["sensor"] == 2


async def test_a_ticket_one_minute_before_local_midnight_is_that_day(app):
    await seed(app.db)
    async with app.db.transaction() as tx:
        last_day = await figures.compute(tx, period.parse("2026-10-31", SHANGHAI), NOW)
        next_day = await figures.compute(tx, period.parse("2026-11-01", SHANGHAI), NOW)
    assert last_day.tickets == 1 and last_day.by_category == {"general": 1}
    assert next_day.tickets == 1 and next_day.by_category == {"pest": 1}


async def test_an_empty_period_has_no_rates_rather_than_a_division_by_zero(app):
    await seed(app.db)
    async with app.db.transaction() as tx:
        empty = await figures.compute(tx, period.parse("2025-01", SHANGHAI), NOW)
    assert empty.tickets == 0 and empty.response == Rate(0, 0, 0.98)
    assert empty.response.percent is None and empty.response.on_target is None
    assert empty.average_score is None and empty.time_to_respond.mean_minutes is None


async def test_a_ticket_not_yet_due_is_not_counted(app):
    await seed(app.db)
    async with app.db.transaction() as tx:
        early = await figures.compute(tx, period.parse("2026-10", SHANGHAI), utc(10, 20, 5))
    # at 10-20 05:00 T6 (due 06:00) is neither answered nor late yet
    assert early.response == Rate(6, 7, 0.98)


async def test_targets_come_from_configuration_with_the_plan_as_default():
    class Config:
        target_timeliness = 0.9

    assert Targets.of(Config()) == Targets(0.9, 0.95, 0.90, 0.80)
    assert Targets.of(object()) == Targets()


async def test_the_quarterly_classification_finds_the_common_causes(app):
    await seed(app.db)
    async with app.db.transaction() as tx:
        c = await classify.classify(tx, period.parse("2026-Q4", SHANGHAI))
    assert c.tickets == 11  # T0–T10: T0 is 1 October in site time
    assert c.top_causes[0] == ("hardware", "线圈烧坏", 2)  # spacing does not split a cause
    assert c.repeat_devices == [("一号园区", "3号阀", 2)]
    assert c.sites == [("一号园区", 6), ("二号园区", 5)]
    assert c.articles_used == [("valve-wont-open", 3), ("gateway-reset", 1)]
    assert c.articles_missing[0] == ("sensor", 2)
