from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from outbox.tasks import hand_to_worker
from permits.models import PermitEvent
from permits.signals import event_recorded

from .events import effect_of, handle_event


@shared_task(bind=True, max_retries=5, acks_late=True)
def handle_event_task(self, event_id: int) -> int:
    """Do what a permit event causes (notifications.events); safe to run twice."""
    try:
        return handle_event(event_id)
    except PermitEvent.DoesNotExist:
        return 0
    except Exception as exc:
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


def dispatch_event(event_id: int) -> bool:
    """Ask a worker to handle an event; with the broker down it waits for the sweeper."""
    return hand_to_worker(handle_event_task, event_id, "event")


@receiver(event_recorded, dispatch_uid="notifications.handle_after_commit")
def _handle_after_commit(sender, event: PermitEvent, **kwargs) -> None:
    # Events that cause nothing need no worker: the sweeper marks them done in bulk.
    if effect_of(event) is not None:
        transaction.on_commit(lambda: dispatch_event(event.pk))


@shared_task
def sweep_events_task() -> int:
    """Hand out again every event still not handled after a few minutes (its message
    was lost: broker down, worker killed) and mark the ones that cause nothing done.
    Safe to run anytime: handling an event twice does nothing the second time."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    pending = PermitEvent.objects.filter(notified_at__isnull=True, created_at__lt=cutoff)
    idle, dispatched = [], 0
    for event in pending.only("pk", "kind", "new_status").iterator():
        if effect_of(event) is None:
            idle.append(event.pk)
        elif dispatch_event(event.pk):
            dispatched += 1
    PermitEvent.objects.filter(pk__in=idle).update(notified_at=timezone.now())
    return dispatched
