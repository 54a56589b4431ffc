"""The staff desk's own writes: assignment, document review, notes, site reviews and
bulk approval. None changes a permit's status by itself: status changes are
`permits.services`, called here with the row lock it provides."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from applicants.models import User
from permits import selectors
from permits.models import Document, Letter, Permit, PermitEvent, PermitKind
from permits.services import PermitError, approve_permit, lock_permit, record_event, require_open

from .models import InternalNote, LetterBatch, Role, SiteReview, StaffRole
from .tasks import build_letter_batch_task


@transaction.atomic
def assign_permit(*, permit_id: int, to: User, by: User) -> Permit:
    """Give an open packet to an active technician. Raises PermitError otherwise."""
    if not StaffRole.objects.filter(user=to, role=Role.TECHNICIAN, user__is_active=True).exists():
        raise PermitError(_("Packets can only be assigned to an active technician."))
    permit = lock_permit(permit_id)
    require_open(permit)
    permit.assigned_to = to
    permit.save(update_fields=["assigned_to", "updated_at"])
    record_event(permit, PermitEvent.Kind.ASSIGNED, by=by, note=str(to))
    return permit


@transaction.atomic
def review_document(*, document_id: int, by: User, verified: bool, reason: str = "") -> Document:
    """Mark a document verified, or rejected with a reason the family will read."""
    document = Document.objects.select_related("document_type").get(pk=document_id)
    permit = lock_permit(document.permit_id)
    require_open(permit)
    if not verified and not reason.strip():
        raise PermitError(_("Say why the document is rejected: the family reads the reason."))
    document.review = Document.Review.VERIFIED if verified else Document.Review.REJECTED
    document.rejection_reason = "" if verified else reason.strip()
    document.save(update_fields=["review", "rejection_reason"])
    release = selectors.release_rule(permit) if permit.kind == PermitKind.INTER_IN else None
    if not verified and release and release.document_type_id == document.document_type_id:
        # A rejected release is no release: the request waits for one again, and the
        # family's packet page offers the upload again (permits.services.receive_release).
        permit.release_pending = True
        permit.save(update_fields=["release_pending", "updated_at"])
    kind = PermitEvent.Kind.DOCUMENT_VERIFIED if verified else PermitEvent.Kind.DOCUMENT_REJECTED
    record_event(
        permit, kind, by=by, note=f"{document.document_type.name_en}: {document.original_name} {reason}".strip()
    )
    return document


@transaction.atomic
def add_note(*, permit_id: int, by: User, text: str) -> InternalNote:
    permit = lock_permit(permit_id)
    return InternalNote.objects.create(permit=permit, author=by, text=text.strip())


@transaction.atomic
def record_site_review(*, permit_id: int, by: User, recommend_revocation: bool, reason: str = "") -> SiteReview:
    """A school's periodic review of an active permit: it continues, or the site
    recommends revocation (the director decides). Raises PermitError otherwise."""
    permit = lock_permit(permit_id)
    if permit.status != Permit.Status.APPROVED:
        raise PermitError(_("Only active permits are reviewed."))
    if recommend_revocation and not reason.strip():
        raise PermitError(_("Say why you recommend revocation."))
    outcome = SiteReview.Outcome.RECOMMEND_REVOCATION if recommend_revocation else SiteReview.Outcome.CONTINUE
    review = SiteReview.objects.create(permit=permit, reviewed_by=by, outcome=outcome, reason=reason.strip())
    kind = PermitEvent.Kind.REVOCATION_RECOMMENDED if recommend_revocation else PermitEvent.Kind.SITE_REVIEWED
    record_event(permit, kind, by=by, note=reason.strip())
    return review


@dataclass
class BulkResult:
    approved: list[Permit]
    refused: list[tuple[Permit, str]]


def bulk_approve(*, permit_ids: list[int], by: User) -> BulkResult:
    """Approve each packet on its own (own transaction, own checks, own audit row)."""
    result = BulkResult([], [])
    for permit in Permit.objects.filter(pk__in=permit_ids).order_by("due_date", "pk"):
        try:
            result.approved.append(approve_permit(permit_id=permit.pk, by=by))
        except PermitError as error:
            result.refused.append((permit, str(error)))
    return result


def start_batch(*, letters: list[Letter], by: User, description: str) -> LetterBatch:
    """Queue a batch print of the given (rendered) letters; a worker builds it."""
    batch = LetterBatch.objects.create(requested_by=by, description=description[:300], total=len(letters))
    batch.letters.set(letters)
    transaction.on_commit(lambda: build_letter_batch_task.delay(batch.pk))
    return batch
