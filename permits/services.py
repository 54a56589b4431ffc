"""Every write to a permit: each is one transaction that locks the row, checks the
transition, writes the audit event and queues the family's email."""

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from applicants.models import Family, Student, User
from notifications.services import notify_family

from . import clock, selectors, uploads
from .models import District, Document, DocumentType, Permit, PermitEvent, SchoolYear


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


def _lock(permit_id: int) -> Permit:
    return (
        Permit.objects.select_for_update(of=("self",))
        .select_related("student", "school_year", "family")
        .get(pk=permit_id)
    )


def change_status(permit: Permit, to: str, *, by: User | None, note: str = "") -> PermitEvent:
    """Move a locked permit to a new status and write its audit event. Callers hold
    the row lock (see _lock) and save any other fields they change themselves."""
    if to not in Permit.TRANSITIONS[permit.status]:
        raise TransitionNotAllowed(permit.status, to)
    old, permit.status = permit.status, to
    permit.save(update_fields=["status", "updated_at"])
    return PermitEvent.objects.create(
        permit=permit,
        kind=PermitEvent.Kind.STATUS,
        actor=by,
        old_status=old,
        new_status=to,
        note=note,
    )


@transaction.atomic
def start_permit(*, family: Family, student: Student, school_year: SchoolYear, kind: str, by: User) -> Permit:
    """Open a draft packet. Raises PermitError when the student already has a live
    request of that kind for that year, or the year does not take requests today."""
    if student.family_id != family.pk:
        raise PermitError(_("This student is not part of your family."))
    today = clock.local_date(timezone.now(), District.get().time_zone)
    if not school_year.accepts_requests_on(today):
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
    PermitEvent.objects.create(permit=permit, kind=PermitEvent.Kind.CREATED, actor=by)
    return permit


@transaction.atomic
def add_document(*, permit_id: int, document_type: DocumentType, upload: UploadedFile, by: User) -> Document:
    """Check and store one file for the packet under a key the server chooses.
    Raises ValidationError for a file that is not acceptable, PermitError when the
    packet no longer takes documents or would grow past its size limit."""
    permit = _lock(permit_id)
    if permit.status not in (Permit.Status.DRAFT, Permit.Status.INFO_REQUESTED):
        raise PermitError(_("Documents can no longer be added to this request."))
    return store_document(permit=permit, document_type=document_type, upload=upload, by=by)


def store_document(*, permit: Permit, document_type: DocumentType, upload: UploadedFile, by: User) -> Document:
    """Check a file and store it on a locked permit under a key the server chooses."""
    district = District.get()
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
        PermitEvent.objects.create(
            permit=permit,
            kind=PermitEvent.Kind.DOCUMENT_ADDED,
            actor=by,
            note=f"{document_type.name_en}: {checked.display_name}",
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
    permit = _lock(document.permit_id)
    if permit.status != Permit.Status.DRAFT:
        raise PermitError(_("Documents of a submitted request cannot be removed."))
    name = document.file.name
    PermitEvent.objects.create(
        permit=permit,
        kind=PermitEvent.Kind.DOCUMENT_REMOVED,
        actor=by,
        note=f"{document.document_type.name_en}: {document.original_name}",
    )
    document.delete()
    transaction.on_commit(lambda: document.file.storage.delete(name))


@transaction.atomic
def submit_permit(*, permit_id: int, by: User) -> Permit:
    """Submit a complete draft: record when it was received and the legal clocks,
    audit it and queue the receipt email, all in one transaction (with the broker
    down the email waits in the outbox). Raises MissingDocuments listing what is
    still needed, or TransitionNotAllowed for a second submission."""
    permit = _lock(permit_id)
    if permit.status != Permit.Status.DRAFT:
        raise TransitionNotAllowed(permit.status, Permit.Status.SUBMITTED)
    missing = selectors.missing_documents(permit)
    if missing:
        raise MissingDocuments(missing)
    district = District.get()
    permit.received_at = timezone.now()
    deadlines = clock.deadlines_for(
        received_at=permit.received_at,
        first_day_of_instruction=permit.school_year.first_day_of_instruction,
        time_zone=district.time_zone,
        service_level_days=district.service_level_days,
    )
    permit.year_type = deadlines.year_type
    permit.legal_due_date = deadlines.legal_due
    permit.district_due_date = deadlines.district_due
    permit.due_date = deadlines.due
    permit.attested_by = by
    permit.save(
        update_fields=[
            "received_at",
            "year_type",
            "legal_due_date",
            "district_due_date",
            "due_date",
            "attested_by",
        ]
    )
    event = change_status(permit, Permit.Status.SUBMITTED, by=by)
    notify_family(event=event, template="permit_received", context={"deadlines": deadlines})
    return permit


@transaction.atomic
def withdraw_permit(*, permit_id: int, by: User, note: str = "") -> Permit:
    """The family withdraws a request before a decision."""
    permit = _lock(permit_id)
    if not permit.can_be_withdrawn:
        raise TransitionNotAllowed(permit.status, Permit.Status.WITHDRAWN)
    was_draft = permit.status == Permit.Status.DRAFT
    event = change_status(permit, Permit.Status.WITHDRAWN, by=by, note=note)
    if not was_draft:
        notify_family(event=event, template="permit_withdrawn")
    return permit
