"""Decision letters: issued for an event, rendered once by WeasyPrint in a worker, kept
as issued (HTML, PDF bytes and their SHA-256).

Rendering never touches the network: the only resources a letter may load are the
portal's own static files and data: URIs (the district's logo is inlined).
"""

import base64
import hashlib
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from permits import clock
from permits.models import District, Letter, PermitEvent, unambiguous_code

from .context import event_context
from .models import LetterParagraph


def issue_letter(*, event: PermitEvent, kind: str) -> Letter:
    """The letter of an event, created once (a second call returns the same row)."""
    letter, _created = Letter.objects.get_or_create(
        event=event,
        defaults={
            "permit": event.permit,
            "kind": kind,
            "language": event.permit.family.preferred_language,
            "letter_date": clock.local_date(event.created_at),
            "verification_code": _new_code() if kind in Letter.VERIFIABLE else None,
        },
    )
    return letter


def _new_code() -> str:
    while True:
        # 10 characters: about 50 bits, and the page that checks them is rate-limited.
        code = unambiguous_code(10)
        if not Letter.objects.filter(verification_code=code).exists():
            return code


def letter_html(letter: Letter) -> str:
    permit = letter.permit
    district = District.current()
    with translation.override(letter.language):
        paragraph = LetterParagraph.objects.filter(kind=letter.kind).first()
        context = {
            **event_context(letter.event),
            "letter": letter,
            "logo": logo_data_uri(district),
            "family": permit.family,
            "guardians": list(permit.family.guardians.filter(is_active=True)),
            "school": permit.placed_school or permit.requested_school,
            "paragraph": paragraph.text if paragraph else "",
        }
        return render_to_string(f"letters/{letter.kind}.html", context)


def logo_data_uri(district: District) -> str:
    if not district.logo:
        return ""
    with district.logo.open("rb") as f:
        data = f.read()
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def render_letter(letter_id: int) -> Letter:
    """Render and store a letter once. A second call finds it rendered and changes
    nothing: the stored bytes are the letter as issued."""
    with transaction.atomic():
        letter = (
            Letter.objects.select_for_update(of=("self",))
            .select_related(
                "permit__student",
                "permit__family",
                "permit__school_year",
                "permit__placed_school",
                "permit__requested_school",
                "event",
            )
            .get(pk=letter_id)
        )
        if letter.is_rendered:
            return letter
        keep_as_issued(letter, letter_html(letter), folder=f"letters/{letter.permit_id}")
    return letter


def keep_as_issued(letter, html: str, *, folder: str) -> None:
    """Render a letter's HTML to PDF and keep both with the PDF's SHA-256, on any letter
    model with html, pdf, sha256 and rendered_at (a permit's, an enrollment offer's).
    The caller holds the letter's row lock."""
    # WeasyPrint is loaded only where letters are rendered (the worker that handles
    # events), never by web processes.
    from .pdf import html_to_pdf

    pdf = html_to_pdf(html)
    letter.html = html
    letter.sha256 = hashlib.sha256(pdf).hexdigest()
    letter.pdf.save(f"{folder}/{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
    letter.rendered_at = timezone.now()
    letter.save(update_fields=["html", "sha256", "pdf", "rendered_at"])
