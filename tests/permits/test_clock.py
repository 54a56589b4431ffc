from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from permits import clock

LA = "America/Los_Angeles"
PT = ZoneInfo(LA)


def at(y, m, d, hh=12, mm=0, tz=PT):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def deadlines(received_at, first_day, service_level_days=None):
    return clock.deadlines_for(
        received_at=received_at,
        first_day_of_instruction=first_day,
        time_zone=LA,
        service_level_days=service_level_days,
    )


FIRST_DAY = date(2027, 8, 12)


def test_a_request_15_days_before_the_first_day_is_current_year():
    d = deadlines(at(2027, 7, 28), FIRST_DAY)
    assert (FIRST_DAY - d.received_on).days == 15
    assert d.year_type == "current"
    assert d.legal_due == date(2027, 8, 27)


def test_a_request_16_days_before_the_first_day_is_future_year():
    d = deadlines(at(2027, 7, 27), FIRST_DAY)
    assert d.year_type == "future"
    assert d.legal_due == FIRST_DAY + timedelta(days=14)


def test_a_request_after_the_first_day_is_current_year():
    d = deadlines(at(2027, 10, 1), FIRST_DAY)
    assert d.year_type == "current"
    assert d.legal_due == date(2027, 10, 31)


def test_the_30_days_cross_a_month_end_and_a_year_end():
    assert deadlines(at(2027, 1, 31), date(2026, 8, 13)).legal_due == date(2027, 3, 2)
    assert deadlines(at(2027, 12, 15), date(2027, 8, 12)).legal_due == date(2028, 1, 14)


def test_the_30_days_count_february_29_in_a_leap_year():
    assert deadlines(at(2028, 2, 10), date(2027, 8, 12)).legal_due == date(2028, 3, 11)
    assert deadlines(at(2027, 2, 10), date(2026, 8, 13)).legal_due == date(2027, 3, 12)


def test_a_late_evening_submission_counts_on_the_district_calendar_day():
    # 11:30 pm in California is already the next day in UTC.
    received = at(2027, 9, 30, 23, 30)
    assert received.astimezone(UTC).date() == date(2027, 10, 1)
    d = deadlines(received, FIRST_DAY)
    assert d.received_on == date(2027, 9, 30)
    assert d.legal_due == date(2027, 10, 30)


@pytest.mark.parametrize(
    "received_utc, local_day",
    [
        # The night of the spring change (2028-03-12, 2 am → 3 am).
        (datetime(2028, 3, 12, 9, 59, tzinfo=UTC), date(2028, 3, 12)),  # 1:59 PST
        (datetime(2028, 3, 13, 6, 59, tzinfo=UTC), date(2028, 3, 12)),  # 23:59 PDT
        # The autumn change (2027-11-07, 2 am → 1 am): the 1 am hour happens twice.
        (datetime(2027, 11, 7, 8, 30, tzinfo=UTC), date(2027, 11, 7)),  # 1:30 PDT
        (datetime(2027, 11, 7, 9, 30, tzinfo=UTC), date(2027, 11, 7)),  # 1:30 PST
        (datetime(2027, 11, 8, 7, 59, tzinfo=UTC), date(2027, 11, 7)),  # 23:59 PST
    ],
)
def test_daylight_saving_changes_do_not_move_the_calendar_day(received_utc, local_day):
    d = deadlines(received_utc, FIRST_DAY)
    assert d.received_on == local_day
    assert d.legal_due == local_day + timedelta(days=30)


def test_the_district_target_applies_when_it_is_earlier():
    d = deadlines(at(2027, 3, 1), FIRST_DAY, service_level_days=30)
    assert d.year_type == "future"
    assert d.legal_due == date(2027, 8, 26)
    assert d.district_due == date(2027, 3, 31)
    assert d.due == date(2027, 3, 31)


def test_the_legal_date_applies_when_the_district_target_is_later():
    d = deadlines(at(2027, 9, 1), FIRST_DAY, service_level_days=45)
    assert d.due == d.legal_due == date(2027, 10, 1)


# --- Dated rule sets (item 11): a change in the law is a new rule set, not an edit.


def test_the_rule_set_in_force_starts_on_its_effective_date():
    assert clock.rules_on(date(2019, 1, 1)).code == "ab2826-2019"
    assert clock.rules_on(date(2023, 12, 31)).code == "ab2826-2019"
    assert clock.rules_on(date(2024, 1, 1)).code == "sb413-2024"
    with pytest.raises(ValueError):
        clock.rules_on(date(2018, 12, 31))


def test_a_request_keeps_the_rule_set_of_its_day_of_receipt():
    d = deadlines(at(2023, 12, 31, 23, 30), date(2024, 8, 14))
    assert d.rules.code == "ab2826-2019"
    assert deadlines(at(2024, 1, 1, 0, 5), date(2024, 8, 14)).rules.code == "sb413-2024"


def test_the_60_day_county_period_needs_a_class_1_or_2_county_and_sb_413():
    before, after = clock.rule_set("ab2826-2019"), clock.rule_set("sb413-2024")
    assert clock.county_decision_days(after, 1) == 60
    assert clock.county_decision_days(after, 2) == 60
    assert clock.county_decision_days(after, 3) == 30
    assert clock.county_decision_days(after, None) == 30
    assert clock.county_decision_days(before, 1) == 30


def test_a_new_rule_set_changes_the_clock_only_for_requests_received_under_it(monkeypatch):
    """SB 1082 (pending in 2026) would make silence an approval and could change the
    days: a new dated entry, and requests received before it keep their rules."""
    import dataclasses

    future = dataclasses.replace(
        clock.RULE_SETS[-1],
        code="sb1082-2027",
        effective_from=date(2027, 1, 1),
        current_year_decision_days=45,
        no_decision_counts_as="approval",
    )
    monkeypatch.setattr(clock, "RULE_SETS", (*clock.RULE_SETS, future))
    assert deadlines(at(2026, 12, 31), date(2026, 8, 13)).legal_due == date(2027, 1, 30)
    assert deadlines(at(2027, 1, 1), date(2026, 8, 13)).legal_due == date(2027, 2, 15)
    assert clock.rule_set("sb413-2024").current_year_decision_days == 30


def test_today_is_the_district_day_not_the_servers(settings):
    from datetime import UTC, datetime
    from unittest import mock

    late_evening_in_california = datetime(2027, 12, 20, 7, 30, tzinfo=UTC)  # 23:30 on the 19th in LA
    with mock.patch("django.utils.timezone.now", return_value=late_evening_in_california):
        assert clock.today() == date(2027, 12, 19)


def test_the_system_check_refuses_a_district_in_another_time_zone(district, settings):
    from permits.checks import district_time_zone

    assert district_time_zone(None, databases=["default"]) == []
    district.time_zone = "America/New_York"
    district.save()
    [error] = district_time_zone(None, databases=["default"])
    assert error.id == "permits.E001" and "America/New_York" in error.msg
    assert district_time_zone(None, databases=None) == []  # only when asked to look at a database


# --- School days (EC 37201) for provisional attendance (EC 46603).
LAST_DAY = date(2027, 6, 3)


def school_day(start, days, holidays=()):
    return clock.last_school_day(start, days, holidays=set(holidays), last_day=LAST_DAY)


def test_the_start_is_the_first_school_day_and_weekends_are_skipped():
    monday = date(2026, 10, 5)
    assert school_day(monday, 1) == monday
    assert school_day(monday, 5) == date(2026, 10, 9)  # Friday
    assert school_day(monday, 6) == date(2026, 10, 12)  # the next Monday, not Saturday
    assert school_day(monday, 2 * clock.SCHOOL_MONTH_DAYS) == date(2026, 11, 27)


def test_a_day_without_instruction_is_skipped():
    monday = date(2026, 10, 5)
    assert school_day(monday, 40, holidays=[date(2026, 11, 11)]) == date(2026, 11, 30)
    assert school_day(monday, 1, holidays=[monday]) == date(2026, 10, 6)


def test_a_start_on_a_saturday_counts_from_the_monday():
    assert school_day(date(2026, 10, 3), 1) == date(2026, 10, 5)
    assert school_day(date(2026, 10, 3), 40) == date(2026, 11, 27)


def test_the_count_stops_at_the_last_day_of_instruction():
    assert school_day(date(2027, 5, 24), 9) == LAST_DAY  # Monday to the next Thursday: 9 days
    assert school_day(date(2027, 5, 24), 10) == LAST_DAY
    assert school_day(date(2027, 5, 24), 40) == LAST_DAY


def test_at_least_one_school_day_is_counted():
    with pytest.raises(ValueError):
        school_day(date(2026, 10, 5), 0)
