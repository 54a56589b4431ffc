from datetime import timedelta

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
    """Move the packet's due date to `days` from today (received 30 days before due)."""

    def move(days):
        due = timezone.localdate() + timedelta(days=days)
        Permit.objects.filter(pk=submitted_in.pk).update(
            due_date=due, received_at=timezone.now() + timedelta(days=days - 30)
        )
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
    assert permit.deemed_denial_risk_since == today
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
