"""Writing emails into the outbox, and delivering them.

Every email is rendered when it is queued, in the recipient's language, from the
template triplet `templates/emails/<name>-subject.txt`, `-body.txt` and `-body.html`.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .letters import letter_bytes, render_letter
from .models import OutboxEmail

log = logging.getLogger(__name__)


def render(template: str, context: dict, language: str) -> tuple[str, str, str]:
    from permits.models import District

    with translation.override(language):
        ctx = {
            "site_url": settings.SITE_URL,
            "language": language,
            "district": District.objects.filter(pk=1).first(),
            **context,
        }
        subject = render_to_string(f"emails/{template}-subject.txt", ctx)
        text = render_to_string(f"emails/{template}-body.txt", ctx)
        html = render_to_string(f"emails/{template}-body.html", ctx)
    return " ".join(subject.split()), text.strip() + "\n", html


def queue_email(
    *,
    key: str,
    to: str,
    template: str,
    context: dict,
    language: str,
    permit=None,
    event=None,
    letter=None,
) -> OutboxEmail | None:
    """Write one email into the outbox in the caller's transaction and hand it to a
    worker once that transaction commits. Returns None when the same key was queued
    before (the email is already owed, so it is not owed twice)."""
    if OutboxEmail.objects.filter(key=key[:200]).exists():
        return None  # looked up first only to skip rendering; the unique key decides
    subject, text, html = render(template, context, language)
    try:
        with transaction.atomic():
            email = OutboxEmail.objects.create(
                key=key[:200],
                to=to,
                template=template,
                language=language,
                subject=subject,
                body_text=text,
                body_html=html,
                permit=permit,
                event=event,
                letter=letter,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: dispatch(email.pk))
    return email


def dispatch(email_id: int) -> bool:
    """Ask a worker to deliver an email. With the broker down this logs and returns
    False: the row stays pending and the sweeper sends it later."""
    from .tasks import deliver_email_task

    try:
        deliver_email_task.apply_async((email_id,), retry=False)
    except Exception as exc:  # kombu raises several unrelated types for "no broker"
        log.warning("email %s left for the sweeper: broker unavailable (%s)", email_id, exc)
        return False
    return True


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
    if email.letter_id:
        # Normally rendered already by its own task; if not (broker down at decision
        # time), it is rendered here, once, before the email that carries it.
        letter = render_letter(email.letter_id)
        message.attach(letter.filename, letter_bytes(letter), "application/pdf")
    return message


def mark_failed(email_id: int) -> None:
    OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).update(status=OutboxEmail.Status.FAILED)
