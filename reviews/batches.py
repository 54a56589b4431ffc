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
from datetime import date
from pathlib import Path

from django.core.files import File
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits.models import Letter

from .models import LetterBatch

# A batch's letters in words, by the kind the director filtered on.
KIND_LETTERS = {
    Letter.Kind.ACCEPTANCE: gettext_lazy("Acceptance letters"),
    Letter.Kind.RELEASE: gettext_lazy("Release letters"),
    Letter.Kind.PLACEMENT: gettext_lazy("Intra-district placement letters"),
    Letter.Kind.DENIAL: gettext_lazy("Denial letters"),
    Letter.Kind.FINAL_DENIAL: gettext_lazy("Final denial letters after the internal appeal"),
    Letter.Kind.REVOCATION: gettext_lazy("Revocation letters"),
    Letter.Kind.ABANDONMENT: gettext_lazy("Abandonment letters"),
    Letter.Kind.INFORMATION_REQUEST: gettext_lazy("Information request letters"),
}
PROGRESS_EVERY = 25
# Letters joined into one intermediate file; qpdf keeps each source open until it saves.
CHUNK = 100


def describe(description: str) -> str:
    """A batch's description in words, in the active language: its filters are stored
    as the letter list's parameters ("day=2026-11-30, kind=denial", or "all letters"),
    shown as "Denial letters of November 30, 2026". Any other description (a batch
    started elsewhere) is shown as it was written."""
    if description == "all letters":
        return _("All letters")
    filters = dict(part.partition("=")[::2] for part in description.split(", "))
    if not filters.keys() <= {"day", "kind", "school_year"} or not all(filters.values()):
        return description
    kind, day, year = filters.get("kind"), filters.get("day"), filters.get("school_year")
    if kind and kind not in KIND_LETTERS:
        return description
    try:
        day = date.fromisoformat(day) if day else None
    except ValueError:
        return description
    words = str(KIND_LETTERS[kind]) if kind else _("Letters")
    if day:
        words = _("%(letters)s of %(day)s") % {"letters": words, "day": date_format(day)}
    if year:
        words = _("%(letters)s, school year %(year)s") % {"letters": words, "year": year}
    return words


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
