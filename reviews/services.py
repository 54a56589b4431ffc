"""Staff decisions on permit packets. Each is one transaction that locks the packet,
checks the transition, writes the audit event and queues the family's email."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from applicants.models import User
from notifications.services import notify_family
from permits import clock
from permits.models import (
    District,
    Document,
    DocumentType,
    Permit,
    PermitEvent,
    PermitKind,
    School,
    SeatAllocation,
)
from permits.services import PermitError, TransitionNotAllowed, _lock, change_status, store_document

from .models import Appeal, InformationRequest, InternalNote, Role, SiteReview, StaffRole


class NoSeatLeft(PermitError):
    pass


def _today() -> date:
    return clock.local_date(timezone.now(), District.get().time_zone)


def _event(permit: Permit, kind: str, by: User | None, note: str = "") -> PermitEvent:
    return PermitEvent.objects.create(permit=permit, kind=kind, actor=by, note=note)


def _require_open(permit: Permit) -> None:
    if permit.status not in Permit.OPEN_STATUSES:
        raise PermitError(
            _("This request is %(status)s; it is no longer open.") % {"status": permit.get_status_display()}
        )


@transaction.atomic
def claim_permit(*, permit_id: int, by: User) -> Permit:
    """Take a packet: it is assigned to `by`, and a submitted packet goes under review."""
    permit = _lock(permit_id)
    _require_open(permit)
    permit.assigned_to = by
    permit.save(update_fields=["assigned_to", "updated_at"])
    _event(permit, PermitEvent.Kind.ASSIGNED, by, note=str(by))
    if permit.status == Permit.Status.SUBMITTED:
        change_status(permit, Permit.Status.UNDER_REVIEW, by=by)
    return permit


@transaction.atomic
def assign_permit(*, permit_id: int, to: User, by: User) -> Permit:
    if not StaffRole.objects.filter(user=to, role=Role.TECHNICIAN, user__is_active=True).exists():
        raise PermitError(_("Packets can only be assigned to an active technician."))
    permit = _lock(permit_id)
    _require_open(permit)
    permit.assigned_to = to
    permit.save(update_fields=["assigned_to", "updated_at"])
    _event(permit, PermitEvent.Kind.ASSIGNED, by, note=str(to))
    return permit


@transaction.atomic
def review_document(*, document_id: int, by: User, verified: bool, reason: str = "") -> Document:
    """Mark a document verified, or rejected with a reason the family will read."""
    document = Document.objects.select_related("document_type").get(pk=document_id)
    permit = _lock(document.permit_id)
    _require_open(permit)
    if not verified and not reason.strip():
        raise PermitError(_("Say why the document is rejected: the family reads the reason."))
    document.review = Document.Review.VERIFIED if verified else Document.Review.REJECTED
    document.rejection_reason = "" if verified else reason.strip()
    document.save(update_fields=["review", "rejection_reason"])
    kind = PermitEvent.Kind.DOCUMENT_VERIFIED if verified else PermitEvent.Kind.DOCUMENT_REJECTED
    _event(permit, kind, by, note=f"{document.document_type.name_en}: {document.original_name} {reason}".strip())
    return document


@transaction.atomic
def add_note(*, permit_id: int, by: User, text: str) -> InternalNote:
    permit = _lock(permit_id)
    return InternalNote.objects.create(permit=permit, author=by, text=text.strip())


@transaction.atomic
def request_information(
    *, permit_id: int, by: User, message: str, document_types: list[DocumentType], due_date: date | None = None
) -> InformationRequest:
    """Ask the family for missing or rejected documents by a dated deadline
    (10 days by default); the packet waits in `info_requested`."""
    permit = _lock(permit_id)
    district = District.get()
    due_date = due_date or _today() + timedelta(days=district.info_response_days)
    if due_date <= _today():
        raise PermitError(_("The answer deadline must be after today."))
    request = InformationRequest.objects.create(
        permit=permit, requested_by=by, message=message.strip(), due_date=due_date
    )
    request.document_types.set(document_types)
    permit.info_due_date = due_date
    permit.save(update_fields=["info_due_date"])
    event = change_status(permit, Permit.Status.INFO_REQUESTED, by=by, note=message.strip())
    notify_family(event=event, template="permit_info_requested", context={"request": request})
    return request


@transaction.atomic
def answer_information_request(*, permit_id: int, by: User, answer: str = "") -> Permit:
    """The family is done answering: the packet goes back under review. The legal
    clock keeps running from the first receipt (DOMAIN §4)."""
    permit = _lock(permit_id)
    request = permit.information_requests.filter(answered_at__isnull=True).first()
    missing = [
        t
        for t in (request.document_types.all() if request else [])
        if not permit.documents.filter(document_type=t, uploaded_at__gt=request.created_at).exists()
    ]
    if missing:
        raise PermitError(_("Please upload first: %(documents)s.") % {"documents": ", ".join(t.name for t in missing)})
    if request:
        request.answer, request.answered_at = answer.strip(), timezone.now()
        request.save(update_fields=["answer", "answered_at"])
    permit.info_due_date = None
    permit.save(update_fields=["info_due_date"])
    _event(permit, PermitEvent.Kind.INFO_ANSWERED, by, note=answer.strip())
    change_status(permit, Permit.Status.UNDER_REVIEW, by=by)
    return permit


def approval_blockers(permit: Permit) -> list[str]:
    """Why a packet cannot be approved yet; empty when it can."""
    from permits.selectors import checklist

    blockers = []
    for item in checklist(permit):
        if not any(d.review == Document.Review.VERIFIED for d in item.documents):
            blockers.append(_("%(document)s is not verified.") % {"document": item.document_type.name})
    if permit.documents.filter(review=Document.Review.PENDING).exists():
        blockers.append(_("Some documents are not reviewed yet."))
    if permit.kind == PermitKind.INTER_IN and permit.release_pending:
        blockers.append(_("The release from the home district has not arrived."))
    return blockers


def _take_seat(permit: Permit, school: School, *, force: bool = False) -> None:
    """Hold the seat allocation row while counting, so that two approvals of the last
    seat are serialised: the second one sees it taken. A county order (force) admits
    the student even past capacity."""
    try:
        allocation = SeatAllocation.objects.select_for_update().get(
            school=school, school_year=permit.school_year, grade=permit.grade
        )
    except SeatAllocation.DoesNotExist:
        if force:
            return
        raise NoSeatLeft(_("%(school)s offers no permit seats in this grade.") % {"school": school}) from None
    taken = (
        Permit.objects.filter(
            status=Permit.Status.APPROVED, placed_school=school, school_year=permit.school_year, grade=permit.grade
        )
        .exclude(pk=permit.pk)
        .count()
    )
    if taken >= allocation.capacity and not force:
        raise NoSeatLeft(_("No seat left at %(school)s in this grade.") % {"school": school})


def _approve(
    permit: Permit, *, by: User, school: School | None, note: str = "", force_seat: bool = False
) -> PermitEvent:
    if permit.needs_seat:
        school = school or permit.requested_school
        if school is None:
            raise PermitError(_("Choose the school where the student is placed."))
        if permit.kind == PermitKind.INTRA and school == permit.school_of_residence:
            raise PermitError(_("An intra-district placement must be at another school than the school of residence."))
        _take_seat(permit, school, force=force_seat)
        permit.placed_school = school
    permit.decided_at = timezone.now()
    permit.save(update_fields=["placed_school", "decided_at"])
    event = change_status(permit, Permit.Status.APPROVED, by=by, note=note)
    notify_family(event=event, template="permit_approved")
    return event


@transaction.atomic
def approve_permit(*, permit_id: int, by: User, school: School | None = None, note: str = "") -> Permit:
    """Approve a fully verified packet and take its seat in the same transaction.
    `inter_in` and `intra` may be placed at another school than requested.
    Raises NoSeatLeft when the school and grade are full."""
    permit = _lock(permit_id)
    if Permit.Status.APPROVED not in Permit.TRANSITIONS[permit.status] or permit.status == Permit.Status.DENIED:
        raise TransitionNotAllowed(permit.status, Permit.Status.APPROVED)
    blockers = approval_blockers(permit)
    if blockers:
        raise PermitError(" ".join(blockers))
    _approve(permit, by=by, school=school, note=note)
    return permit


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


def _may_deny_directly(user: User) -> bool:
    roles = set(StaffRole.objects.filter(user=user).values_list("role", flat=True))
    return Role.DIRECTOR in roles or (Role.TECHNICIAN in roles and District.get().technicians_can_deny)


def _deny(permit: Permit, *, by: User, note: str = "") -> PermitEvent:
    permit.decided_at = timezone.now()
    permit.save(update_fields=["decided_at"])
    event = change_status(permit, Permit.Status.DENIED, by=by, note=note)
    decided_on = clock.local_date(permit.decided_at, District.get().time_zone)
    notify_family(
        event=event,
        template="permit_denied",
        context={
            "county_appeal_deadline": clock.county_appeal_deadline(decided_on),
            "internal_appeal_deadline": decided_on + timedelta(days=District.get().internal_appeal_days),
        },
    )
    return event


@transaction.atomic
def deny_permit(*, permit_id: int, by: User, reasons: list[str], note: str = "") -> Permit:
    """Deny with reason codes and text. A technician's denial is a recommendation
    that the director confirms, unless the district lets technicians deny directly."""
    permit = _lock(permit_id)
    _require_open(permit)
    if not reasons:
        raise PermitError(_("Choose at least one reason for the denial."))
    if permit.kind == PermitKind.INTRA and permit.bullying_victim:
        raise PermitError(
            _(
                "An intra-district request from a victim of bullying must be approved, at another "
                "school if the requested one is full."
            )
        )
    permit.denial_reasons, permit.decision_note = list(reasons), note.strip()
    permit.save(update_fields=["denial_reasons", "decision_note"])
    if _may_deny_directly(by):
        _deny(permit, by=by, note=note)
    else:
        permit.denial_recommended_by, permit.denial_recommended_at = by, timezone.now()
        permit.save(update_fields=["denial_recommended_by", "denial_recommended_at"])
        _event(permit, PermitEvent.Kind.DENIAL_RECOMMENDED, by, note=note)
    return permit


@transaction.atomic
def confirm_denial(*, permit_id: int, by: User) -> Permit:
    """The director confirms a technician's recommended denial: the final denial."""
    permit = _lock(permit_id)
    if not permit.denial_pending_confirmation:
        raise PermitError(_("There is no recommended denial to confirm."))
    _deny(permit, by=by, note=permit.decision_note)
    return permit


@transaction.atomic
def void_permit(*, permit_id: int, by: User, reason: str) -> Permit:
    """A duplicate or a packet entered in error."""
    permit = _lock(permit_id)
    if not reason.strip():
        raise PermitError(_("Say why the request is voided."))
    event = change_status(permit, Permit.Status.VOIDED, by=by, note=reason.strip())
    notify_family(event=event, template="permit_voided")
    return permit


@transaction.atomic
def revoke_permit(*, permit_id: int, by: User, reason: str, effective_on: date) -> Permit:
    """Revoke an approved permit. Refused for a student entering grade 11 or 12."""
    permit = _lock(permit_id)
    if permit.status == Permit.Status.APPROVED and not permit.can_be_revoked:
        raise PermitError(_("A permit cannot be revoked for a student entering grade 11 or 12."))
    if not reason.strip():
        raise PermitError(_("Say why the permit is revoked."))
    permit.revocation_effective_on = effective_on
    permit.decision_note = reason.strip()
    permit.save(update_fields=["revocation_effective_on", "decision_note"])
    event = change_status(permit, Permit.Status.REVOKED, by=by, note=reason.strip())
    notify_family(event=event, template="permit_revoked")
    return permit


@transaction.atomic
def abandon_permit(*, permit_id: int, today: date) -> bool:
    """The family did not answer an information request by its deadline: the request
    is abandoned (not a denial, not appealable) and the family is told. Returns False
    when there is nothing to do (answered meanwhile, or already abandoned)."""
    permit = _lock(permit_id)
    if permit.status != Permit.Status.INFO_REQUESTED or not permit.info_due_date or permit.info_due_date >= today:
        return False
    event = change_status(
        permit, Permit.Status.ABANDONED, by=None, note=f"No answer by {permit.info_due_date.isoformat()}"
    )
    notify_family(event=event, template="permit_abandoned")
    return True


@transaction.atomic
def record_site_review(*, permit_id: int, by: User, recommend_revocation: bool, reason: str = "") -> SiteReview:
    permit = _lock(permit_id)
    if permit.status != Permit.Status.APPROVED:
        raise PermitError(_("Only active permits are reviewed."))
    if recommend_revocation and not reason.strip():
        raise PermitError(_("Say why you recommend revocation."))
    outcome = SiteReview.Outcome.RECOMMEND_REVOCATION if recommend_revocation else SiteReview.Outcome.CONTINUE
    review = SiteReview.objects.create(permit=permit, reviewed_by=by, outcome=outcome, reason=reason.strip())
    kind = PermitEvent.Kind.REVOCATION_RECOMMENDED if recommend_revocation else PermitEvent.Kind.SITE_REVIEWED
    _event(permit, kind, by, note=reason.strip())
    return review


# --- Appeals ------------------------------------------------------------------


def internal_appeal_deadline(permit: Permit) -> date | None:
    if permit.status != Permit.Status.DENIED or permit.decided_at is None:
        return None
    district = District.get()
    return clock.local_date(permit.decided_at, district.time_zone) + timedelta(days=district.internal_appeal_days)


@transaction.atomic
def file_internal_appeal(*, permit_id: int, by: User, statement: str, upload=None) -> Appeal:
    """The family appeals a final denial within the district's window, with an
    optional supporting document (checked like every upload)."""
    permit = _lock(permit_id)
    deadline = internal_appeal_deadline(permit)
    if deadline is None:
        raise PermitError(_("Only a denied request can be appealed."))
    if _today() > deadline:
        raise PermitError(_("The deadline for an internal appeal was %(date)s.") % {"date": date_format(deadline)})
    if permit.appeals.filter(level=Appeal.Level.INTERNAL).exists():
        raise PermitError(_("An appeal was already filed for this request."))
    if not statement.strip():
        raise PermitError(_("Explain why the decision should change."))
    appeal = Appeal.objects.create(
        permit=permit, level=Appeal.Level.INTERNAL, filed_on=_today(), filed_by=by, statement=statement.strip()
    )
    if upload is not None:
        store_document(
            permit=permit, document_type=DocumentType.objects.get(code="appeal_evidence"), upload=upload, by=by
        )
    _event(permit, PermitEvent.Kind.APPEAL_FILED, by, note=Appeal.Level.INTERNAL)
    return appeal


@transaction.atomic
def decide_internal_appeal(*, appeal_id: int, by: User, overturned: bool, school: School | None = None) -> Appeal:
    """Record the panel's decision; an overturned denial approves the request."""
    appeal = Appeal.objects.select_for_update().get(pk=appeal_id, level=Appeal.Level.INTERNAL)
    permit = _lock(appeal.permit_id)
    if appeal.outcome != Appeal.Outcome.PENDING:
        raise PermitError(_("This appeal was already decided."))
    appeal.outcome = Appeal.Outcome.OVERTURNED if overturned else Appeal.Outcome.UPHELD
    appeal.decided_on, appeal.recorded_by = _today(), by
    appeal.save(update_fields=["outcome", "decided_on", "recorded_by"])
    event = _event(permit, PermitEvent.Kind.APPEAL_DECIDED, by, note=appeal.outcome)
    if overturned:
        _approve(permit, by=by, school=school, note="Internal appeal: denial overturned")
    else:
        notify_family(event=event, template="appeal_decided", context={"appeal": appeal})
    return appeal


@transaction.atomic
def record_county_appeal(
    *, permit_id: int, by: User, filed_on: date, hearing_on: date | None = None, extension_reason: str = ""
) -> Appeal:
    """Track an appeal to the county board: due 30 days after filing, or 60 with a
    recorded reason (EC 46601)."""
    permit = _lock(permit_id)
    if permit.status != Permit.Status.DENIED:
        raise PermitError(_("Only a denied request can be appealed to the county."))
    days = 60 if extension_reason.strip() else 30
    appeal, _created = Appeal.objects.update_or_create(
        permit=permit,
        level=Appeal.Level.COUNTY,
        defaults={
            "filed_on": filed_on,
            "hearing_on": hearing_on,
            "extension_reason": extension_reason.strip(),
            "county_due_date": filed_on + timedelta(days=days),
            "recorded_by": by,
        },
    )
    _event(permit, PermitEvent.Kind.COUNTY_APPEAL, by, note=f"filed {filed_on}")
    return appeal


@transaction.atomic
def decide_county_appeal(*, appeal_id: int, by: User, granted: bool, decided_on: date) -> Appeal:
    """A granted county appeal admits the student without delay, past capacity if need be."""
    appeal = Appeal.objects.select_for_update().get(pk=appeal_id, level=Appeal.Level.COUNTY)
    permit = _lock(appeal.permit_id)
    if appeal.outcome != Appeal.Outcome.PENDING:
        raise PermitError(_("This appeal was already decided."))
    appeal.outcome = Appeal.Outcome.GRANTED if granted else Appeal.Outcome.DENIED
    appeal.decided_on, appeal.recorded_by = decided_on, by
    appeal.save(update_fields=["outcome", "decided_on", "recorded_by"])
    event = _event(permit, PermitEvent.Kind.APPEAL_DECIDED, by, note=f"county {appeal.outcome}")
    if granted:
        _approve(permit, by=by, school=None, note="County appeal granted", force_seat=True)
    else:
        notify_family(event=event, template="appeal_decided", context={"appeal": appeal})
    return appeal
