"""Every write to a permit, and the one owner of its state machine.

Each status change is one transaction: lock the row, guard against
`Permit.TRANSITIONS`, one `save(update_fields=...)`, one `PermitEvent`. What an event
causes (the family's email, a letter) is not decided here: `notifications.events`
maps each event to its effects and a worker carries them out after commit. Who may
take an action (a technician recommends a denial, a director confirms it) is decided
by the caller and passed in, never looked up here.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import DateField, ExpressionWrapper, F, Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from applicants.models import Family, Grade, Student, User
from boundaries import services as boundaries

from . import clock, protections, rights, selectors, terms, uploads
from .models import (
    Appeal,
    DecisionRule,
    DenialReason,
    District,
    Document,
    DocumentType,
    InformationRequest,
    Permit,
    PermitEvent,
    PermitKind,
    ProvisionalAttendance,
    School,
    SchoolYear,
    SeatAllocation,
    VoidReason,
)
from .signals import event_recorded


class PermitError(Exception):
    """A domain rule refused the action; the message is shown to the person."""


class TransitionNotAllowed(PermitError):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        super().__init__(
            _("This request is %(status)s and cannot become %(new)s.")
            % {"status": Permit.Status(old).label, "new": Permit.Status(new).label}
        )


class MissingDocuments(PermitError):
    def __init__(self, missing: list[DocumentType]):
        self.missing = missing
        super().__init__(_("Some required documents are missing."))


class MissingAddress(PermitError):
    """The family has no home address on file, so no letter could be mailed to it."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == PermitKind.INTER_IN:
            message = _(
                "Before you submit, enter your home address: the address where you live, outside the "
                "district. The district mails its letters about this request to it."
            )
        else:
            message = _(
                "Before you submit, enter your home address. The district mails its letters about this request to it."
            )
        super().__init__(message)


class NoSeatLeft(PermitError):
    pass


# --- The building blocks --------------------------------------------------------


def lock_permit(permit_id: int) -> Permit:
    """The permit row, locked until the caller's transaction ends (every write holds it)."""
    return (
        Permit.objects.select_for_update(of=("self",))
        .select_related("student", "school_year", "family", "reason")
        .get(pk=permit_id)
    )


def record_event(
    permit: Permit, kind: str, *, by: User | None, note: str = "", old_status: str = "", new_status: str = ""
) -> PermitEvent:
    """Write one audit event and announce it (see permits.signals)."""
    event = PermitEvent.objects.create(
        permit=permit, kind=kind, actor=by, old_status=old_status, new_status=new_status, note=note
    )
    event_recorded.send(sender=PermitEvent, event=event)
    return event


def change_status(
    permit: Permit, to: str, *, by: User | None, note: str = "", fields: tuple[str, ...] = ()
) -> PermitEvent:
    """Move a permit the caller locked (lock_permit) to a new status: guard against
    Permit.TRANSITIONS (raises TransitionNotAllowed), one save of the status and of
    the other `fields` the caller changed, one event. Only this module calls it."""
    if to not in Permit.TRANSITIONS[permit.status]:
        raise TransitionNotAllowed(permit.status, to)
    old, permit.status = permit.status, to
    permit.save(update_fields=["status", "updated_at", *fields])
    return record_event(permit, PermitEvent.Kind.STATUS, by=by, note=note, old_status=old, new_status=to)


def require_open(permit: Permit) -> None:
    """Raises PermitError unless the packet is still open (submitted, under review or
    waiting for information)."""
    if permit.status not in Permit.OPEN_STATUSES:
        raise PermitError(
            _("This request is %(status)s; it is no longer open.") % {"status": permit.get_status_display()}
        )


# --- The family's packet --------------------------------------------------------


@transaction.atomic
def start_permit(*, family: Family, student: Student, school_year: SchoolYear, kind: str, by: User) -> Permit:
    """Open a draft packet. Raises PermitError when the student already has a live
    request of that kind for that year, or the year does not take requests today."""
    if student.family_id != family.pk:
        raise PermitError(_("This student is not part of your family."))
    if not school_year.accepts_requests_on(clock.today()):
        raise PermitError(
            _("Requests for %(year)s are accepted from %(start)s to %(end)s.")
            % {
                "year": school_year,
                "start": date_format(school_year.applications_open_on),
                "end": date_format(school_year.applications_close_on),
            }
        )
    try:
        with transaction.atomic():
            permit = Permit.objects.create(
                family=family,
                student=student,
                school_year=school_year,
                kind=kind,
                grade=student.grade,
                created_by=by,
            )
    except IntegrityError:
        raise PermitError(
            _("%(student)s already has a request of this kind for %(year)s.")
            % {"student": student.full_name, "year": school_year}
        ) from None
    record_event(permit, PermitEvent.Kind.CREATED, by=by)
    return permit


@transaction.atomic
def add_document(*, permit_id: int, document_type: DocumentType, upload: UploadedFile, by: User) -> Document:
    """Check and store one file for the packet under a key the server chooses.
    Raises ValidationError for a file that is not acceptable, PermitError when the
    packet no longer takes documents or would grow past its size limit."""
    permit = lock_permit(permit_id)
    if permit.status not in (Permit.Status.DRAFT, Permit.Status.INFO_REQUESTED):
        raise PermitError(_("Documents can no longer be added to this request."))
    return _store_document(permit=permit, document_type=document_type, upload=upload, by=by)


def _store_document(*, permit: Permit, document_type: DocumentType, upload: UploadedFile, by: User) -> Document:
    """Check a file and store it on a locked permit under a key the server chooses."""
    district = District.current()
    checked = uploads.check_upload(upload, max_bytes=district.max_file_bytes)
    stored = permit.documents.aggregate(total=Sum("size"))["total"] or 0
    if stored + checked.size > district.max_packet_bytes:
        raise PermitError(
            _("This file would take the request past its %(limit)s MB limit. Remove a file first.")
            % {"limit": district.max_packet_mb}
        )
    document = Document(
        permit=permit,
        document_type=document_type,
        original_name=checked.display_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=by,
    )
    document.file.save(uploads.storage_key(permit.pk, checked.extension), upload, save=False)
    try:
        document.save()
        record_event(
            permit, PermitEvent.Kind.DOCUMENT_ADDED, by=by, note=f"{document_type.name_en}: {checked.display_name}"
        )
    except Exception:
        # No row, no file: a stored file nobody references would never be cleaned up.
        document.file.storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def remove_document(*, document_id: int, by: User) -> None:
    """Remove a file from a draft packet (a mistaken upload)."""
    document = Document.objects.select_related("document_type").get(pk=document_id)
    permit = lock_permit(document.permit_id)
    if permit.status != Permit.Status.DRAFT:
        raise PermitError(_("Documents of a submitted request cannot be removed."))
    name = document.file.name
    record_event(
        permit,
        PermitEvent.Kind.DOCUMENT_REMOVED,
        by=by,
        note=f"{document.document_type.name_en}: {document.original_name}",
    )
    document.delete()
    transaction.on_commit(lambda: document.file.storage.delete(name))


@transaction.atomic
def submit_permit(*, permit_id: int, by: User) -> Permit:
    """Submit a complete draft: record when it was received, the legal clocks and the
    address it is submitted from, and audit it, in one transaction (the receipt email
    follows from the event). An address whose school of residence the boundary lookup
    cannot tell opens a staff review (one per address and grade span;
    Permit.residence_needs_review says when). Raises MissingDocuments listing what is still needed,
    MissingAddress when the family has no home address to mail the letters to, or
    TransitionNotAllowed for a second submission."""
    permit = lock_permit(permit_id)
    if permit.status != Permit.Status.DRAFT:
        raise TransitionNotAllowed(permit.status, Permit.Status.SUBMITTED)
    missing = selectors.missing_documents(permit)
    if missing:
        raise MissingDocuments(missing)
    if not permit.family.has_address:
        raise MissingAddress(permit.kind)
    # The address as it is today; a later move is a new Residence and leaves this one.
    permit.residence = residence = permit.family.residences.first()
    if residence is not None:
        finding = boundaries.school_of_residence(residence, permit.grade, permit.school_year.name)
        if permit.residence_needs_review(finding):
            boundaries.open_review(residence, finding)
    permit.received_at = timezone.now()
    deadlines = clock.deadlines_for(
        received_at=permit.received_at,
        first_day_of_instruction=permit.school_year.first_day_of_instruction,
        service_level_days=District.current().service_level_days,
    )
    permit.rule_set = deadlines.rules.code
    permit.year_type = deadlines.year_type
    permit.legal_due_date = deadlines.legal_due
    permit.district_due_date = deadlines.district_due
    permit.due_date = deadlines.due
    permit.attested_by = by
    change_status(
        permit,
        Permit.Status.SUBMITTED,
        by=by,
        fields=(
            "received_at",
            "rule_set",
            "year_type",
            "legal_due_date",
            "district_due_date",
            "due_date",
            "attested_by",
            "residence",
        ),
    )
    return permit


@transaction.atomic
def withdraw_permit(*, permit_id: int, by: User, note: str = "") -> Permit:
    """The family withdraws a request before a decision."""
    permit = lock_permit(permit_id)
    if not permit.can_be_withdrawn:
        raise TransitionNotAllowed(permit.status, Permit.Status.WITHDRAWN)
    change_status(permit, Permit.Status.WITHDRAWN, by=by, note=note)
    return permit


# --- Review ---------------------------------------------------------------------


@transaction.atomic
def claim_permit(*, permit_id: int, by: User) -> Permit:
    """Take a packet: it is assigned to `by`, and a submitted packet goes under review."""
    permit = lock_permit(permit_id)
    require_open(permit)
    permit.assigned_to = by
    record_event(permit, PermitEvent.Kind.ASSIGNED, by=by, note=str(by))
    if permit.status == Permit.Status.SUBMITTED:
        change_status(permit, Permit.Status.UNDER_REVIEW, by=by, fields=("assigned_to",))
    else:
        permit.save(update_fields=["assigned_to", "updated_at"])
    return permit


def default_information_due_date(permit: Permit, today: date) -> date:
    """The district's number of days to answer, ending before the request's legal due
    date when that comes first (EC 46600.1(d)(1): waiting for an answer must not drift
    into a deemed denial); never before tomorrow."""
    due = today + timedelta(days=District.current().info_response_days)
    if permit.legal_due_date and due >= permit.legal_due_date:
        due = max(permit.legal_due_date - timedelta(days=1), today + timedelta(days=1))
    return due


@transaction.atomic
def request_information(
    *,
    permit_id: int,
    by: User,
    message: str,
    document_types: list[DocumentType],
    due_date: date | None = None,
    override_reason: str = "",
    may_override: bool = False,
) -> InformationRequest:
    """Ask the family for missing or rejected documents by a dated deadline (by
    default the district's number of days, ending before the legal due date); the
    packet waits in `info_requested`. Raises PermitError for a deadline that is not in
    the future, and for one on or after the request's legal due date unless a
    director (`may_override`, decided by the caller) gives a reason."""
    permit = lock_permit(permit_id)
    require_open(permit)
    today = clock.today()
    due_date = due_date or default_information_due_date(permit, today)
    if due_date <= today:
        raise PermitError(_("The answer deadline must be after today."))
    override_reason = override_reason.strip()
    if permit.legal_due_date and due_date >= permit.legal_due_date:
        if not may_override:
            raise PermitError(
                _(
                    "The answer deadline must be before the legal due date, %(date)s; only a director may "
                    "set a later one, with a reason."
                )
                % {"date": date_format(permit.legal_due_date)}
            )
        if not override_reason:
            raise PermitError(_("Say why the answer deadline runs past the legal due date."))
    else:
        override_reason = ""
    request = InformationRequest.objects.create(
        permit=permit,
        requested_by=by,
        message=message.strip(),
        due_date=due_date,
        deadline_override_reason=override_reason,
    )
    request.document_types.set(document_types)
    permit.info_due_date = due_date
    change_status(permit, Permit.Status.INFO_REQUESTED, by=by, note=message.strip(), fields=("info_due_date",))
    return request


@transaction.atomic
def answer_information_request(*, permit_id: int, by: User, answer: str = "") -> Permit:
    """The family is done answering: the packet goes back under review. The legal
    clock keeps running from the first receipt (DOMAIN §4). Raises PermitError
    naming what was asked for and is still not uploaded."""
    permit = lock_permit(permit_id)
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
    record_event(permit, PermitEvent.Kind.INFO_ANSWERED, by=by, note=answer.strip())
    permit.info_due_date = None
    change_status(permit, Permit.Status.UNDER_REVIEW, by=by, fields=("info_due_date",))
    return permit


@transaction.atomic
def receive_release(*, permit_id: int, by: User, upload: UploadedFile | None = None, how: str = "") -> Permit:
    """The home district's release of an incoming request, arriving after submission:
    the family uploads it (`upload`, checked like every file, then verified by staff
    like every document), or staff record that it came another way (`how`: on paper,
    the other district's verification code). Either clears `release_pending` and
    writes an event; the assigned technician is told (notifications.events). Raises
    PermitError when the request is closed or not waiting for a release."""
    permit = lock_permit(permit_id)
    require_open(permit)
    if permit.kind != PermitKind.INTER_IN or not permit.release_pending:
        raise PermitError(_("This request is not waiting for a release."))
    how = how.strip()
    if upload is None and not how:
        raise PermitError(_("Upload the release, or say how it arrived."))
    note = how
    if upload is not None:
        rule = selectors.release_rule(permit)
        if rule is None:
            raise PermitError(_("The district has no release document configured."))
        document = _store_document(permit=permit, document_type=rule.document_type, upload=upload, by=by)
        how, note = "", f"{rule.document_type.name_en}: {document.original_name}"
    permit.release_pending = False
    permit.release_received_at, permit.release_received_by, permit.release_received_how = timezone.now(), by, how
    permit.save(
        update_fields=[
            "release_pending",
            "release_received_at",
            "release_received_by",
            "release_received_how",
            "updated_at",
        ]
    )
    record_event(permit, PermitEvent.Kind.RELEASE_RECEIVED, by=by, note=note)
    return permit


def approval_blockers(permit: Permit, checklist: list[selectors.ChecklistItem] | None = None) -> list[str]:
    """Why a packet cannot be approved yet; empty when it can. The review page passes
    the checklist it already built (and prefetched documents), so nothing is
    queried twice."""
    items = selectors.checklist(permit) if checklist is None else checklist
    # A release that staff recorded as received another way needs no file.
    release_on_record = bool(permit.release_received_how)
    blockers = [
        _("%(document)s is not verified.") % {"document": item.document_type.name}
        for item in items
        if not any(d.review == Document.Review.VERIFIED for d in item.documents)
        and not (item.is_release and release_on_record)
    ]
    if any(d.review == Document.Review.PENDING for d in permit.documents.all()):
        blockers.append(_("Some documents are not reviewed yet."))
    if permit.kind == PermitKind.INTER_IN and permit.release_pending:
        blockers.append(_("The release from the home district has not arrived."))
    return blockers


def _seats_left(school: School, school_year: SchoolYear, grade: int, *, exclude: Permit | None = None) -> int | None:
    """The permit seats left at a school in a grade, holding the allocation row until
    the transaction ends, so that two takers of the last seat are serialised: the
    second one sees it taken. None when the school offers no seats in that grade."""
    allocation = (
        SeatAllocation.objects.select_for_update().filter(school=school, school_year=school_year, grade=grade).first()
    )
    if allocation is None:
        return None
    # Served by the approved_permits_by_seat index.
    taken = Permit.objects.filter(
        status=Permit.Status.APPROVED, placed_school=school, school_year=school_year, grade=grade
    )
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    return allocation.capacity - taken.count()


def _take_seat(permit: Permit, school: School, *, force: bool = False) -> None:
    """Refuse an approval when the school and grade are full (NoSeatLeft). A county
    order (force) admits the student even past capacity."""
    left = _seats_left(school, permit.school_year, permit.grade, exclude=permit)
    if force:
        return
    if left is None:
        raise NoSeatLeft(_("%(school)s offers no permit seats in this grade.") % {"school": school})
    if left <= 0:
        raise NoSeatLeft(_("No seat left at %(school)s in this grade.") % {"school": school})


def _approve(
    permit: Permit, *, by: User, school: School | None, note: str = "", force_seat: bool = False
) -> PermitEvent:
    permit.decision_rule = protections.decision_rule(permit)
    permit.term_years = terms.term_years_on_approval(permit, District.current())
    fields = ["decided_at", "decision_rule", "term_years"]
    if permit.needs_seat:
        school = school or permit.requested_school
        if school is None:
            raise PermitError(_("Choose the school where the student is placed."))
        if permit.kind == PermitKind.INTRA and school == permit.school_of_residence:
            raise PermitError(_("An intra-district placement must be at another school than the school of residence."))
        _take_seat(permit, school, force=force_seat)
        permit.placed_school = school
        fields.append("placed_school")
    permit.decided_at = timezone.now()
    return change_status(permit, Permit.Status.APPROVED, by=by, note=note, fields=tuple(fields))


@transaction.atomic
def approve_permit(*, permit_id: int, by: User, school: School | None = None, note: str = "") -> Permit:
    """Approve a fully verified packet and take its seat in the same transaction.
    `inter_in` and `intra` may be placed at another school than requested.
    Raises NoSeatLeft when the school and grade are full, PermitError with the
    blockers when the packet is not ready."""
    permit = lock_permit(permit_id)
    if Permit.Status.APPROVED not in Permit.TRANSITIONS[permit.status] or permit.status == Permit.Status.DENIED:
        raise TransitionNotAllowed(permit.status, Permit.Status.APPROVED)
    prefetch_related_objects([permit], "documents")  # the checklist and the blockers share them
    blockers = approval_blockers(permit)
    if blockers:
        raise PermitError(" ".join(blockers))
    _approve(permit, by=by, school=school, note=note)
    return permit


def _deny(permit: Permit, *, by: User, note: str = "", fields: tuple[str, ...] = ()) -> PermitEvent:
    permit.decided_at = timezone.now()
    return change_status(permit, Permit.Status.DENIED, by=by, note=note, fields=("decided_at", *fields))


@transaction.atomic
def deny_permit(*, permit_id: int, by: User, reasons: list[str], note: str = "", final: bool) -> Permit:
    """Deny with reason codes and text. `final=True` is the final denial (a director,
    or a technician where the district allows it); `final=False` records a
    technician's recommendation that the director confirms (confirm_denial).
    Raises PermitError without a reason, and for a reason the law does not allow
    for this request (permits.protections: a bullied student's intra-district request
    must be approved; a protected outgoing or incoming one has fewer grounds; "no
    release" is given alone, for incoming requests only)."""
    permit = lock_permit(permit_id)
    require_open(permit)
    if not reasons:
        raise PermitError(_("Choose at least one reason for the denial."))
    rule = protections.decision_rule(permit)
    if rule == DecisionRule.BULLYING_INTRA:
        raise PermitError(
            _(
                "An intra-district request from a victim of bullying must be approved, at another "
                "school if the requested one is full."
            )
        )
    if DenialReason.NO_RELEASE in reasons:
        # Not an appealable denial (EC 46600.1(d)(2)): it must not hide an appealable reason.
        if permit.kind != PermitKind.INTER_IN:
            raise PermitError(_("Only an incoming request waits for a release from the district of residence."))
        if len(reasons) > 1:
            raise PermitError(_("A denial for lack of a release is given alone; deny on other grounds separately."))
    refused = [code for code in reasons if code not in protections.allowed_denial_reasons(permit)]
    if refused:
        labels = ", ".join(str(DenialReason(code).label) if code in DenialReason.values else code for code in refused)
        if rule == DecisionRule.OUTGOING_PROTECTED:
            raise PermitError(
                _(
                    "The district of residence may not prohibit the transfer of a victim of bullying or of a child "
                    "of an active-duty military parent (EC 46600). Deny it only if the documents do not support it."
                )
            )
        raise PermitError(_("Not a reason this request may be denied for: %(reasons)s.") % {"reasons": labels})
    permit.decision_rule = rule
    permit.denial_reasons, permit.decision_note = list(reasons), note.strip()
    if final:
        _deny(permit, by=by, note=note, fields=("denial_reasons", "decision_note", "decision_rule"))
    else:
        permit.denial_recommended_by, permit.denial_recommended_at = by, timezone.now()
        permit.save(
            update_fields=[
                "denial_reasons",
                "decision_note",
                "denial_recommended_by",
                "denial_recommended_at",
                "decision_rule",
                "updated_at",
            ]
        )
        record_event(permit, PermitEvent.Kind.DENIAL_RECOMMENDED, by=by, note=note)
    return permit


@transaction.atomic
def confirm_denial(*, permit_id: int, by: User) -> Permit:
    """The director confirms a technician's recommended denial: the final denial."""
    permit = lock_permit(permit_id)
    if not permit.denial_pending_confirmation:
        raise PermitError(_("There is no recommended denial to confirm."))
    _deny(permit, by=by, note=permit.decision_note)
    return permit


@transaction.atomic
def void_permit(*, permit_id: int, by: User, reason: str, note: str = "") -> Permit:
    """Take a request off the legal clock: a duplicate, one entered in error, or one
    the family withdrew in writing (VoidReason), with an optional note. Only a
    director may void (reviews.access); the family is told (notifications.events)."""
    permit = lock_permit(permit_id)
    if reason not in VoidReason.values:
        raise PermitError(_("Choose why the request is voided."))
    permit.void_reason = reason
    change_status(
        permit,
        Permit.Status.VOIDED,
        by=by,
        note=" — ".join(filter(None, [str(VoidReason(reason).label), note.strip()])),
        fields=("void_reason",),
    )
    return permit


# The note of a later year's revocation that follows from the revoked year's.
ENDS_WITH_REVOKED_YEAR = "Ends with the revoked permit "


@transaction.atomic
def revoke_permit(*, permit_id: int, by: User, reason: str, effective_on: date) -> Permit:
    """Revoke an approved permit. Refused for a student entering grade 11 or 12."""
    permit = lock_permit(permit_id)
    if permit.status == Permit.Status.APPROVED and not permit.can_be_revoked:
        raise PermitError(_("A permit cannot be revoked for a student entering grade 11 or 12."))
    if not reason.strip():
        raise PermitError(_("Say why the permit is revoked."))
    permit.revocation_effective_on = effective_on
    permit.decision_note = reason.strip()
    change_status(
        permit,
        Permit.Status.REVOKED,
        by=by,
        note=reason.strip(),
        fields=("revocation_effective_on", "decision_note"),
    )
    # Later years of the term that the spring rollover already created end with it; the
    # family's one letter is this year's (notifications.events skips these events).
    later = Permit.objects.select_for_update().filter(continues=permit, status=Permit.Status.APPROVED).first()
    while later is not None:
        later.revocation_effective_on, later.decision_note = effective_on, reason.strip()
        change_status(
            later,
            Permit.Status.REVOKED,
            by=by,
            note=ENDS_WITH_REVOKED_YEAR + permit.reference,
            fields=("revocation_effective_on", "decision_note"),
        )
        later = Permit.objects.select_for_update().filter(continues=later, status=Permit.Status.APPROVED).first()
    return permit


@transaction.atomic
def abandon_permit(*, permit_id: int, today: date) -> bool:
    """The family did not answer an information request by its deadline: the request
    is abandoned (not a denial, not appealable). Returns False when there is nothing
    to do (answered meanwhile, or already abandoned)."""
    permit = lock_permit(permit_id)
    if permit.status != Permit.Status.INFO_REQUESTED or not permit.info_due_date or permit.info_due_date >= today:
        return False
    change_status(permit, Permit.Status.ABANDONED, by=None, note=f"No answer by {permit.info_due_date.isoformat()}")
    return True


@transaction.atomic
def record_deemed_denials(*, today: date) -> int:
    """Every open request whose legal due date (never the district's own target) passed
    before `today` without a decision: from the day after that date it counts as
    denied for appeal purposes (EC 46600.1(d)(1), under the request's rule set). It
    stays open: the district may still decide it. An inter-district family is told,
    with its county appeal right (notifications.events); the daily check calls this.
    Returns how many were recorded; a second call finds nothing (the flag is set).

    In bulk, because a district's backlog can be thousands of requests on the first
    day: the rows are locked in one query (a decision under way finishes first and the
    request drops out), flagged in one UPDATE and their events written in one INSERT.
    Served by the undecided_past_legal_due index."""
    # A rule set under which silence means something else would have its own step.
    denial_codes = [rules.code for rules in clock.RULE_SETS if rules.no_decision_counts_as == "denial"]
    if clock.rules_on(today).no_decision_counts_as == "denial":
        denial_codes.append("")  # received before rule sets were stamped: today's rules
    late = Permit.objects.filter(
        status__in=Permit.OPEN_STATUSES,
        deemed_denial_risk_since__isnull=True,
        legal_due_date__lt=today,
        rule_set__in=denial_codes,
    )
    rows = list(late.select_for_update(of=("self",)).values_list("pk", "kind", "legal_due_date"))
    if not rows:
        return 0
    Permit.objects.filter(pk__in=[pk for pk, _kind, _due in rows]).update(
        deemed_denial_risk_since=ExpressionWrapper(F("legal_due_date") + timedelta(days=1), output_field=DateField()),
        updated_at=timezone.now(),
    )
    events = PermitEvent.objects.bulk_create(
        PermitEvent(permit_id=pk, kind=PermitEvent.Kind.DEEMED_DENIED, note=f"legal due date {due}")
        for pk, kind, due in rows
        if kind in rights.COUNTY_KINDS
    )
    for event in events:
        event_recorded.send(sender=PermitEvent, event=event)
    return len(rows)


# --- Appeals --------------------------------------------------------------------


@transaction.atomic
def file_internal_appeal(*, permit_id: int, by: User, statement: str, upload: UploadedFile | None = None) -> Appeal:
    """The family appeals a denial to the district within the window permits.rights
    gives, with an optional supporting document (checked like every upload). Raises
    PermitError where the district offers no internal appeal or the denial is not
    appealable, past the deadline, for a second appeal or without a statement."""
    permit = lock_permit(permit_id)
    appeal_rights = rights.current(permit) if permit.status == Permit.Status.DENIED else None
    if appeal_rights is None or not appeal_rights.appealable:
        raise PermitError(_("Only a denied request can be appealed."))
    if permit.appeals.filter(level=Appeal.Level.INTERNAL).exists():
        raise PermitError(_("An appeal was already filed for this request."))
    if not appeal_rights.internal:
        raise PermitError(_("The district does not offer an internal appeal."))
    today = clock.today()
    if not appeal_rights.internal_open_on(today):
        raise PermitError(
            _("The deadline for an internal appeal was %(date)s.") % {"date": date_format(appeal_rights.internal_until)}
        )
    if not statement.strip():
        raise PermitError(_("Explain why the decision should change."))
    appeal = Appeal.objects.create(
        permit=permit,
        level=Appeal.Level.INTERNAL,
        filed_on=today,
        filed_by=by,
        statement=statement.strip(),
        decision_due_date=rights.internal_appeal_decision_due(permit, today),
    )
    if upload is not None:
        _store_document(
            permit=permit, document_type=DocumentType.objects.get(code="appeal_evidence"), upload=upload, by=by
        )
    record_event(permit, PermitEvent.Kind.APPEAL_FILED, by=by, note=Appeal.Level.INTERNAL)
    return appeal


def _decide_appeal(appeal_id: int, level: str, outcome: str, *, by: User, decided_on: date) -> tuple[Appeal, Permit]:
    appeal = Appeal.objects.select_for_update().get(pk=appeal_id, level=level)
    permit = lock_permit(appeal.permit_id)
    if appeal.outcome != Appeal.Outcome.PENDING:
        raise PermitError(_("This appeal was already decided."))
    appeal.outcome, appeal.decided_on, appeal.recorded_by = outcome, decided_on, by
    appeal.save(update_fields=["outcome", "decided_on", "recorded_by"])
    # The note is read back by notifications.events: "upheld", "county denied", ...
    note = outcome if level == Appeal.Level.INTERNAL else f"{level} {outcome}"
    record_event(permit, PermitEvent.Kind.APPEAL_DECIDED, by=by, note=note)
    return appeal, permit


@transaction.atomic
def decide_internal_appeal(*, appeal_id: int, by: User, overturned: bool, school: School | None = None) -> Appeal:
    """Record the panel's decision; an overturned denial approves the request."""
    outcome = Appeal.Outcome.OVERTURNED if overturned else Appeal.Outcome.UPHELD
    appeal, permit = _decide_appeal(appeal_id, Appeal.Level.INTERNAL, outcome, by=by, decided_on=clock.today())
    if overturned:
        _approve(permit, by=by, school=school, note="Internal appeal: denial overturned")
    return appeal


@transaction.atomic
def record_county_appeal(
    *, permit_id: int, by: User, filed_on: date, hearing_on: date | None = None, extension_reason: str = ""
) -> Appeal:
    """Track an appeal to the county board of a denial or a deemed denial of an
    inter-district request: the county decides within 30 days of filing, or 60 with a
    recorded reason where the district's county is class 1 or 2 (EC 46601; the
    request's rule set)."""
    permit = lock_permit(permit_id)
    appeal_rights = rights.current(permit)
    if appeal_rights is None:
        raise PermitError(_("Only a denied request, or one not decided in time, can be appealed to the county."))
    if not appeal_rights.county:
        if not appeal_rights.appealable:
            raise PermitError(_("A denial for lack of a release from the district of residence is not appealable."))
        raise PermitError(_("Intra-district decisions cannot be appealed to the county board."))
    rules = clock.rule_set(permit.rule_set)
    days = rules.county_decision_days
    if extension_reason.strip():
        extended = clock.county_decision_days(rules, District.current().county_class)
        if extended == days:
            raise PermitError(_("Only a class 1 or 2 county may take 60 days to decide."))
        days = extended
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
    record_event(permit, PermitEvent.Kind.COUNTY_APPEAL, by=by, note=f"filed {filed_on}")
    return appeal


@transaction.atomic
def decide_county_appeal(*, appeal_id: int, by: User, granted: bool, decided_on: date) -> Appeal:
    """A granted county appeal admits the student without delay, past capacity if need
    be; a deemed denial (the request is still open) is approved from where it is."""
    outcome = Appeal.Outcome.GRANTED if granted else Appeal.Outcome.DENIED
    appeal, permit = _decide_appeal(appeal_id, Appeal.Level.COUNTY, outcome, by=by, decided_on=decided_on)
    if granted:
        _approve(permit, by=by, school=None, note="County appeal granted", force_seat=True)
    return appeal


# --- Provisional attendance -----------------------------------------------------


def decision_pending(permit: Permit) -> bool:
    """Whether a decision or an appeal is still pending, the only time a pupil may
    attend provisionally (EC 46603): the request is open (a deemed denial included),
    or denied with an internal or county appeal not yet decided."""
    if permit.is_open:
        return True
    return permit.status == Permit.Status.DENIED and any(
        appeal.outcome == Appeal.Outcome.PENDING for appeal in permit.appeals.all()
    )


@transaction.atomic
def start_provisional_attendance(
    *, permit_id: int, by: User, school: School, started_on: date, reason: str
) -> ProvisionalAttendance:
    """Record that the pupil attends `school` provisionally from `started_on`, allowed
    until the last of the rule set's school months on the school year's calendar
    (EC 46603, EC 37201; clock.last_school_day). Raises PermitError unless a decision
    or an appeal is pending, for an outgoing request (the school is another
    district's), without a reason, for a first day in the future or outside the year's
    days of instruction, and while another provisional attendance is open."""
    permit = lock_permit(permit_id)
    if not decision_pending(permit):
        raise PermitError(_("A pupil may attend provisionally only while a decision or an appeal is pending."))
    if not permit.needs_seat:
        raise PermitError(_("Provisional attendance is recorded only at a school of this district."))
    if not reason.strip():
        raise PermitError(_("Give the reason for the provisional attendance."))
    if started_on > clock.today():
        raise PermitError(_("The first day attending cannot be in the future."))
    year = permit.school_year
    if not year.first_day_of_instruction <= started_on <= year.last_day_of_instruction:
        raise PermitError(
            _("The first day attending must fall within the school year's instruction, %(first)s to %(last)s.")
            % {"first": date_format(year.first_day_of_instruction), "last": date_format(year.last_day_of_instruction)}
        )
    # The permit row is locked: no second one can be started between this check and
    # the insert (the one_open_provisional_attendance constraint backs it).
    if permit.provisional_attendances.filter(ended_on__isnull=True).exists():
        raise PermitError(_("This pupil already attends provisionally; end that attendance first."))
    # The two school months are the request's, not each period's: a pupil who stopped
    # attending and comes back has only the rest of them.
    holidays = set(year.non_instructional_days.values_list("day", flat=True))
    allowed = clock.rule_set(permit.rule_set).provisional_school_months * clock.SCHOOL_MONTH_DAYS
    used = sum(
        clock.school_days_between(earlier.started_on, earlier.ended_on, holidays=holidays)
        for earlier in permit.provisional_attendances.all()
    )
    if used >= allowed:
        raise PermitError(_("This pupil has already attended provisionally for the two school months the law allows."))
    ends_by = clock.last_school_day(
        started_on, allowed - used, holidays=holidays, last_day=year.last_day_of_instruction
    )
    attendance = ProvisionalAttendance.objects.create(
        permit=permit, school=school, started_on=started_on, reason=reason.strip(), ends_by=ends_by, recorded_by=by
    )
    record_event(
        permit, PermitEvent.Kind.PROVISIONAL_ATTENDANCE, by=by, note=f"{school} from {started_on} until {ends_by}"
    )
    return attendance


@transaction.atomic
def end_provisional_attendance(*, attendance_id: int, by: User, ended_on: date) -> ProvisionalAttendance:
    """Record the last day of a provisional attendance, whatever became of the request
    (a decision ends it; the review page shows the ones still open). Raises PermitError
    when it already ended, or for a day in the future or before it started."""
    permit_id = ProvisionalAttendance.objects.values_list("permit_id", flat=True).get(pk=attendance_id)
    permit = lock_permit(permit_id)  # the permit first, as every other write locks it
    attendance = ProvisionalAttendance.objects.select_for_update().get(pk=attendance_id)
    if attendance.ended_on is not None:
        raise PermitError(_("This provisional attendance has already ended."))
    if ended_on > clock.today():
        raise PermitError(_("The end of a provisional attendance cannot be in the future."))
    if ended_on < attendance.started_on:
        raise PermitError(
            _("A provisional attendance cannot end before its first day, %(date)s.")
            % {"date": date_format(attendance.started_on)}
        )
    attendance.ended_on = ended_on
    attendance.save(update_fields=["ended_on"])
    record_event(permit, PermitEvent.Kind.PROVISIONAL_ATTENDANCE, by=by, note=f"ended {ended_on}")
    return attendance


# --- Multi-year permits (EC 46600(a)) -------------------------------------------


@dataclass
class Rollover:
    """What roll_over_continuing_permits did, for the office to act on. The lists
    that were not rolled hold the previous year's rows."""

    from_year: SchoolYear | None
    to_year: SchoolYear
    rolled: list[Permit] = field(default_factory=list)
    # Rolled although the school and grade have no permit seat left (or offer none):
    # a continuing pupil keeps the place (EC 46600(a)(2)); the office adjusts the seats.
    over_capacity: list[Permit] = field(default_factory=list)
    # Not rolled: the school placed at does not serve the next grade; staff place the student.
    to_place: list[Permit] = field(default_factory=list)
    # Not rolled: past grade 12.
    finished_school: list[Permit] = field(default_factory=list)
    # Not rolled: the family already started a request of the same kind for the year.
    already_requested: list[Permit] = field(default_factory=list)
    terms_ended: int = 0


def previous_school_year(school_year: SchoolYear) -> SchoolYear | None:
    """The school year whose first day of instruction is the latest before this one's."""
    return (
        SchoolYear.objects.filter(first_day_of_instruction__lt=school_year.first_day_of_instruction)
        .order_by("-first_day_of_instruction")
        .first()
    )


def roll_over_continuing_permits(*, to_year: SchoolYear, today: date) -> Rollover:
    """Carry each approved inter-district permit of the year before `to_year` whose
    term has years left into `to_year`: a new approved row for the next grade at the
    same school, which takes its seat even past capacity, and an event that asks the
    family by email to confirm the student returns by `to_year.continuation_confirm_by`
    (notifications.events). No new decision letter: the first year's states the term.
    Each permit rolls in its own transaction, at most once, so a second run (or one
    after a failure) creates only what is missing. A student past grade 12, or whose
    school does not serve the next grade, is reported and not rolled. Raises
    PermitError when `to_year` has no confirmation date, or it has passed."""
    if to_year.continuation_confirm_by is None:
        raise PermitError(
            _("Set the date by which continuing students confirm for %(year)s first.") % {"year": to_year}
        )
    if to_year.continuation_confirm_by < today:
        raise PermitError(
            _("The date by which continuing students confirm for %(year)s, %(date)s, has passed.")
            % {"year": to_year, "date": date_format(to_year.continuation_confirm_by)}
        )
    summary = Rollover(from_year=previous_school_year(to_year), to_year=to_year)
    if summary.from_year is None:
        return summary
    candidates = Permit.objects.filter(
        school_year=summary.from_year,
        status=Permit.Status.APPROVED,
        kind__in=(PermitKind.INTER_IN, PermitKind.INTER_OUT),
        term_years__gt=1,
    )
    for permit_id in candidates.order_by("pk").values_list("pk", flat=True):
        _roll_over(permit_id, to_year, summary)
    return summary


@transaction.atomic
def _roll_over(permit_id: int, to_year: SchoolYear, summary: Rollover) -> None:
    # The previous row stays locked until this year's row exists: two runs at once
    # cannot both roll it.
    prev = (
        Permit.objects.select_for_update(of=("self",))
        .select_related(*terms.CHAIN, "placed_school", "student")
        .get(pk=permit_id)
    )
    if prev.status != Permit.Status.APPROVED or Permit.objects.filter(continues=prev).exists():
        return  # revoked meanwhile, or rolled by an earlier run
    if not terms.term_of(prev).has_years_left:
        summary.terms_ended += 1
        return
    live = [Permit.Status.DRAFT, *Permit.OPEN_STATUSES, Permit.Status.APPROVED]
    if Permit.objects.filter(student_id=prev.student_id, school_year=to_year, kind=prev.kind, status__in=live).exists():
        summary.already_requested.append(prev)
        return
    grade = prev.grade + 1
    if grade > Grade.G12:
        summary.finished_school.append(prev)
        return
    school = prev.placed_school
    if school is not None and not school.serves(grade):
        summary.to_place.append(prev)
        return
    # Counted under the same lock as an approval's, so the two count in turn.
    full = school is not None and (_seats_left(school, to_year, grade) or 0) <= 0
    # Not a new request: no receipt, no legal clock, no decision date, so the reports'
    # days to decision and share decided in time count only requests.
    permit = Permit.objects.create(
        family_id=prev.family_id,
        student_id=prev.student_id,
        school_year=to_year,
        kind=prev.kind,
        status=Permit.Status.APPROVED,
        grade=grade,
        requested_school_id=prev.requested_school_id,
        placed_school=school,
        home_district=prev.home_district,
        destination_district=prev.destination_district,
        destination_school=prev.destination_school,
        reason_id=prev.reason_id,
        bullying_victim=prev.bullying_victim,
        military_family=prev.military_family,
        decision_rule=prev.decision_rule,
        rule_set=prev.rule_set,
        term_years=prev.term_years,
        continues=prev,
        created_by_id=prev.created_by_id,
    )
    # CREATED with the new status "approved": the family's request to confirm
    # (notifications.events), never an approval's letter.
    record_event(
        permit,
        PermitEvent.Kind.CREATED,
        by=None,
        new_status=Permit.Status.APPROVED,
        note=f"Continuing under the permit of {prev.reference}",
    )
    summary.rolled.append(permit)
    if full:
        summary.over_capacity.append(permit)


@transaction.atomic
def confirm_continuation(*, permit_id: int, by: User) -> Permit:
    """The family confirms that the student returns for a continuing year of a
    multi-year permit; the seat is then never released for want of an answer.
    Raises PermitError for any other permit, or one already confirmed."""
    permit = lock_permit(permit_id)
    if permit.status != Permit.Status.APPROVED or permit.continues_id is None:
        raise PermitError(_("Only a continuing year of an approved permit needs your confirmation."))
    if permit.continuation_confirmed_at is not None:
        raise PermitError(
            _("You already confirmed that %(student)s returns for %(year)s.")
            % {"student": permit.student.full_name, "year": permit.school_year}
        )
    permit.continuation_confirmed_at = timezone.now()
    permit.save(update_fields=["continuation_confirmed_at", "updated_at"])
    record_event(permit, PermitEvent.Kind.CONTINUATION_CONFIRMED, by=by)
    return permit


def continuation_reminder_day(permit: Permit, district: District) -> date | None:
    """The day the family is reminded to confirm: the district's number of days
    before the school year's confirmation date."""
    confirm_by = permit.school_year.continuation_confirm_by
    return confirm_by - timedelta(days=district.continuation_reminder_days) if confirm_by else None


@transaction.atomic
def mark_continuation_reminded(*, permit_id: int, today: date) -> Permit | None:
    """Record that the family is reminded today to confirm a continuing year, once:
    from the reminder day to the confirmation date, unless confirmed, reminded before,
    or rolled over after the reminder day (the first email is still fresh). Returns
    the permit when a reminder is owed (the caller emails it), None otherwise."""
    permit = lock_permit(permit_id)
    reminder_day = continuation_reminder_day(permit, District.current())
    if (
        not terms.awaits_confirmation(permit)
        or permit.continuation_reminded_at is not None
        or reminder_day is None
        or not reminder_day <= today <= permit.school_year.continuation_confirm_by
        or clock.local_date(permit.created_at) >= reminder_day
    ):
        return None
    permit.continuation_reminded_at = timezone.now()
    permit.save(update_fields=["continuation_reminded_at", "updated_at"])
    return permit


@transaction.atomic
def lapse_continuation(*, permit_id: int, today: date) -> bool:
    """The family did not confirm a continuing year by the school year's date, and the
    district releases the seat of an unconfirmed continuation: the year is abandoned
    (not a revocation, not appealable) and the family told (notifications.events).
    Returns False when there is nothing to do (confirmed, not yet past the date, or
    the district keeps the seat)."""
    permit = lock_permit(permit_id)
    confirm_by = permit.school_year.continuation_confirm_by
    district = District.current()
    if (
        not terms.awaits_confirmation(permit)
        or confirm_by is None
        or confirm_by >= today
        or district.unconfirmed_continuation != District.UnconfirmedContinuation.RELEASE_SEAT
    ):
        return False
    change_status(permit, Permit.Status.ABANDONED, by=None, note=f"Return not confirmed by {confirm_by.isoformat()}")
    return True
