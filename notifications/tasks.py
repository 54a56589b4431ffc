from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import emails
from .models import OutboxEmail

MAX_ATTEMPTS = 8


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def deliver_email_task(self, email_id: int) -> str:
    """Deliver one outbox email; retried with exponential backoff on SMTP errors."""
    try:
        emails.deliver(email_id)
    except OutboxEmail.DoesNotExist:
        return "missing"
    except emails.AlreadySent:
        return "already sent"
    except Exception as exc:
        if self.request.retries >= MAX_ATTEMPTS:
            emails.mark_failed(email_id)
            return "failed"
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 15, 3600)) from exc
    return "sent"


@shared_task
def sweep_outbox_task() -> int:
    """Re-dispatch every email still pending after a few minutes. Safe to run anytime:
    delivery itself refuses to send a message twice."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    stale = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, queued_at__lt=cutoff)
    stale = stale.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)
    count = 0
    for email_id in stale.iterator():
        if emails.dispatch(email_id):
            count += 1
    return count


@shared_task(bind=True, max_retries=5, acks_late=True)
def render_letter_task(self, letter_id: int) -> str:
    """Render a decision letter once (a second run finds it rendered)."""
    from .letters import render_letter

    try:
        render_letter(letter_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc
    return "rendered"


@shared_task(acks_late=True)
def build_letter_batch_task(batch_id: int) -> str:
    """Build a director's batch print in the background, with progress."""
    from .letters import build_batch

    build_batch(batch_id)
    return "done"
