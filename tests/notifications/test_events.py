"""What each permit event causes (notifications.events), done once, after commit, by a
worker, and never lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.events import EFFECTS, effect_of, handle_event
from notifications.tasks import sweep_events_task
from outbox.models import OutboxEmail
from permits import services
from permits.models import District, Letter, Permit, PermitEvent, PermitKind

from ..factories import GuardianFactory
from ..live import free_port, point_celery_at

S = Permit.Status


def pending(permit):
    return permit.events.filter(notified_at__isnull=True)


def test_a_service_only_writes_the_event_the_worker_does_the_rest(verified_in, tina):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    event = verified_in.events.get(new_status=S.APPROVED)
    # Inside the decision nothing is rendered and nothing is queued.
    assert event.notified_at is None
    assert not Letter.objects.exists() and not OutboxEmail.objects.exists()
    assert handle_event(event.pk) == 1
    event.refresh_from_db()
    letter = Letter.objects.get(event=event)
    assert event.notified_at and letter.kind == Letter.Kind.ACCEPTANCE and letter.is_rendered
    email = OutboxEmail.objects.get(template="permit_approved")
    assert email.attachment.name == letter.pdf.name and email.attachment_name == letter.filename


def test_handling_an_event_twice_issues_one_letter_and_one_email_per_guardian(verified_in, tina, alice):
    GuardianFactory(family=alice.family, email="second@example.com")
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    event = verified_in.events.get(new_status=S.APPROVED)
    assert handle_event(event.pk) == 2
    assert handle_event(event.pk) == 0
    PermitEvent.objects.filter(pk=event.pk).update(notified_at=None)  # as if the first run died at the end
    assert handle_event(event.pk) == 0  # the emails' keys refuse a second copy
    assert Letter.objects.count() == 1 and OutboxEmail.objects.count() == 2


@pytest.mark.parametrize(
    "kind, letter",
    [(PermitKind.INTER_IN, "acceptance"), (PermitKind.INTER_OUT, "release"), (PermitKind.INTRA, "placement")],
)
def test_an_approval_issues_the_letter_of_its_kind(kind, letter):
    permit = Permit(kind=kind)
    event = PermitEvent(kind="status", new_status=S.APPROVED, permit=permit)
    assert effect_of(event).letter_kind(event) == letter


def test_withdrawing_a_draft_tells_nobody_but_withdrawing_a_request_does(draft_in, alice, handle_events):
    services.withdraw_permit(permit_id=draft_in.pk, by=alice)
    assert handle_events() == 0 and not pending(draft_in).exists()


def test_withdrawing_a_submitted_request_is_confirmed_by_email(submitted_in, alice, handle_events):
    handle_events()
    services.withdraw_permit(permit_id=submitted_in.pk, by=alice)
    assert handle_events() == 1
    assert OutboxEmail.objects.filter(template="permit_withdrawn", to=alice.email).count() == 1


def test_every_status_a_family_is_told_of_is_in_the_table():
    told = {status for (kind, status) in EFFECTS if kind == "status"}
    silent = {S.DRAFT, S.UNDER_REVIEW}  # a draft is the family's own; review is staff-internal
    assert told | silent == set(S)


def test_the_sweeper_marks_silent_events_done_and_leaves_fresh_ones_to_their_message(draft_in, settings):
    # A draft's events (created, documents added) cause nothing.
    assert pending(draft_in).exists()
    assert sweep_events_task() == 0 and pending(draft_in).exists()  # too fresh: their message may come
    settings.OUTBOX_RESEND_AFTER_SECONDS = 0
    assert sweep_events_task() == 0
    assert not pending(draft_in).exists()


def test_with_the_broker_down_the_sweeper_leaves_the_event_pending(submitted_in, settings, caplog):
    event = submitted_in.events.get(new_status=S.SUBMITTED)
    settings.OUTBOX_RESEND_AFTER_SECONDS = 0
    point_celery_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        assert sweep_events_task() == 0
    finally:
        point_celery_at(settings.REDIS_URL)
    event.refresh_from_db()
    assert event.notified_at is None
    assert f"event {event.pk} left for the sweeper: broker unavailable" in caplog.text


def test_the_email_and_the_letter_state_the_same_appeal_deadline(submitted_in, diana, handle_events):
    import io

    from pypdf import PdfReader

    handle_events()
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)
    # Rendered a day later (a worker backlog): the deadlines are still the decision's.
    event = submitted_in.events.get(new_status=S.DENIED)
    PermitEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - timedelta(days=1))
    handle_events()
    decided_on = timezone.localdate(event.created_at - timedelta(days=1))
    # No internal appeal filed: final when its window closes, the county's 30 days after.
    deadline = decided_on + timedelta(days=District.current().internal_appeal_days + 30)
    spelled = f"{deadline:%B} {deadline.day}, {deadline.year}"
    email = OutboxEmail.objects.get(template="permit_denied")
    letter = Letter.objects.get(kind="denial")
    with letter.pdf.open("rb") as f:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(f.read())).pages)
    assert spelled in email.body_text and spelled in " ".join(text.split())
