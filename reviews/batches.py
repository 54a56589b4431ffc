"""The director's batch print: one PDF of many issued letters, joined from their stored
PDFs in a worker, so a batch prints the pages each family received and nothing is laid
out again.

The join streams: each stored letter is copied to a temporary folder and joined from
there by qpdf (pikepdf), a chunk of letters at a time, so neither the letters nor the
result are held in Python's memory and no more than a chunk's files are open at once.
"""

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from django.core.files import File
from django.utils import timezone

from permits.models import Letter

from .models import LetterBatch

PROGRESS_EVERY = 25
# Letters joined into one intermediate file; qpdf keeps each source open until it saves.
CHUNK = 100


def _join(sources: Iterable[Path], destination: Path) -> None:
    import pikepdf

    opened = []
    try:
        with pikepdf.new() as joined:
            for path in sources:
                source = pikepdf.open(path)
                opened.append(source)
                joined.pages.extend(source.pages)
            joined.save(destination)
    finally:
        for source in opened:
            source.close()


def write_batch(
    letters: list[Letter],
    destination: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> None:
    """Join the stored PDFs of `letters`, in order, into one file at `destination`."""
    with tempfile.TemporaryDirectory(prefix="letter-batch-") as folder:
        folder = Path(folder)
        chunks = []
        for start in range(0, len(letters), chunk):
            paths = []
            for done, letter in enumerate(letters[start : start + chunk], start=start + 1):
                path = folder / f"letter-{done}.pdf"
                with letter.pdf.open("rb") as stored, open(path, "wb") as copy:
                    shutil.copyfileobj(stored, copy)
                paths.append(path)
                if on_progress and (done % PROGRESS_EVERY == 0 or done == len(letters)):
                    on_progress(done)
            part = folder / f"part-{len(chunks)}.pdf"
            _join(paths, part)
            for path in paths:
                path.unlink()
            chunks.append(part)
        if len(chunks) == 1:
            shutil.move(chunks[0], destination)
        else:
            _join(chunks, destination)


def build_batch(batch_id: int) -> LetterBatch:
    """Join the batch's letters, with progress on the row; a failure is recorded on it."""
    batch = LetterBatch.objects.get(pk=batch_id)
    if batch.status == LetterBatch.Status.DONE:
        return batch
    LetterBatch.objects.filter(pk=batch_id).update(status=LetterBatch.Status.RUNNING, done=0)
    letters = list(
        batch.letters.filter(rendered_at__isnull=False).order_by(
            "letter_date", "permit__student__legal_last_name", "pk"
        )
    )
    with tempfile.TemporaryDirectory(prefix="letter-batch-out-") as folder:
        result = Path(folder) / "batch.pdf"
        try:
            write_batch(letters, result, on_progress=lambda n: LetterBatch.objects.filter(pk=batch_id).update(done=n))
        except Exception as exc:
            LetterBatch.objects.filter(pk=batch_id).update(
                status=LetterBatch.Status.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                finished_at=timezone.now(),
            )
            raise
        batch.refresh_from_db()
        with open(result, "rb") as f:
            batch.pdf.save(f"batches/{uuid.uuid4().hex}.pdf", File(f), save=False)
    batch.status, batch.done, batch.finished_at = LetterBatch.Status.DONE, batch.total, timezone.now()
    batch.save(update_fields=["pdf", "status", "done", "finished_at"])
    return batch
