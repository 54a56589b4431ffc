"""Every periodic job of the portal, declared in one place (read by Celery beat).

Exactly one beat process may run per deployment (see docker-compose.yml); the jobs are
safe to run twice anyway.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "resend-pending-emails": {
        "task": "outbox.tasks.sweep_outbox_task",
        "schedule": 120.0,
    },
    "handle-pending-events": {
        "task": "notifications.tasks.sweep_events_task",
        "schedule": 120.0,
    },
    "handle-pending-enrollment-events": {
        "task": "enrollment.tasks.sweep_enrollment_events_task",
        "schedule": 120.0,
    },
    # Open enrollment: offers not answered by their date are declined and offered on.
    "expire-enrollment-offers": {
        "task": "enrollment.tasks.expire_offers_task",
        "schedule": crontab(hour=6, minute=5),
    },
    "daily-deadline-check": {
        "task": "reviews.tasks.daily_deadline_check_task",
        # Early morning in the district's time zone (CELERY_TIMEZONE), before staff start.
        "schedule": crontab(hour=6, minute=0),
    },
}
