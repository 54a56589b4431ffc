"""Nothing lost, nothing twice: real Redis stopped and started, a real worker killed."""

import time

import pytest
from django.urls import reverse

from notifications.tasks import sweep_events_task
from outbox.models import OutboxEmail
from outbox.tasks import sweep_outbox_task
from permits.models import Document, Letter, PermitEvent

from ..conftest import login
from ..factories import GuardianFactory
from ..live import RedisServer, Worker, point_celery_at


@pytest.fixture
def private_redis(tmp_path, settings):
    """The portal's broker is a redis-server of this test's own."""
    redis = RedisServer(tmp_path).start()
    original = settings.REDIS_URL
    settings.CELERY_BROKER_URL = settings.REDIS_URL = redis.url
    point_celery_at(redis.url)
    yield redis
    redis.stop()
    point_celery_at(original)


def wait_until_sent(count, timeout=30):
    deadline = time.monotonic() + timeout
    while OutboxEmail.objects.filter(status="sent").count() < count:
        assert time.monotonic() < deadline, list(OutboxEmail.objects.values_list("template", "status", "last_error"))
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_parents_and_staff_go_on_and_every_email_arrives_once_after(
    draft_in, alice, diana, private_redis, smtp_sink, settings, school_b, school_year
):
    from permits.models import SeatAllocation

    SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)
    worker = Worker(email_url=smtp_sink.url, redis_url=private_redis.url).start()
    try:
        private_redis.stop()
        started = time.monotonic()
        response = login(alice).post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
        assert response.status_code == 302
        Document.objects.filter(permit=draft_in).update(review="verified")
        response = login(diana).post(
            reverse("staff_approve", args=[draft_in.pk]), {"approve-school": "", "approve-note": ""}
        )
        assert response.status_code == 302
        assert time.monotonic() - started < 15, "requests must not hang on a dead broker"
        draft_in.refresh_from_db()
        assert draft_in.status == "approved"
        # The decisions stand; what they owe (the receipt, the letter and its email)
        # waits in their events.
        owed = PermitEvent.objects.filter(permit=draft_in, kind="status", notified_at__isnull=True)
        assert sorted(owed.values_list("new_status", flat=True)) == ["approved", "submitted"]
        assert not OutboxEmail.objects.exists()

        private_redis.start()
        worker.wait_for_log("Connected to redis", occurrences=2)
        settings.OUTBOX_RESEND_AFTER_SECONDS = 0
        assert sweep_events_task() == 2
        messages = smtp_sink.wait_for(2, timeout=60)
        wait_until_sent(2)
        # Another sweep of both and a pause: nothing is sent or issued a second time.
        assert sweep_events_task() == 0 and sweep_outbox_task() == 0
        time.sleep(1)
        assert len(smtp_sink.messages) == 2
        assert sorted(m["To"] for m in messages) == [alice.email, alice.email]
        assert len({m["Message-ID"] for m in smtp_sink.messages}) == 2
        assert Letter.objects.filter(permit=draft_in).count() == 1
        # The approval carries its letter, rendered by the worker before the email.
        with_pdf = [m for m in messages if any(p.get_content_type() == "application/pdf" for p in m.walk())]
        assert len(with_pdf) == 1
    finally:
        worker.stop()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_delivering_loses_nothing_and_sends_nothing_twice(draft_in, alice, smtp_sink, settings):
    GuardianFactory(family=alice.family, email="second@example.com")
    GuardianFactory(family=alice.family, email="third@example.com")
    smtp_sink.stall_first_recipient()
    worker = Worker(email_url=smtp_sink.url).start()
    try:
        login(alice).post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
        assert smtp_sink.stalled.wait(30), "the worker never started delivering"
        worker.kill()  # mid-conversation with the SMTP server, row lock held
        smtp_sink.release()
        assert OutboxEmail.objects.filter(status="sent").count() < 3

        worker = Worker(email_url=smtp_sink.url).start()
        settings.OUTBOX_RESEND_AFTER_SECONDS = 0
        sweep_outbox_task()
        smtp_sink.wait_for(3)
        wait_until_sent(3)
        sweep_outbox_task()
        time.sleep(1)
        recipients = sorted(m["To"] for m in smtp_sink.messages)
        assert recipients == sorted(["alice@example.com", "second@example.com", "third@example.com"])
    finally:
        worker.stop()
