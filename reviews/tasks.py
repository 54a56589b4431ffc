from datetime import date

from celery import shared_task

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
