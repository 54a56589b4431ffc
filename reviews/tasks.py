from datetime import date

from celery import shared_task

from .batches import build_batch
from .deadlines import run_daily_checks


@shared_task
def daily_deadline_check_task(today: str | None = None) -> dict:
    """The daily deadline check; `today` (ISO date) only for catching up by hand."""
    summary = run_daily_checks(today=date.fromisoformat(today) if today else None)
    return {
        "days": len(summary.days),
        "reminders": summary.reminders,
        "overdue": summary.overdue,
        "abandoned": summary.abandoned,
        "emails": summary.emails,
    }


@shared_task(acks_late=True)
def build_letter_batch_task(batch_id: int) -> str:
    """Build a director's batch print in the background, with progress."""
    build_batch(batch_id)
    return "done"
