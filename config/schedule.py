"""Every periodic job of the portal, declared in one place (read by Celery beat)."""

BEAT_SCHEDULE = {
    "resend-pending-emails": {
        "task": "notifications.tasks.sweep_outbox_task",
        "schedule": 120.0,
    },
}
