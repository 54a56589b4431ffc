"""Delivering one outbox email, at most once."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .models import OutboxEmail


class AlreadySent(Exception):
    pass


def deliver(email_id: int) -> OutboxEmail:
    """Send one outbox email through Django's email backend, at most once.

    The row stays locked while the SMTP conversation runs, so two workers handed the
    same id (a redelivery, a sweeper run) cannot both send it: the second waits, then
    sees `sent` and raises AlreadySent. A backend error is recorded on the row and
    then raised, so that the task can retry.
    """
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update().get(pk=email_id)
        if email.status == OutboxEmail.Status.SENT:
            raise AlreadySent(email_id)
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        try:
            _message(email).send()
        except Exception as exc:
            failure = exc
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        else:
            failure = None
            email.status = OutboxEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(update_fields=["attempts", "last_attempt_at", "status", "sent_at", "last_error"])
    if failure is not None:
        raise failure
    return email


def _message(email: OutboxEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        # A stable Message-ID lets a receiving system recognise a resend.
        headers={"Message-ID": f"<outbox-{email.pk}@permit-portal>"},
    )
    message.attach_alternative(email.body_html, "text/html")
    if email.attachment:
        # The file was stored before the email was queued: delivery only reads bytes.
        with email.attachment.open("rb") as f:
            message.attach(email.attachment_name or "attachment.pdf", f.read(), "application/pdf")
    return message


def mark_failed(email_id: int) -> None:
    OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).update(status=OutboxEmail.Status.FAILED)
