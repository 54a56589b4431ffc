import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import delivery
from .models import OutboxEmail

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id: int) -> str:
    """Deliver one outbox email; retried with exponential backoff on SMTP errors."""
    try:
        delivery.deliver(email_id)
    except OutboxEmail.DoesNotExist:
        return "missing"
    except delivery.AlreadySent:
        return "already sent"
    except Exception as exc:
        if self.request.retries >= MAX_ATTEMPTS:
            delivery.mark_failed(email_id)
            return "failed"
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 15, 3600)) from exc
    return "sent"


def hand_to_worker(task, row_id: int, what: str) -> bool:
    """Ask a worker to run `task(row_id)` for a row that is the promise (an email, an
    event). With the broker down this logs and returns False: the row stays pending
    and its sweeper hands it out later."""
    try:
        task.apply_async((row_id,), retry=False)
    except Exception as exc:  # kombu raises several unrelated types for "no broker"
        log.warning("%s %s left for the sweeper: broker unavailable (%s)", what, row_id, exc)
        return False
    return True


def dispatch(email_id: int) -> bool:
    """Ask a worker to deliver an email (see hand_to_worker)."""
    return hand_to_worker(deliver_email_task, email_id, "email")


@shared_task
def sweep_outbox_task() -> int:
    """Re-dispatch every email still pending after a few minutes. Safe to run anytime:
    delivery itself refuses to send a message twice."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    stale = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, queued_at__lt=cutoff)
    stale = stale.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)
    return sum(dispatch(email_id) for email_id in stale.iterator())
