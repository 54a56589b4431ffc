"""Writing emails into the outbox.

Every email is rendered when it is queued, in the recipient's language, from the
template triplet `templates/emails/<name>-subject.txt`, `-body.txt` and `-body.html`.
The caller supplies everything the templates read; the outbox adds only the site URL.
"""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import translation

from .models import OutboxEmail
from .tasks import dispatch


def render(template: str, context: dict, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL, "language": language, **context}
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
    about: models.Model | None = None,
    attachment: str = "",
    attachment_name: str = "",
) -> OutboxEmail | None:
    """Write one email into the outbox in the caller's transaction and hand it to a
    worker once that transaction commits. `attachment` is the storage key of a file
    already stored (a rendered letter). Returns None when the same key was queued
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
                about=about,
                attachment=attachment,
                attachment_name=attachment_name,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: dispatch(email.pk))
    return email
