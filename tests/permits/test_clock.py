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


def test_the_county_appeal_deadline_is_30_days_after_the_final_denial():
    deadlines = clock.appeal_deadlines(date(2027, 12, 20), internal_appeal_days=10)
    assert deadlines.county == date(2028, 1, 19)


def test_the_internal_appeal_deadline_is_the_districts_number_of_days():
    assert clock.appeal_deadlines(date(2027, 12, 20), internal_appeal_days=10).internal == date(2027, 12, 30)
    assert clock.appeal_deadlines(date(2027, 12, 20), internal_appeal_days=0).internal == date(2027, 12, 20)


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
