import logging
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applicants.access import family_of
from applicants.models import Grade
from boundaries.lookup import find_school
from boundaries.services import school_of_residence
from config.clients import client_address

from . import clock, rights, selectors, services, terms
from .access import get_document_for, get_permit_for
from .downloads import document_response, file_response
from .forms import (
    AnswerForm,
    AppealForm,
    FindSchoolForm,
    PermitDetailsForm,
    ReleaseForm,
    StartPermitForm,
    SubmitForm,
    UploadForm,
    WithdrawForm,
    school_year_applied_for,
)
from .models import Appeal, District, DocumentRule, Letter, Permit, PermitEvent, PermitKind, Reason, SchoolYear

log = logging.getLogger(__name__)
VERIFY_LIMIT_PER_MINUTE = 20
FIND_SCHOOL_LIMIT_PER_MINUTE = 20
# Every verification code ever issued: 10 characters (notifications/letters.py) of
# unambiguous_code's alphabet (permits/models.py). Anything else is unknown without a
# query: PostgreSQL refuses a NUL in a string.
VERIFICATION_CODE = re.compile(r"[2-9A-HJ-NP-Z]{10}")

WIZARD_STEPS = [
    ("start", gettext_lazy("Start")),
    ("details", gettext_lazy("Details")),
    ("documents", gettext_lazy("Documents")),
    ("confirm", gettext_lazy("Review and submit")),
]


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "permits/home.html", {"school_years": SchoolYear.objects.all()[:3]})


@login_not_required
@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The district's public policy (EC 46600.2(a)): the timelines come from the rule
    set in force today, the appeals from the district's configuration."""
    rules = DocumentRule.objects.select_related("document_type", "reason").order_by(
        "kind", "reason__position", "position"
    )
    return render(
        request,
        "permits/policy.html",
        {
            "school_years": SchoolYear.objects.all()[:3],
            "reasons": Reason.objects.filter(is_active=True),
            "rules_by_kind": _rules_by_kind(rules),
            "law": clock.rules_on(clock.today()),
        },
    )


def _rules_by_kind(rules) -> list[tuple[str, list[DocumentRule]]]:
    return [(label, [r for r in rules if r.kind == kind]) for kind, label in PermitKind.choices]


@require_GET
def family_dashboard(request: HttpRequest) -> HttpResponse:
    family = family_of(request.user)
    students = selectors.family_dashboard(family)
    residence = family.residences.first()
    school_year = school_year_applied_for()
    if residence is not None and school_year is not None:
        # Once per grade, not per student: the page's queries stay bounded by the
        # number of grades however many students the family has.
        findings = {}
        for student in students:
            if student.grade not in findings:
                findings[student.grade] = school_of_residence(residence, student.grade, school_year.name)
            student.residence_finding = findings[student.grade]
    return render(
        request,
        "permits/family_dashboard.html",
        {"family": family, "students": students, "residence": residence, "school_year": school_year},
    )


@require_http_methods(["GET", "POST"])
def permit_start(request: HttpRequest) -> HttpResponse:
    family = family_of(request.user)
    form = StartPermitForm(request.POST or None, family=family, initial=request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            permit = services.start_permit(family=family, by=request.user, **form.cleaned_data)
        except services.PermitError as error:
            messages.error(request, str(error))
        else:
            return redirect("permit_details", pk=permit.pk)
    rules = DocumentRule.objects.select_related("document_type", "reason").order_by(
        "kind", "reason__position", "position"
    )
    return render(
        request,
        "permits/permit_start.html",
        {
            "form": form,
            "rules_by_kind": _rules_by_kind(rules),
            "steps": WIZARD_STEPS,
            "step": "start",
            "intra_start": _intra_start(form.cleaned_data["student"], form.cleaned_data["school_year"])
            if form.is_bound and form.lives_in_district
            else "",
        },
    )


def _intra_start(student, school_year: SchoolYear) -> str:
    """The start page with an intra-district request for this student and year chosen."""
    query = urlencode({"student": student.pk, "school_year": school_year.pk, "kind": PermitKind.INTRA})
    return f"{reverse('permit_start')}?{query}"


def _wizard(request, permit: Permit, step: str, status: int = 200, **context) -> HttpResponse:
    return render(
        request,
        f"permits/permit_{step}.html",
        {"permit": permit, "steps": WIZARD_STEPS, "step": step, **context},
        status=status,
    )


def _draft_or_detail(permit: Permit) -> HttpResponse | None:
    """Wizard pages only edit drafts; anything else shows the packet's own page."""
    if permit.status != Permit.Status.DRAFT:
        return redirect("permit_detail", pk=permit.pk)
    return None


@require_http_methods(["GET", "POST"])
def permit_details(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    if response := _draft_or_detail(permit):
        return response
    form = PermitDetailsForm(request.POST or None, instance=permit)
    if request.method == "POST" and form.is_valid():
        form.instance.wizard_step = "documents"
        form.save()
        if "save_and_exit" in request.POST:
            messages.success(request, _("Your request is saved. You can finish it later."))
            return redirect("family_dashboard")
        return redirect("permit_documents", pk=permit.pk)
    intra_start = _intra_start(permit.student, permit.school_year) if form.lives_in_district else ""
    return _wizard(request, permit, "details", form=form, intra_start=intra_start)


@require_http_methods(["GET", "POST"])
def permit_documents(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    if permit.status not in (Permit.Status.DRAFT, Permit.Status.INFO_REQUESTED):
        return redirect("permit_detail", pk=permit.pk)
    items = selectors.checklist(permit)
    form = UploadForm(request.POST or None, request.FILES or None, document_types=[i.document_type for i in items])
    wants_json = "application/json" in request.headers.get("Accept", "")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_document(
                    permit_id=permit.pk,
                    document_type=form.cleaned_data["document_type"],
                    upload=form.cleaned_data["file"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error("file", error)
            except services.PermitError as error:
                form.add_error(None, str(error))
        if form.is_valid():
            messages.success(
                request, _("%(document)s was added.") % {"document": form.cleaned_data["document_type"].name}
            )
            url = reverse("permit_documents", args=[permit.pk])
            return JsonResponse({"redirect": url}) if wants_json else redirect(url)
        status = 400
        if wants_json:
            errors = [str(e) for field in form.errors.values() for e in field]
            return JsonResponse({"errors": errors}, status=400)
    return _wizard(
        request,
        permit,
        "documents",
        form=form,
        items=items,
        status=status,
        district=District.current(),
        answer_form=AnswerForm(),
        info_request=selectors.open_information_request(permit),
    )


@require_POST
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document_for(request.user, pk)
    try:
        services.remove_document(document_id=document.pk, by=request.user)
    except services.PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s was removed.") % {"name": document.original_name})
    return redirect("permit_documents", pk=document.permit_id)


@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    return document_response(get_document_for(request.user, pk))


@require_GET
def permit_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    if response := _draft_or_detail(permit):
        return response
    return _wizard(request, permit, "confirm", form=SubmitForm(), **_confirm_context(permit))


def _confirm_context(permit: Permit) -> dict:
    """What the confirm page shows before the family presses submit: each of
    services.submit_permit's refusals that would apply."""
    return {
        "missing": selectors.missing_documents(permit),
        "items": selectors.checklist(permit),
        "address_error": None if permit.family.has_address else services.MissingAddress(permit.kind),
    }


@require_POST
def permit_submit(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    if permit.status != Permit.Status.DRAFT:
        # A second click, a second tab: the first submission stands.
        messages.info(request, _("This request was already submitted."))
        return redirect("permit_detail", pk=permit.pk)
    form = SubmitForm(request.POST)
    if form.is_valid():
        try:
            services.submit_permit(permit_id=permit.pk, by=request.user)
        except services.MissingDocuments as error:
            messages.error(request, str(error))
        except services.MissingAddress:
            pass  # the page below says it beside the link to the profile, once rather than twice
        except services.TransitionNotAllowed:
            messages.info(request, _("This request was already submitted."))
            return redirect("permit_detail", pk=permit.pk)
        else:
            messages.success(
                request,
                _("Your request %(reference)s was received. We emailed you a receipt.")
                % {"reference": permit.reference},
            )
            return redirect("permit_detail", pk=permit.pk)
    return _wizard(request, permit, "confirm", form=form, status=400, **_confirm_context(permit))


@require_GET
def permit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    prefetch_related_objects([permit], "appeals")  # the list and the appeal rights share them
    appeals = list(permit.appeals.all())
    appeal_rights = rights.current(permit)
    may_appeal = (
        permit.status == Permit.Status.DENIED
        and appeal_rights.internal_open_on(clock.today())
        and not any(a.level == Appeal.Level.INTERNAL for a in appeals)
    )
    return render(
        request,
        "permits/permit_detail.html",
        {
            "permit": permit,
            "items": selectors.checklist(permit),
            "events": permit.events.filter(kind__in=PermitEvent.FAMILY_VISIBLE),
            "withdraw_form": WithdrawForm(),
            "release_form": ReleaseForm() if _awaits_release(permit) else None,
            "appeal_rights": appeal_rights,
            "may_appeal": may_appeal,
            "appeals": appeals,
            "letters": permit.letters.filter(rendered_at__isnull=False),
            "emails": permit.emails.order_by("queued_at", "pk"),
            "term": terms.term_of(permit) if permit.kind != PermitKind.INTRA else None,
            "awaits_confirmation": terms.awaits_confirmation(permit),
            "info_request": selectors.open_information_request(permit),
            # The address the packet was submitted from, and what the lookup says of it.
            "residence_finding": school_of_residence(permit.residence, permit.grade, permit.school_year.name)
            if permit.residence is not None
            else None,
        },
    )


def _awaits_release(permit: Permit) -> bool:
    return permit.kind == PermitKind.INTER_IN and permit.release_pending and permit.is_open


@require_POST
def permit_release(request: HttpRequest, pk: int) -> HttpResponse:
    """The family uploads the home district's release that it did not have when it
    submitted; the technician verifies it like any other document."""
    permit = get_permit_for(request.user, pk)
    form = ReleaseForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("permit_detail", pk=permit.pk)
    try:
        services.receive_release(permit_id=permit.pk, by=request.user, upload=form.cleaned_data["file"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except services.PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you. The release was sent to the district."))
    return redirect("permit_detail", pk=permit.pk)


@require_POST
def permit_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The family has uploaded what was asked: back to the technician."""
    permit = get_permit_for(request.user, pk)
    form = AnswerForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    try:
        services.answer_information_request(permit_id=permit.pk, by=request.user, answer=answer)
    except services.PermitError as error:
        messages.error(request, str(error))
        return redirect("permit_documents", pk=permit.pk)
    messages.success(request, _("Thank you. Your answer was sent to the district."))
    return redirect("permit_detail", pk=permit.pk)


@require_http_methods(["GET", "POST"])
def permit_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    appeal_rights = rights.current(permit) if permit.status == Permit.Status.DENIED else None
    if appeal_rights is None or not appeal_rights.internal_open_on(clock.today()):
        return redirect("permit_detail", pk=permit.pk)
    form = AppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.file_internal_appeal(
                permit_id=permit.pk,
                by=request.user,
                statement=form.cleaned_data["statement"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        except services.PermitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your appeal was received. The district will tell you its decision."))
            return redirect("permit_detail", pk=permit.pk)
    return render(
        request,
        "permits/permit_appeal.html",
        {"permit": permit, "form": form, "deadline": appeal_rights.internal_until},
    )


@require_POST
def permit_confirm_return(request: HttpRequest, pk: int) -> HttpResponse:
    """The family confirms that the student returns for a continuing year of the permit."""
    permit = get_permit_for(request.user, pk)
    try:
        services.confirm_continuation(permit_id=permit.pk, by=request.user)
    except services.PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Thank you. You confirmed that %(student)s returns for %(year)s.")
            % {"student": permit.student.full_name, "year": permit.school_year},
        )
    return redirect("permit_detail", pk=permit.pk)


@require_POST
def permit_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    permit = get_permit_for(request.user, pk)
    form = WithdrawForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.withdraw_permit(permit_id=permit.pk, by=request.user, note=note)
    except services.PermitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Request %(reference)s was withdrawn.") % {"reference": permit.reference})
    return redirect("family_dashboard")


@require_GET
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The family's copy of a letter: the stored bytes, the same on every download."""
    try:
        letter = Letter.objects.select_related("permit").get(
            pk=pk, permit__family=family_of(request.user), rendered_at__isnull=False
        )
    except Letter.DoesNotExist:
        raise Http404 from None
    return file_response(letter.pdf, filename=letter.filename, content_type="application/pdf")


@login_not_required
@require_GET
def letter_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: another district checks a release or acceptance. Says valid, revoked or
    unknown, and no more than the receiving district needs."""
    if refused := _rate_limited(request, "verify-rate", VERIFY_LIMIT_PER_MINUTE):
        state, status = refused
        return render(request, "permits/letter_verify.html", {"state": state}, status=status)
    code = code.strip().upper()
    letter = (
        Letter.objects.filter(verification_code=code, kind__in=Letter.VERIFIABLE)
        .select_related("permit__student", "permit__school_year")
        .first()
        if VERIFICATION_CODE.fullmatch(code)
        else None
    )
    # A multi-year permit is as good as its latest year: one revoked or lapsed ends it.
    status = terms.latest_year(letter.permit).status if letter is not None else None
    if letter is None:
        state = "unknown"
    elif status == Permit.Status.APPROVED:
        state = "valid"
    elif status == Permit.Status.REVOKED:
        state = "revoked"
    else:
        state = "not_valid"
    initials = ""
    if letter is not None:
        student = letter.permit.student
        initials = f"{student.legal_first_name[:1]}. {student.legal_last_name[:1]}."
    return render(
        request,
        "permits/letter_verify.html",
        {"state": state, "letter": letter, "initials": initials},
        status=404 if state == "unknown" else 200,
    )


def _rate_limited(request: HttpRequest, bucket: str, per_minute: int) -> tuple[str, int] | None:
    """None while the client (config.clients.client_address) has made at most
    `per_minute` requests to this public page in the current minute; otherwise the
    page's state and status: ("limited", 429), or ("unavailable", 503) when the cache
    cannot count, for a page without its limit is not served."""
    key = f"{bucket}:{client_address(request)}"
    try:
        cache.add(key, 0, timeout=60)
        attempts = cache.incr(key)
    except Exception:
        log.warning("%s refused: rate limiter unavailable", bucket)
        return "unavailable", 503
    return ("limited", 429) if attempts > per_minute else None


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def find_my_school(request: HttpRequest) -> HttpResponse:
    """Public: the school of residence of an address, for anyone, in the school year
    families apply for now. Nothing is kept: no row is written, and the address is
    never logged. It is sent by POST so that it stays out of the URL, and so out of
    the web server's access log, the browser's history and any Referer header;
    never_cache keeps the answer out of shared caches."""
    school_year = school_year_applied_for()
    if request.method == "GET":
        return render(request, "permits/find_my_school.html", {"form": FindSchoolForm(), "school_year": school_year})
    if refused := _rate_limited(request, "find-school-rate", FIND_SCHOOL_LIMIT_PER_MINUTE):
        state, status = refused
        context = {"form": FindSchoolForm(), "school_year": school_year, "state": state}
        return render(request, "permits/find_my_school.html", context, status=status)
    form = FindSchoolForm(request.POST)
    context = {"form": form, "school_year": school_year}
    if form.is_valid() and school_year is not None:
        grade = form.cleaned_data["grade"]
        context.update(
            address=form.address,
            grade=Grade(grade).label,
            finding=find_school(form.address, grade, school_year.name),
        )
    return render(request, "permits/find_my_school.html", context, status=200 if form.is_valid() else 400)
