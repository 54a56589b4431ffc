import csv
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from permits.downloads import document_response
from permits.models import Permit
from permits.selectors import checklist
from permits.services import PermitError

from . import reports, selectors, services
from .access import get_document_for_staff, get_permit_for_staff, record_access, require, scope_of
from .forms import (
    AppealDecisionForm,
    ApproveForm,
    AssignForm,
    BulkApproveForm,
    CountyAppealForm,
    CountyDecisionForm,
    DenyForm,
    NoteForm,
    QueueFilterForm,
    RejectDocumentForm,
    RequestInfoForm,
    RevokeForm,
    SiteReviewForm,
    VoidForm,
)
from .models import Appeal, RecordAccess


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
            "scope": scope,
            "query": query.urlencode(),
            "today": services._today(),
            "bulk_form": BulkApproveForm(),
        },
    )


@require_GET
def permit_review(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for_staff(request.user, pk)
    scope = scope_of(request.user)
    seat_school = permit.placed_school or permit.requested_school
    return render(
        request,
        "reviews/permit_review.html",
        {
            "permit": permit,
            "scope": scope,
            "items": checklist(permit),
            "extra_documents": [
                d
                for d in permit.documents.select_related("document_type")
                if d.document_type_id not in {i.document_type.pk for i in checklist(permit)}
            ],
            "events": permit.events.select_related("actor"),
            "notes": permit.notes.select_related("author"),
            "info_requests": permit.information_requests.prefetch_related("document_types"),
            "appeals": permit.appeals.all(),
            "seats": selectors.seats_for(seat_school, permit.school_year, permit.grade),
            "related": selectors.related_packets(permit),
            "blockers": services.approval_blockers(permit) if permit.is_open else [],
            "emails": permit.emails.order_by("queued_at"),
            "letters": permit.letters.all(),
            "today": services._today(),
            "forms": {
                "assign": AssignForm(),
                "note": NoteForm(),
                "reject": RejectDocumentForm(),
                "info": RequestInfoForm(),
                "approve": ApproveForm(),
                "deny": DenyForm(),
                "void": VoidForm(),
                "revoke": RevokeForm(),
                "site_review": SiteReviewForm(),
                "appeal": AppealDecisionForm(),
                "county": CountyAppealForm(),
                "county_decision": CountyDecisionForm(),
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


def _act(
    request: HttpRequest, pk: int, action: str, form_class, perform: Callable[[Permit, dict], str]
) -> HttpResponse:
    """The shape of every staff action: scoped lookup (404/403), form, service, message."""
    permit = get_permit_for_staff(request.user, pk, action)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        try:
            messages.success(request, perform(permit, form.cleaned_data if form else {}))
        except PermitError as error:
            messages.error(request, str(error))
    return redirect("staff_permit", pk=permit.pk)


@require_POST
def claim(request, pk):
    def perform(permit, data):
        services.claim_permit(permit_id=permit.pk, by=request.user)
        return _("You are now reviewing %(ref)s.") % {"ref": permit.reference}

    return _act(request, pk, "work", None, perform)


@require_POST
def assign(request, pk):
    def perform(permit, data):
        services.assign_permit(permit_id=permit.pk, to=data["technician"], by=request.user)
        return _("Assigned to %(name)s.") % {"name": data["technician"]}

    return _act(request, pk, "assign", AssignForm, perform)


@require_POST
def add_note(request, pk):
    def perform(permit, data):
        services.add_note(permit_id=permit.pk, by=request.user, text=data["text"])
        return _("Note added.")

    return _act(request, pk, "note", NoteForm, perform)


@require_POST
def request_info(request, pk):
    def perform(permit, data):
        req = services.request_information(
            permit_id=permit.pk,
            by=request.user,
            message=data["message"],
            document_types=list(data["document_types"]),
            due_date=data["due_date"],
        )
        return _("Information requested; the family has until %(date)s.") % {"date": date_format(req.due_date)}

    return _act(request, pk, "work", RequestInfoForm, perform)


@require_POST
def approve(request, pk):
    def perform(permit, data):
        services.approve_permit(permit_id=permit.pk, by=request.user, school=data["school"], note=data["note"])
        return _("%(ref)s approved. The family is being emailed.") % {"ref": permit.reference}

    return _act(request, pk, "work", ApproveForm, perform)


@require_POST
def deny(request, pk):
    def perform(permit, data):
        result = services.deny_permit(permit_id=permit.pk, by=request.user, reasons=data["reasons"], note=data["note"])
        if result.status == Permit.Status.DENIED:
            return _("%(ref)s denied. The family is told of the right to appeal.") % {"ref": permit.reference}
        return _("Denial recommended; the director will confirm it.")

    return _act(request, pk, "work", DenyForm, perform)


@require_POST
def confirm_denial(request, pk):
    def perform(permit, data):
        services.confirm_denial(permit_id=permit.pk, by=request.user)
        return _("%(ref)s denied. The family is told of the right to appeal.") % {"ref": permit.reference}

    return _act(request, pk, "confirm_denial", None, perform)


@require_POST
def void(request, pk):
    def perform(permit, data):
        services.void_permit(permit_id=permit.pk, by=request.user, reason=data["reason"])
        return _("%(ref)s voided.") % {"ref": permit.reference}

    return _act(request, pk, "work", VoidForm, perform)


@require_POST
def revoke(request, pk):
    def perform(permit, data):
        services.revoke_permit(
            permit_id=permit.pk, by=request.user, reason=data["reason"], effective_on=data["effective_on"]
        )
        return _("%(ref)s revoked.") % {"ref": permit.reference}

    return _act(request, pk, "revoke", RevokeForm, perform)


@require_POST
def site_review(request, pk):
    def perform(permit, data):
        services.record_site_review(
            permit_id=permit.pk,
            by=request.user,
            recommend_revocation=data["recommend_revocation"],
            reason=data["reason"],
        )
        return _("Review recorded.")

    return _act(request, pk, "site_review", SiteReviewForm, perform)


@require_POST
def decide_appeal(request, pk):
    def perform(permit, data):
        appeal = get_object_or_404(Appeal, permit=permit, level=Appeal.Level.INTERNAL)
        services.decide_internal_appeal(
            appeal_id=appeal.pk, by=request.user, overturned=data["outcome"] == "overturned", school=data["school"]
        )
        return _("Appeal decision recorded.")

    return _act(request, pk, "appeals", AppealDecisionForm, perform)


@require_POST
def county_appeal(request, pk):
    def perform(permit, data):
        services.record_county_appeal(permit_id=permit.pk, by=request.user, **data)
        return _("County appeal recorded.")

    return _act(request, pk, "appeals", CountyAppealForm, perform)


@require_POST
def county_decision(request, pk):
    def perform(permit, data):
        appeal = get_object_or_404(Appeal, permit=permit, level=Appeal.Level.COUNTY)
        services.decide_county_appeal(appeal_id=appeal.pk, by=request.user, **data)
        return _("County decision recorded.")

    return _act(request, pk, "appeals", CountyDecisionForm, perform)


def _document_action(request, pk: int, verified: bool) -> HttpResponse:
    document = get_document_for_staff(request.user, pk, "work")
    form = RejectDocumentForm(request.POST) if not verified else None
    reason = form.cleaned_data["reason"] if form is not None and form.is_valid() else ""
    try:
        services.review_document(document_id=document.pk, by=request.user, verified=verified, reason=reason)
    except PermitError as error:
        messages.error(request, str(error))
    return redirect(reverse("staff_permit", args=[document.permit_id]) + f"#document-{document.pk}")


@require_POST
def verify_document(request, pk):
    return _document_action(request, pk, verified=True)


@require_POST
def reject_document(request, pk):
    return _document_action(request, pk, verified=False)


@require_POST
def bulk_approve(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, "work")
    ids = [int(v) for v in request.POST.getlist("permits") if v.isdigit()]
    # Only packets inside the user's scope; the rest are silently out of reach.
    visible = list(scope.permits().filter(pk__in=ids).values_list("pk", flat=True))
    result = services.bulk_approve(permit_ids=visible, by=request.user)
    return render(request, "reviews/bulk_result.html", {"result": result})


@require_GET
def periodic_review(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, "site_review")
    permits = (
        scope.permits(Permit.objects.filter(status=Permit.Status.APPROVED))
        .select_related("student", "placed_school", "school_year")
        .prefetch_related("site_reviews")
        .order_by("placed_school__name", "student__legal_last_name")
    )
    return render(request, "reviews/periodic_review.html", {"permits": permits, "form": SiteReviewForm()})


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
    today = services._today()
    return render(request, "reviews/compliance.html", {"data": reports.compliance(today), "today": today})


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
