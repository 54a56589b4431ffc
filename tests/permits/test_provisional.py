"""Provisional attendance while a decision or an appeal is pending (EC 46603): at most
two school months, counted on the school year's calendar (EC 37201)."""

from datetime import date, timedelta

import pytest

from permits import clock, services
from permits.models import NonInstructionalDay, Permit, ProvisionalAttendance

MONDAY = date(2026, 10, 5)
VETERANS_DAY = date(2026, 11, 11)


def start(permit, by, school, started_on=MONDAY, reason="Waiting for the decision; the family moved."):
    return services.start_provisional_attendance(
        permit_id=permit.pk, by=by, school=school, started_on=started_on, reason=reason
    )


def deny_finally(permit, diana):
    return services.deny_permit(permit_id=permit.pk, by=diana, reasons=["no_space"], note="Full", final=True)


def test_a_pupil_attends_provisionally_while_the_decision_is_pending(submitted_in, tina, school_b, year_in_session):
    attendance = start(submitted_in, tina, school_b)
    # 40 school days from a Monday, weekends skipped: the Friday eight weeks on.
    assert attendance.ends_by == date(2026, 11, 27)
    assert (attendance.school, attendance.started_on, attendance.recorded_by) == (school_b, MONDAY, tina)
    assert attendance.ended_on is None
    event = submitted_in.events.get(kind="provisional_attendance")
    assert event.actor == tina
    assert "2026-11-27" in event.note


def test_the_limit_skips_the_years_days_without_instruction(submitted_in, tina, school_b, year_in_session):
    NonInstructionalDay.objects.create(school_year=year_in_session, day=VETERANS_DAY, name="Veterans Day")
    assert start(submitted_in, tina, school_b).ends_by == date(2026, 11, 30)


def test_the_limit_never_runs_past_the_last_day_of_instruction(submitted_in, tina, school_b, year_in_session):
    year_in_session.last_day_of_instruction = date(2026, 11, 20)
    year_in_session.save()
    assert start(submitted_in, tina, school_b).ends_by == date(2026, 11, 20)


def test_it_is_allowed_while_an_appeal_of_a_denial_is_pending(verified_in, diana, alice, school_b, year_in_session):
    deny_finally(verified_in, diana)
    with pytest.raises(services.PermitError, match="pending"):
        start(verified_in, diana, school_b)
    appeal = services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="Please reconsider.")
    attendance = start(verified_in, diana, school_b)
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=False)
    verified_in.refresh_from_db()
    # Decided: nothing ends it by itself, the review page asks staff to.
    assert not services.decision_pending(verified_in)
    attendance.refresh_from_db()
    assert attendance.ended_on is None


def test_it_is_refused_for_an_approved_permit(verified_in, diana, school_b, year_in_session):
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    with pytest.raises(services.PermitError, match="only while a decision or an appeal is pending"):
        start(verified_in, diana, school_b)
    assert not ProvisionalAttendance.objects.exists()


def test_it_is_refused_without_a_reason(submitted_in, tina, school_b, year_in_session):
    with pytest.raises(services.PermitError, match="reason"):
        start(submitted_in, tina, school_b, reason="   ")
    assert not submitted_in.events.filter(kind="provisional_attendance").exists()


def test_it_is_refused_for_a_first_day_in_the_future_or_outside_the_school_year(
    submitted_in, tina, school_b, year_in_session
):
    with pytest.raises(services.PermitError, match="future"):
        start(submitted_in, tina, school_b, started_on=clock.today() + timedelta(days=1))
    with pytest.raises(services.PermitError, match="instruction"):
        start(submitted_in, tina, school_b, started_on=date(2026, 8, 11))


def test_it_is_refused_for_an_outgoing_request(submitted_in, tina, school_b, year_in_session):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="inter_out")
    with pytest.raises(services.PermitError, match="school of this district"):
        start(submitted_in, tina, school_b)


def test_only_one_provisional_attendance_is_open_at_a_time(submitted_in, tina, school_a, school_b, year_in_session):
    first = start(submitted_in, tina, school_b)
    with pytest.raises(services.PermitError, match="already attends provisionally"):
        start(submitted_in, tina, school_a)
    services.end_provisional_attendance(attendance_id=first.pk, by=tina, ended_on=date(2026, 10, 16))
    second = start(submitted_in, tina, school_a, started_on=date(2026, 11, 2))
    # The two months are the request's: 10 school days used (Oct 5-16), 30 left from Nov 2.
    assert second.ends_by == date(2026, 12, 11)
    assert submitted_in.provisional_attendances.filter(ended_on__isnull=True).get() == second


def test_the_two_school_months_are_counted_across_periods(submitted_in, tina, school_b, year_in_session):
    first = start(submitted_in, tina, school_b)
    services.end_provisional_attendance(attendance_id=first.pk, by=tina, ended_on=first.ends_by)
    with pytest.raises(services.PermitError, match="two school months"):
        start(submitted_in, tina, school_b, started_on=date(2026, 11, 30))


def test_ending_it_records_the_day_and_an_event(submitted_in, tina, school_b, year_in_session):
    attendance = start(submitted_in, tina, school_b)
    services.end_provisional_attendance(attendance_id=attendance.pk, by=tina, ended_on=date(2026, 10, 30))
    attendance.refresh_from_db()
    assert attendance.ended_on == date(2026, 10, 30)
    assert list(submitted_in.events.filter(kind="provisional_attendance").values_list("note", flat=True))[-1] == (
        "ended 2026-10-30"
    )
    with pytest.raises(services.PermitError, match="already ended"):
        services.end_provisional_attendance(attendance_id=attendance.pk, by=tina, ended_on=date(2026, 10, 30))


def test_it_cannot_end_before_it_started_or_in_the_future(submitted_in, tina, school_b, year_in_session):
    attendance = start(submitted_in, tina, school_b)
    with pytest.raises(services.PermitError, match="before its first day"):
        services.end_provisional_attendance(attendance_id=attendance.pk, by=tina, ended_on=MONDAY - timedelta(1))
    with pytest.raises(services.PermitError, match="future"):
        services.end_provisional_attendance(
            attendance_id=attendance.pk, by=tina, ended_on=clock.today() + timedelta(days=1)
        )
    attendance.refresh_from_db()
    assert attendance.ended_on is None
