from datetime import date, timedelta

import pytest
from django.utils import timezone

from outbox.models import OutboxEmail
from permits import services
from permits.models import Permit
from reviews.deadlines import run_daily_checks
from reviews.models import DeadlineReminder

from ..conftest import doc_type, login


@pytest.fixture
def due_in(submitted_in):
    """Move the packet's due date to `days` from today (received 30 days before due);
    its legal due date too, unless `legal` days are given (a tighter district target)."""

    def move(days, legal=None):
        due = timezone.localdate() + timedelta(days=days)
        Permit.objects.filter(pk=submitted_in.pk).update(
            due_date=due,
            legal_due_date=due if legal is None else timezone.localdate() + timedelta(days=legal),
            received_at=timezone.now() + timedelta(days=days - 30),
        )
        submitted_in.refresh_from_db()
        return submitted_in

    return move


def emails(template):
    return list(OutboxEmail.objects.filter(template=template).order_by("pk"))


def test_reminders_go_to_every_technician_and_the_director_when_unassigned(due_in, tina, terry, diana):
    permit = due_in(5)
    summary = run_daily_checks()
    assert sorted(e.to for e in emails("staff_due_soon")) == sorted([tina.email, terry.email, diana.email])
    assert set(DeadlineReminder.objects.values_list("days_before", flat=True)) == {10, 5}
    # Three emails list the permit; its line was rendered once.
    assert len(summary.lines) == 1
    for email in emails("staff_due_soon"):
        assert f"{permit.reference} Sofia Garcia: 5 days left" in email.body_text
        assert f'/staff/permits/{permit.pk}/">{permit.reference}</a> Sofia Garcia: 5 days left' in email.body_html


def test_reminders_go_to_the_assigned_technician_only(due_in, tina, terry, diana):
    permit = due_in(2)
    services.claim_permit(permit_id=permit.pk, by=tina)
    run_daily_checks()
    assert sorted(e.to for e in emails("staff_due_soon")) == sorted([tina.email, diana.email])
    assert permit.reference in emails("staff_due_soon")[0].body_text


def test_each_reminder_is_sent_once_however_often_the_check_runs(due_in, tina, diana):
    due_in(10)
    today = timezone.localdate()
    for _ in range(3):
        run_daily_checks(today=today)
    assert len(emails("staff_due_soon")) == 2  # Tina and Diana, once
    run_daily_checks(today=today + timedelta(days=5))
    assert DeadlineReminder.objects.filter(days_before=5).count() == 1
    assert len(emails("staff_due_soon")) == 4


def test_an_overdue_request_is_flagged_and_escalated_every_day_until_decided(due_in, tina, diana):
    permit = due_in(-1)
    today = timezone.localdate()
    run_daily_checks(today=today)
    run_daily_checks(today=today)
    permit.refresh_from_db()
    assert permit.deemed_denial_risk_since == today  # the day after the legal due date
    assert [e.to for e in emails("staff_overdue")] == [diana.email]
    run_daily_checks(today=today + timedelta(days=1))
    assert len(emails("staff_overdue")) == 2
    Permit.objects.filter(pk=permit.pk).update(status="approved")
    run_daily_checks(today=today + timedelta(days=2))
    assert len(emails("staff_overdue")) == 2


def test_three_days_without_a_run_then_two_runs_lose_nothing_and_repeat_nothing(due_in, tina, diana):
    today = timezone.localdate()
    due_in(3)  # due in 3 days: the 10- and 5-day reminders are due today
    run_daily_checks(today=today)
    assert set(DeadlineReminder.objects.values_list("days_before", flat=True)) == {10, 5}
    later = today + timedelta(days=5)  # days +1..+4 missed; the packet became overdue on +4
    run_daily_checks(today=later)
    run_daily_checks(today=later)
    assert sorted(DeadlineReminder.objects.values_list("days_before", flat=True)) == [1, 2, 5, 10]
    overdue_days = sorted(e.key.split(":")[1] for e in emails("staff_overdue"))
    assert overdue_days == [(today + timedelta(days=n)).isoformat() for n in (4, 5)]
    digests = sorted(e.key.split(":")[1] for e in emails("director_digest"))
    assert digests == [(today + timedelta(days=n)).isoformat() for n in range(6)]
    keys = [e.key for e in OutboxEmail.objects.all()]
    assert len(keys) == len(set(keys))


def test_an_unanswered_information_request_is_abandoned_and_the_family_told(submitted_in, tina, alice, handle_events):
    services.request_information(
        permit_id=submitted_in.pk, by=tina, message="Send it", document_types=[doc_type("report_card")]
    )
    today = timezone.localdate()
    run_daily_checks(today=today + timedelta(days=10))
    submitted_in.refresh_from_db()
    assert submitted_in.status == "info_requested"  # the deadline day itself still counts
    run_daily_checks(today=today + timedelta(days=11))
    run_daily_checks(today=today + timedelta(days=11))
    submitted_in.refresh_from_db()
    assert submitted_in.status == "abandoned"
    handle_events()
    [email] = emails("permit_abandoned")
    assert email.to == alice.email and "cannot be appealed" in email.body_text
    event = submitted_in.events.filter(kind="status").last()
    assert (event.old_status, event.new_status, event.actor) == ("info_requested", "abandoned", None)


def test_a_denial_whose_notice_was_not_sent_within_a_day_alerts_the_director(submitted_in, diana):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    run_daily_checks()
    assert not emails("staff_denial_notice_missing")
    Permit.objects.filter(pk=submitted_in.pk).update(decided_at=timezone.now() - timedelta(days=2))
    run_daily_checks()
    run_daily_checks()
    assert [e.to for e in emails("staff_denial_notice_missing")] == [diana.email]


def test_a_sent_denial_notice_raises_no_alert(submitted_in, diana, handle_events):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    handle_events()
    OutboxEmail.objects.filter(template="permit_denied").update(status="sent", sent_at=timezone.now())
    Permit.objects.filter(pk=submitted_in.pk).update(decided_at=timezone.now() - timedelta(days=2))
    run_daily_checks()
    assert not emails("staff_denial_notice_missing")


def test_county_appeals_are_tracked_against_their_due_date(submitted_in, diana):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    today = timezone.localdate()
    services.record_county_appeal(permit_id=submitted_in.pk, by=diana, filed_on=today - timedelta(days=27))
    run_daily_checks(today=today)
    run_daily_checks(today=today)
    assert len(emails("staff_county_appeal")) == 1
    run_daily_checks(today=today + timedelta(days=4))
    assert len(emails("staff_county_appeal")) == 2


def test_the_compliance_view_shows_overdue_requests_and_the_share_in_time(due_in, diana, tina):
    permit = due_in(-3)
    response = login(diana).get("/staff/compliance/")
    assert response.status_code == 200
    assert permit.reference in response.text
    assert login(tina).get("/staff/compliance/").status_code == 403


def test_a_tighter_district_target_escalates_to_staff_but_is_no_deemed_denial(due_in, diana, handle_events):
    permit = due_in(-1, legal=10)  # the district's own target passed; the law's has not
    run_daily_checks()
    handle_events()
    permit.refresh_from_db()
    assert [e.to for e in emails("staff_overdue")] == [diana.email]
    assert permit.deemed_denial_risk_since is None
    assert not permit.events.filter(kind="deemed_denied").exists()
    assert not emails("permit_deemed_denied")


def test_the_day_after_the_legal_due_date_the_family_is_told_of_a_deemed_denial(due_in, alice, handle_events):
    today = timezone.localdate()
    permit = due_in(0)
    run_daily_checks(today=today)  # due today: still in time
    permit.refresh_from_db()
    assert permit.deemed_denial_risk_since is None
    run_daily_checks(today=today + timedelta(days=1))
    run_daily_checks(today=today + timedelta(days=1))
    handle_events()
    permit.refresh_from_db()
    assert permit.deemed_denial_risk_since == today + timedelta(days=1)
    assert permit.status == "submitted"  # still open: the district may decide it
    assert permit.events.filter(kind="deemed_denied").count() == 1
    (email,) = emails("permit_deemed_denied")
    county = today + timedelta(days=31)
    assert email.to == alice.email
    assert "Education Code 46600.1(d)(1) this counts as a denial" in email.body_text
    assert f"until {county:%B} {county.day}, {county.year}" in email.body_text


def test_an_intra_district_request_past_its_due_date_promises_no_county_appeal(due_in, handle_events):
    permit = due_in(-1)
    Permit.objects.filter(pk=permit.pk).update(kind="intra")
    run_daily_checks()
    handle_events()
    permit.refresh_from_db()
    assert permit.deemed_denial_risk_since is not None  # staff still see the risk
    assert not emails("permit_deemed_denied")


def test_internal_appeals_are_tracked_against_their_decision_date(submitted_in, diana, alice):
    today = timezone.localdate()
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    appeal = services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="Please reconsider.")
    run_daily_checks(today=appeal.decision_due_date - timedelta(days=6))
    assert not emails("staff_internal_appeal")
    run_daily_checks(today=appeal.decision_due_date - timedelta(days=5))
    assert [e.to for e in emails("staff_internal_appeal")] == [diana.email]
    run_daily_checks(today=appeal.decision_due_date + timedelta(days=1))
    assert len(emails("staff_internal_appeal")) == 2
    assert today <= appeal.decision_due_date


def test_provisional_attendance_alerts_5_days_before_its_limit_and_daily_after(
    submitted_in, tina, diana, school_b, year_in_session
):
    attendance = services.start_provisional_attendance(
        permit_id=submitted_in.pk, by=tina, school=school_b, started_on=date(2026, 10, 5), reason="Moved in."
    )
    assert attendance.ends_by == date(2026, 11, 27)
    run_daily_checks(today=date(2026, 11, 21))
    assert not emails("staff_provisional_attendance")
    summary = run_daily_checks(today=date(2026, 11, 22))
    run_daily_checks(today=date(2026, 11, 22))
    run_daily_checks(today=date(2026, 11, 27))  # the last day allowed: still the same note
    (email,) = emails("staff_provisional_attendance")
    assert summary.provisional_alerts == 1
    assert email.to == diana.email
    assert f"{submitted_in.reference}: allowed until November 27, 2026" in email.subject
    assert "Sofia Garcia" in email.body_text and school_b.name in email.body_text
    assert f"/staff/permits/{submitted_in.pk}/" in email.body_html
    run_daily_checks(today=date(2026, 11, 28))
    run_daily_checks(today=date(2026, 11, 28))
    run_daily_checks(today=date(2026, 11, 29))
    assert len(emails("staff_provisional_attendance")) == 3
    assert "ran past November 27, 2026" in emails("staff_provisional_attendance")[-1].subject


def test_an_ended_provisional_attendance_raises_no_alert(submitted_in, tina, diana, school_b, year_in_session):
    attendance = services.start_provisional_attendance(
        permit_id=submitted_in.pk, by=tina, school=school_b, started_on=date(2026, 10, 5), reason="Moved in."
    )
    services.end_provisional_attendance(attendance_id=attendance.pk, by=tina, ended_on=date(2026, 11, 20))
    summary = run_daily_checks(today=date(2026, 11, 25))
    run_daily_checks(today=date(2026, 11, 30))
    assert summary.provisional_alerts == 0
    assert not emails("staff_provisional_attendance")


def test_the_compliance_view_lists_open_provisional_attendances(submitted_in, tina, diana, school_b, year_in_session):
    services.start_provisional_attendance(
        permit_id=submitted_in.pk, by=tina, school=school_b, started_on=date(2026, 10, 5), reason="Moved in."
    )
    response = login(diana).get("/staff/compliance/")
    assert response.status_code == 200
    # The table: after its heading and its region label, which repeat the title.
    row = response.text.split("Provisional attendance (EC 46603")[-1]
    assert submitted_in.reference in row and "Sofia Garcia" in row and school_b.name in row
    days = (date(2026, 11, 27) - timezone.localdate()).days
    assert f"{abs(days)} day" in row
