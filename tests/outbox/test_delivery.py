import time

import pytest
from django.test import Client
from django.urls import reverse

from outbox import delivery
from outbox.models import OutboxEmail
from outbox.tasks import sweep_outbox_task

from ..conftest import login


def test_a_real_worker_delivers_the_receipt_after_submission(draft_in, alice, celery_worker_process, smtp_sink):
    response = login(alice).post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    assert response.status_code == 302
    [message] = smtp_sink.wait_for(1)
    assert message["To"] == alice.email
    assert draft_in.reference in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert draft_in.student.full_name in text and draft_in.student.full_name in html
    email = OutboxEmail.objects.get(template="permit_received")
    # The worker marks the row sent after the SMTP server accepted the message.
    for _ in range(50):
        email.refresh_from_db()
        if email.status == OutboxEmail.Status.SENT:
            break
        time.sleep(0.1)
    assert email.status == OutboxEmail.Status.SENT and email.attempts == 1


def test_with_the_broker_down_the_submission_succeeds_and_the_email_waits(
    draft_in, alice, settings, transactional_db, caplog, handle_events
):
    from ..live import free_port, point_celery_at

    point_celery_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        response = login(alice).post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    finally:
        point_celery_at(settings.REDIS_URL)
    assert response.status_code == 302
    draft_in.refresh_from_db()
    assert draft_in.status == "submitted"
    # The event that owes the receipt waits for the sweeper; no email is lost.
    event = draft_in.events.get(new_status="submitted")
    assert event.notified_at is None
    assert f"event {event.pk} left for the sweeper: broker unavailable" in caplog.text
    point_celery_at(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert handle_events() == 1  # what the swept event's worker does
    finally:
        point_celery_at(settings.REDIS_URL)
    email = OutboxEmail.objects.get(template="permit_received")
    assert email.status == OutboxEmail.Status.PENDING and email.attempts == 0
    assert f"email {email.pk} left for the sweeper: broker unavailable" in caplog.text


def test_delivery_sends_once_and_records_it(draft_in, alice, smtp_sink, settings, db, handle_events):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    from permits import services

    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    email = OutboxEmail.objects.get()
    delivery.deliver(email.pk)
    with pytest.raises(delivery.AlreadySent):
        delivery.deliver(email.pk)
    assert len(smtp_sink.wait_for(1)) == 1
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT and email.sent_at and email.attempts == 1


def test_a_failed_delivery_is_recorded_and_stays_pending(draft_in, alice, settings, db, handle_events):
    from tests.live import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    from permits import services

    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    email = OutboxEmail.objects.get()
    with pytest.raises(ConnectionRefusedError):
        delivery.deliver(email.pk)
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.PENDING
    assert email.attempts == 1 and "ConnectionRefusedError" in email.last_error


def test_the_sweeper_redispatches_only_stale_pending_emails(draft_in, alice, db, handle_events):
    from datetime import timedelta

    from django.utils import timezone

    from permits import services

    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    assert sweep_outbox_task() == 0  # just queued: its own task message is on the way
    OutboxEmail.objects.update(queued_at=timezone.now() - timedelta(minutes=10))
    assert sweep_outbox_task() == 1
    OutboxEmail.objects.update(status=OutboxEmail.Status.SENT)
    assert sweep_outbox_task() == 0


def test_an_anonymous_client_cannot_see_the_outbox(district):
    assert Client().get("/admin/outbox/outboxemail/").status_code == 302
