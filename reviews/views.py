"""The staff desk's pages and actions.

Every action has the same straight shape: `@require_POST`, the scoped lookup (404
outside the user's scope, 403 for a role that may not take the action), the form,
one service call, a message, a redirect to the permit's review page.
"""

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from boundaries.models import ResidenceReview, School
from boundaries.services import ReviewError, decide_review, open_reviews
from permits import clock, protections, rights, terms
from permits import services as permits
from permits.downloads import document_response, file_response
from permits.models import Appeal, District, Letter, Permit
from permits.selectors import checklist
from permits.services import PermitError

from . import reports, selectors, services
from .access import get_document_for_staff, get_permit_for_staff, record_access, require, scope_of
from .forms import (
    AppealDecisionForm,
    ApproveForm,
    AssignForm,
    CountyAppealForm,
    CountyDecisionForm,
    DenyForm,
    EndProvisionalAttendanceForm,
    LetterFilterForm,
    NoteForm,
    ProvisionalAttendanceForm,
    QueueFilterForm,
    RecordReleaseForm,
    RejectDocumentForm,
    RequestInfoForm,
    ResidenceDecisionForm,
    RevokeForm,
    SiteReviewForm,
    VoidForm,
)
from .models import LetterBatch, RecordAccess


def _form_errors(request: HttpRequest, form) -> None:
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))


def _back(permit: Permit) -> HttpResponse:
    return redirect("staff_permit", pk=permit.pk)


# --- Pages ------------------------------------------------------------------------


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    form = QueueFilterForm(request.GET or None)
    page = selectors.queue(scope, form.filters(), user=request.user, after=request.GET.get("after", ""))
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "reviews/queue.html",
        {
            "form": form,
            "page": page,
            "appeals": selectors.pending_internal_appeals(scope),
            # One count, for those who may decide them (reviews.access: "work").
            "addresses_to_review": open_reviews().count() if scope.may("work") else 0,
            "scope": scope,
            "query": query.urlencode(),
            "today": clock.today(),
        },
    )


@require_GET
def permit_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page of one permit: documents, history, seats and the actions the
    user's role may take."""
    permit = get_permit_for_staff(request.user, pk)
    prefetch_related_objects(
        [permit],
        "documents__document_type",
        "requested_school",
        "placed_school",
        "school_of_residence",
        "reason",
        "assigned_to",
        "release_received_by",
        "denial_recommended_by",
        "appeals",  # the list, the appeal rights and whether an appeal is pending share them
        "residence",
    )
    scope = scope_of(request.user)
    items = checklist(permit)  # once: the page and the approval blockers share it
    listed = {item.document_type.pk for item in items}
    seat_school = permit.placed_school or permit.requested_school
    provisional = list(permit.provisional_attendances.select_related("school"))
    return render(
        request,
        "reviews/permit_review.html",
        {
            "permit": permit,
            "scope": scope,
            "items": items,
            "extra_documents": [d for d in permit.documents.all() if d.document_type_id not in listed],
            "events": permit.events.select_related("actor"),
            "notes": permit.notes.select_related("author"),
            "info_requests": permit.information_requests.prefetch_related("document_types"),
            "appeals": permit.appeals.all(),
            "appeal_rights": rights.current(permit),
            "term": terms.term_of(permit) if permit.term_years else None,
            "decision_rule": protections.decision_rule(permit),
            "seats": selectors.seats_for(seat_school, permit.school_year, permit.grade),
            "related": selectors.related_packets(permit, scope),
            "residence_check": selectors.residence_check(permit),
            "blockers": permits.approval_blockers(permit, items) if permit.is_open else [],
            "emails": permit.emails.order_by("queued_at"),
            "letters": permit.letters.all(),
            "provisional": provisional,
            "provisional_open": next((a for a in provisional if a.ended_on is None), None),
            "decision_pending": permits.decision_pending(permit),
            # A technician's denial is only a recommendation unless the district lets technicians deny.
            "final_denial": scope.may_deny_finally(District.current()),
            "today": clock.today(),
            "forms": {
                "assign": AssignForm(),
                "note": NoteForm(),
                "reject": RejectDocumentForm(),
                "info": RequestInfoForm(
                    initial={"due_date": permits.default_information_due_date(permit, clock.today())},
                    may_override=scope.may("override_info_deadline"),
                ),
                "approve": ApproveForm(),
                "deny": DenyForm(permit=permit),
                "void": VoidForm(),
                "release": RecordReleaseForm(),
                "revoke": RevokeForm(),
                "site_review": SiteReviewForm(),
                "appeal": AppealDecisionForm(),
                "county": CountyAppealForm(),
                "county_decision": CountyDecisionForm(),
                "provisional": ProvisionalAttendanceForm(initial={"school": seat_school, "started_on": clock.today()}),
                "provisional_end": EndProvisionalAttendanceForm(initial={"ended_on": clock.today()}),
            },
        },
    )


@require_GET
@xframe_options_sameorigin
def document_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The document inline, for the viewer on the review page (same origin only)."""
    document = get_document_for_staff(request.user, pk)
    record_access(request, document=document, purpose=RecordAccess.Purpose.PERMIT_REVIEW)
    return document_response(document, inline=True)


# --- Actions on one permit --------------------------------------------------------


@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "work")
    try:
        permits.claim_permit(permit_id=permit.pk, by=request.user)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You are now reviewing %(ref)s.") % {"ref": permit.reference})
    return _back(permit)


@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "assign")
    form = AssignForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    technician = form.cleaned_data["technician"]
    try:
        services.assign_permit(permit_id=permit.pk, to=technician, by=request.user)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Assigned to %(name)s.") % {"name": technician})
    return _back(permit)


@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "note")
    form = NoteForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    services.add_note(permit_id=permit.pk, by=request.user, text=form.cleaned_data["text"])
    messages.success(request, _("Note added."))
    return _back(permit)


@require_POST
def request_info(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the family for more. A deadline on or after the legal due date only from a
    director, with a reason (the service refuses it otherwise)."""
    permit = get_permit_for_staff(request.user, pk, "work")
    may_override = scope_of(request.user).may("override_info_deadline")
    form = RequestInfoForm(request.POST, may_override=may_override)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        info = permits.request_information(
            permit_id=permit.pk,
            by=request.user,
            message=form.cleaned_data["message"],
            document_types=list(form.cleaned_data["document_types"]),
            due_date=form.cleaned_data["due_date"],
            override_reason=form.cleaned_data.get("override_reason", ""),
            may_override=may_override,
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Information requested; the family has until %(date)s.") % {"date": date_format(info.due_date)}
        )
    return _back(permit)


@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "work")
    form = ApproveForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.approve_permit(
            permit_id=permit.pk, by=request.user, school=form.cleaned_data["school"], note=form.cleaned_data["note"]
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(ref)s approved. The family is being emailed.") % {"ref": permit.reference})
    return _back(permit)


@require_POST
def deny(request: HttpRequest, pk: int) -> HttpResponse:
    """A director's denial is final; a technician's is a recommendation the director
    confirms, unless the district lets technicians deny."""
    permit = get_permit_for_staff(request.user, pk, "work")
    form = DenyForm(request.POST, permit=permit)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    final = scope_of(request.user).may_deny_finally(District.current())
    try:
        permits.deny_permit(
            permit_id=permit.pk,
            by=request.user,
            reasons=form.cleaned_data["reasons"],
            note=form.cleaned_data["note"],
            final=final,
        )
    except PermitError as error:
        messages.error(request, str(error))
        return _back(permit)
    if final:
        messages.success(
            request, _("%(ref)s denied. The family is told of the right to appeal.") % {"ref": permit.reference}
        )
    else:
        messages.success(
            request,
            _(
                "Your recommendation to deny %(ref)s is recorded. It is not a denial yet: the packet stays open "
                "until the director confirms it, and the family is not told until then."
            )
            % {"ref": permit.reference},
        )
    return _back(permit)


@require_POST
def confirm_denial(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "confirm_denial")
    try:
        permits.confirm_denial(permit_id=permit.pk, by=request.user)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("%(ref)s denied. The family is told of the right to appeal.") % {"ref": permit.reference}
        )
    return _back(permit)


@require_POST
def void(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a request off the legal clock for a listed reason: the director only."""
    permit = get_permit_for_staff(request.user, pk, "void")
    form = VoidForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.void_permit(
            permit_id=permit.pk,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(ref)s voided.") % {"ref": permit.reference})
    return _back(permit)


@require_POST
def record_release(request: HttpRequest, pk: int) -> HttpResponse:
    """The release came another way (on paper, the other district's verification
    code): recorded with who, when and how, so no file needs verifying."""
    permit = get_permit_for_staff(request.user, pk, "work")
    form = RecordReleaseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.receive_release(permit_id=permit.pk, by=request.user, how=form.cleaned_data["how"])
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The release of %(ref)s is recorded.") % {"ref": permit.reference})
    return _back(permit)


@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "revoke")
    form = RevokeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.revoke_permit(
            permit_id=permit.pk,
            by=request.user,
            reason=form.cleaned_data["reason"],
            effective_on=form.cleaned_data["effective_on"],
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(ref)s revoked.") % {"ref": permit.reference})
    return _back(permit)


@require_POST
def site_review(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "site_review")
    form = SiteReviewForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        services.record_site_review(
            permit_id=permit.pk,
            by=request.user,
            recommend_revocation=form.cleaned_data["recommend_revocation"],
            reason=form.cleaned_data["reason"],
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Review recorded."))
    return _back(permit)


@require_POST
def decide_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "appeals")
    appeal = get_object_or_404(Appeal, permit=permit, level=Appeal.Level.INTERNAL)
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.decide_internal_appeal(
            appeal_id=appeal.pk,
            by=request.user,
            overturned=form.cleaned_data["outcome"] == Appeal.Outcome.OVERTURNED,
            school=form.cleaned_data["school"],
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Appeal decision recorded."))
    return _back(permit)


@require_POST
def county_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "appeals")
    form = CountyAppealForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.record_county_appeal(permit_id=permit.pk, by=request.user, **form.cleaned_data)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("County appeal recorded."))
    return _back(permit)


@require_POST
def county_decision(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "appeals")
    appeal = get_object_or_404(Appeal, permit=permit, level=Appeal.Level.COUNTY)
    form = CountyDecisionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.decide_county_appeal(appeal_id=appeal.pk, by=request.user, **form.cleaned_data)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("County decision recorded."))
    return _back(permit)


@require_POST
def start_provisional(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "work")
    form = ProvisionalAttendanceForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        attendance = permits.start_provisional_attendance(permit_id=permit.pk, by=request.user, **form.cleaned_data)
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Provisional attendance recorded: allowed until %(date)s.") % {"date": date_format(attendance.ends_by)},
        )
    return _back(permit)


@require_POST
def end_provisional(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk, "work")
    attendance = get_object_or_404(permit.provisional_attendances, ended_on__isnull=True)
    form = EndProvisionalAttendanceForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(permit)
    try:
        permits.end_provisional_attendance(
            attendance_id=attendance.pk, by=request.user, ended_on=form.cleaned_data["ended_on"]
        )
    except PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Provisional attendance ended."))
    return _back(permit)


@require_POST
def verify_document(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for_staff(request.user, pk, "work")
    try:
        services.review_document(document_id=document.pk, by=request.user, verified=True)
    except PermitError as error:
        messages.error(request, str(error))
    return redirect(reverse("staff_permit", args=[document.permit_id]) + f"#document-{document.pk}")


@require_POST
def reject_document(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for_staff(request.user, pk, "work")
    form = RejectDocumentForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.review_document(document_id=document.pk, by=request.user, verified=False, reason=reason)
    except PermitError as error:
        messages.error(request, str(error))
    return redirect(reverse("staff_permit", args=[document.permit_id]) + f"#document-{document.pk}")


@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, "work")
    ids = [int(v) for v in request.POST.getlist("permits") if v.isdigit()]
    # Only permits inside the user's scope; the rest are silently out of reach.
    visible = list(scope.permits().filter(pk__in=ids).values_list("pk", flat=True))
    result = services.bulk_approve(permit_ids=visible, by=request.user)
    return render(request, "reviews/bulk_result.html", {"result": result})


# --- Addresses the boundary lookup could not place -----------------------------------


@require_GET
def residence_reviews(request: HttpRequest) -> HttpResponse:
    """Addresses waiting for a school of residence, oldest first, each with its packets
    and a decision form; below them the decisions taken, most recent first."""
    scope = require(request.user, "work")
    waiting = selectors.residence_reviews(decided=False, after=request.GET.get("after", ""))
    decided = selectors.residence_reviews(decided=True, after=request.GET.get("decided_after", ""))
    packets = selectors.packets_at(scope, [r.residence_id for r in waiting.reviews + decided.reviews])
    schools = list(School.objects.all()) if waiting.reviews else []
    return render(
        request,
        "reviews/residencereview_list.html",
        {
            "waiting": [
                {
                    "review": r,
                    "packets": packets[r.residence_id],
                    "form": ResidenceDecisionForm(review=r, schools=schools),
                }
                for r in waiting.reviews
            ],
            "decided": [{"review": r, "packets": packets[r.residence_id]} for r in decided.reviews],
            "next_waiting": urlencode({"after": waiting.next_cursor}) if waiting.next_cursor else "",
            "next_decided": urlencode({"decided_after": decided.next_cursor}) if decided.next_cursor else "",
        },
    )


@require_POST
def decide_residence(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the school of residence of one address. The service locks the review and
    refuses a second decision, so a double click or a second tab changes nothing."""
    require(request.user, "work")
    review = get_object_or_404(ResidenceReview.objects.select_related("residence"), pk=pk)
    form = ResidenceDecisionForm(request.POST, review=review)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("staff_addresses")
    school = form.cleaned_data["school"]
    try:
        decide_review(review_id=review.pk, school=school, by=request.user, why=form.cleaned_data["why"])
    except ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(address)s, grades %(span)s: %(school)s is the school of residence.")
            % {"address": review.residence, "span": review.grade_span, "school": school},
        )
    return redirect("staff_addresses")


# --- Lists and reports --------------------------------------------------------------


@require_GET
def periodic_review(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, "site_review")
    approved = (
        scope.permits(Permit.objects.filter(status=Permit.Status.APPROVED))
        .select_related("student", "placed_school", "school_year")
        .prefetch_related("site_reviews")
        .order_by("placed_school__name", "student__legal_last_name")
    )
    return render(request, "reviews/periodic_review.html", {"permits": approved, "form": SiteReviewForm()})


@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """The record of disclosures, for the director: who opened which student's records."""
    require(request.user, "audit")
    entries = RecordAccess.objects.select_related("user", "permit__student", "document__document_type", "letter")
    if reference := request.GET.get("reference", "").strip():
        entries = entries.filter(permit__reference__iexact=reference)
    return render(request, "reviews/access_log.html", {"entries": entries[:500], "reference": reference})


@require_GET
def compliance(request: HttpRequest) -> HttpResponse:
    require(request.user, "reports")
    today = clock.today()
    return render(
        request,
        "reviews/compliance.html",
        {"data": reports.compliance(today), "provisional": reports.open_provisional_attendances(), "today": today},
    )


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    require(request.user, "reports")
    data = reports.build(school_year_id=request.GET.get("school_year") or None)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="permit-report.csv"'
        writer = csv.writer(response)
        for row in reports.csv_rows(data):
            writer.writerow(row)
        return response
    return render(request, "reviews/report.html", {"data": data})


# --- Letters --------------------------------------------------------------------------


def _pdf_response(file, filename: str) -> HttpResponse:
    return file_response(file, filename=filename, content_type="application/pdf")


@require_GET
def staff_letter(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        letter = Letter.objects.get(pk=pk, rendered_at__isnull=False)
    except Letter.DoesNotExist:
        raise Http404 from None
    get_permit_for_staff(request.user, letter.permit_id)  # 404 outside the user's scope
    record_access(request, letters=[letter], purpose=RecordAccess.Purpose.PERMIT_REVIEW)
    return _pdf_response(letter.pdf, letter.filename)


@require_GET
def letter_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "letters")
    form = LetterFilterForm(request.GET or None)
    letters = form.letters()
    return render(
        request,
        "reviews/letter_list.html",
        {
            "form": form,
            "letters": letters[:200],
            "count": letters.count(),
            "batches": LetterBatch.objects.filter(requested_by=request.user).order_by("-created_at")[:10],
        },
    )


@require_POST
def batch_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "letters")
    form = LetterFilterForm(request.POST)
    letters = list(form.letters()[:2000])
    if not letters:
        messages.error(request, _("No letters match these filters."))
        return redirect("letter_list")
    batch = services.start_batch(letters=letters, by=request.user, description=form.describe())
    return redirect("letter_batch", pk=batch.pk)


def _batch_for(user, pk: int) -> LetterBatch:
    require(user, "letters")
    try:
        return LetterBatch.objects.get(pk=pk, requested_by=user)
    except LetterBatch.DoesNotExist:
        raise Http404 from None


@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "reviews/letterbatch_detail.html", {"batch": _batch_for(request.user, pk)})


@require_GET
def batch_status(request: HttpRequest, pk: int) -> JsonResponse:
    batch = _batch_for(request.user, pk)
    return JsonResponse({"status": batch.status, "done": batch.done, "total": batch.total, "percent": batch.percent})


@require_GET
def batch_download(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request.user, pk)
    if batch.status != LetterBatch.Status.DONE:
        raise Http404
    record_access(request, letters=batch.letters.all(), purpose=RecordAccess.Purpose.LETTER_PRINT)
    return _pdf_response(batch.pdf, f"letters-batch-{batch.pk}.pdf")
