from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from outbox.tasks import hand_to_worker
from permits import clock

from .models import EnrollmentEvent
from .notices import handle_event
from .services import expire_offers
from .signals import event_recorded


@shared_task(bind=True, max_retries=5, acks_late=True)
def handle_enrollment_event_task(self, event_id: int) -> int:
    """Do what an enrollment event causes (enrollment.notices); safe to run twice."""
    try:
        return handle_event(event_id)
    except EnrollmentEvent.DoesNotExist:
        return 0
    except Exception as exc:
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


def dispatch_event(event_id: int) -> bool:
    """Ask a worker to handle an event; with the broker down it waits for the sweeper."""
    return hand_to_worker(handle_enrollment_event_task, event_id, "enrollment event")


@receiver(event_recorded, dispatch_uid="enrollment.handle_after_commit")
def _handle_after_commit(sender, event: EnrollmentEvent, **kwargs) -> None:
    transaction.on_commit(lambda: dispatch_event(event.pk))


@shared_task
def sweep_enrollment_events_task() -> int:
    """Hand out again every event still not handled after a few minutes (its message
    was lost). Handling an event twice does nothing the second time."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    pending = EnrollmentEvent.objects.filter(notified_at__isnull=True, created_at__lt=cutoff)
    return sum(dispatch_event(pk) for pk in pending.values_list("pk", flat=True).iterator())


@shared_task
def expire_offers_task() -> int:
    """The daily check: offers not answered by their date are declined and offered on."""
    return expire_offers(today=clock.today())
