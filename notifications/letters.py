"""Decision letters: issued with the decision, rendered once by WeasyPrint in a worker,
kept as issued (HTML, PDF bytes and their SHA-256), printed singly or in batches.

Rendering never touches the network: the only resources a letter may load are the
portal's own static files and data: URIs (the district's logo is inlined).
"""

import base64
import hashlib
import io
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from permits import clock
from permits.models import District, Permit, PermitEvent, PermitKind, unambiguous_code

from .models import Letter, LetterBatch, LetterParagraph


def kind_for(permit: Permit, new_status: str) -> str | None:
    """Which letter a status change issues, if any."""
    S = Permit.Status
    if new_status == S.APPROVED:
        return {
            PermitKind.INTER_IN: Letter.Kind.ACCEPTANCE,
            PermitKind.INTER_OUT: Letter.Kind.RELEASE,
            PermitKind.INTRA: Letter.Kind.PLACEMENT,
        }[permit.kind]
    return {
        S.DENIED: Letter.Kind.DENIAL,
        S.REVOKED: Letter.Kind.REVOCATION,
        S.ABANDONED: Letter.Kind.ABANDONMENT,
        S.INFO_REQUESTED: Letter.Kind.INFORMATION_REQUEST,
    }.get(new_status)


def issue_letter(*, event: PermitEvent) -> Letter | None:
    """Create the letter of a decision event inside the decision's transaction; a
    worker renders it once the transaction commits."""
    permit = event.permit
    kind = kind_for(permit, event.new_status)
    if kind is None:
        return None
    district = District.get()
    letter = Letter.objects.create(
        permit=permit,
        event=event,
        kind=kind,
        language=permit.family.preferred_language,
        letter_date=clock.local_date(event.created_at, district.time_zone),
        verification_code=_new_code() if kind in Letter.VERIFIABLE else None,
    )
    transaction.on_commit(lambda: _dispatch_render(letter.pk))
    return letter


def _new_code() -> str:
    while True:
        # 10 characters: about 50 bits, and the page that checks them is rate-limited.
        code = unambiguous_code(10)
        if not Letter.objects.filter(verification_code=code).exists():
            return code


def _dispatch_render(letter_id: int) -> None:
    from .tasks import render_letter_task

    try:
        render_letter_task.apply_async((letter_id,), retry=False)
    except Exception:  # broker down: the letter is rendered when its email is delivered
        pass


# --- Rendering ------------------------------------------------------------------


def letter_html(letter: Letter) -> str:
    permit = letter.permit
    district = District.get()
    with translation.override(letter.language):
        context = {
            "letter": letter,
            "permit": permit,
            "district": district,
            "logo": _logo_data_uri(district),
            "family": permit.family,
            "guardians": list(permit.family.guardians.filter(is_active=True)),
            "school": permit.placed_school or permit.requested_school,
            "paragraph": _paragraph(letter),
            "county_appeal_deadline": clock.county_appeal_deadline(letter.letter_date),
            "internal_appeal_deadline": letter.letter_date + timedelta(days=district.internal_appeal_days),
            "information_request": permit.information_requests.filter(created_at__lte=letter.event.created_at).first(),
            "site_url": settings.SITE_URL,
        }
        return render_to_string(f"letters/{letter.kind}.html", context)


def _paragraph(letter: Letter) -> str:
    row = LetterParagraph.objects.filter(kind=letter.kind).first()
    if row is None:
        return ""
    return (row.text_es or row.text_en) if letter.language == "es" else row.text_en


def _logo_data_uri(district: District) -> str:
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
        from .pdf import html_to_pdf

        html = letter_html(letter)
        pdf = html_to_pdf(html)
        letter.html = html
        letter.sha256 = hashlib.sha256(pdf).hexdigest()
        letter.pdf.save(f"letters/{letter.permit_id}/{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
        letter.rendered_at = timezone.now()
        letter.save(update_fields=["html", "sha256", "pdf", "rendered_at"])
    return letter


def letter_bytes(letter: Letter) -> bytes:
    with letter.pdf.open("rb") as f:
        return f.read()


# --- Batches --------------------------------------------------------------------

PROGRESS_EVERY = 25


def batch_pdf(letters: list[Letter], *, on_progress=None) -> bytes:
    """One PDF of many issued letters, joined from their stored PDFs: a batch prints
    exactly the bytes each family received, and nothing is laid out again."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for done, letter in enumerate(letters, start=1):
        with letter.pdf.open("rb") as f:
            writer.append(io.BytesIO(f.read()))
        if on_progress and (done % PROGRESS_EVERY == 0 or done == len(letters)):
            on_progress(done)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def start_batch(*, letters: list[Letter], by, description: str) -> LetterBatch:
    """Queue a batch print of the given letters; a worker builds it."""
    from .tasks import build_letter_batch_task

    batch = LetterBatch.objects.create(requested_by=by, description=description[:300], total=len(letters))
    batch.letters.set(letters)
    transaction.on_commit(lambda: build_letter_batch_task.delay(batch.pk))
    return batch


def build_batch(batch_id: int) -> LetterBatch:
    batch = LetterBatch.objects.get(pk=batch_id)
    if batch.status == LetterBatch.Status.DONE:
        return batch
    LetterBatch.objects.filter(pk=batch_id).update(status=LetterBatch.Status.RUNNING, done=0)
    try:
        letters = [
            letter if letter.is_rendered else render_letter(letter.pk)
            for letter in batch.letters.order_by("letter_date", "permit__student__legal_last_name", "pk")
        ]
        pdf = batch_pdf(letters, on_progress=lambda n: LetterBatch.objects.filter(pk=batch_id).update(done=n))
    except Exception as exc:
        LetterBatch.objects.filter(pk=batch_id).update(
            status=LetterBatch.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    batch.refresh_from_db()
    batch.pdf.save(f"batches/{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
    batch.status, batch.done, batch.finished_at = LetterBatch.Status.DONE, batch.total, timezone.now()
    batch.save(update_fields=["pdf", "status", "done", "finished_at"])
    return batch
