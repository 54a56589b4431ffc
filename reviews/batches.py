"""The director's batch print: one PDF of many issued letters, joined from their stored
PDFs in a worker, so a batch prints exactly the bytes each family received."""

import io
import uuid

from django.core.files.base import ContentFile
from django.utils import timezone

from permits.models import Letter

from .models import LetterBatch

PROGRESS_EVERY = 25


def batch_pdf(letters: list[Letter], *, on_progress=None) -> bytes:
    """One PDF of many issued letters, joined from their stored PDFs: nothing is laid
    out again."""
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


def build_batch(batch_id: int) -> LetterBatch:
    """Join the batch's letters, with progress on the row; a failure is recorded on it."""
    batch = LetterBatch.objects.get(pk=batch_id)
    if batch.status == LetterBatch.Status.DONE:
        return batch
    LetterBatch.objects.filter(pk=batch_id).update(status=LetterBatch.Status.RUNNING, done=0)
    try:
        letters = list(
            batch.letters.filter(rendered_at__isnull=False).order_by(
                "letter_date", "permit__student__legal_last_name", "pk"
            )
        )
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
