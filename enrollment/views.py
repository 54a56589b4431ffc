"""The family's side of open enrollment: the public cycle page, applying, the
application with its result, answering an offer, signing up for a tour."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applicants.access import family_of, get_student_for
from permits import clock

from . import services
from .forms import ApplicationForm, SessionSignupForm
from .models import Application, Cycle, InfoSession, Offer, Priority, PriorityClaim, SessionSignup, WaitlistEntry
from .selectors import current_cycle, result_of
from .services import EnrollmentError


def get_application_for(user, pk: int) -> Application:
    """The family's own application; another family's (or a staff member) gets a 404."""
    try:
        return Application.objects.select_related("student", "cycle__school_year").get(pk=pk, family=family_of(user))
    except Application.DoesNotExist:
        raise Http404 from None


def get_offer_for(user, pk: int) -> Offer:
    try:
        return Offer.objects.select_related("program__school", "application__student").get(
            pk=pk, application__family=family_of(user)
        )
    except Offer.DoesNotExist:
        raise Http404 from None


def lottery_record_url(cycle: Cycle) -> str:
    """The drawing's public verification page (its view lives beside the staff's)."""
    try:
        return reverse("enrollment_lottery_record", args=[cycle.school_year.name])
    except NoReverseMatch:
        return f"/enrollment/{cycle.school_year.name}/lottery/"


@login_not_required
@require_GET
def cycle_detail(request: HttpRequest) -> HttpResponse:
    """Public: this year's open enrollment, its dates, programs, tours and questions."""
    cycle = current_cycle()
    if cycle is None:
        return render(request, "enrollment/cycle_detail.html", {"cycle": None})
    sessions = (
        cycle.sessions.filter(starts_at__gte=timezone.now())
        .select_related("school")
        .annotate(taken=Coalesce(Sum("signups__people"), 0))
    )
    family = request.user.family if request.user.is_authenticated and request.user.is_guardian else None
    students, signed_up = [], {}
    if family is not None:
        signed_up = dict(
            SessionSignup.objects.filter(family=family, session__cycle=cycle).values_list("session_id", "people")
        )
        students = list(
            family.students.prefetch_related(
                Prefetch("enrollment_applications", queryset=cycle.applications.all(), to_attr="applications")
            )
        )
    return render(
        request,
        "enrollment/cycle_detail.html",
        {
            "cycle": cycle,
            "programs": cycle.programs.select_related("school"),
            "sessions": [(s, max(s.capacity - s.taken, 0), signed_up.get(s.pk)) for s in sessions],
            "family": family,
            "students": students,
            "is_open": _closed(cycle, None) == "",
            "lottery_record_url": lottery_record_url(cycle),
            "signup_form": SessionSignupForm(),
        },
    )


@require_POST
def session_signup(request: HttpRequest, pk: int) -> HttpResponse:
    family = family_of(request.user)
    form = SessionSignupForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how many people are coming, from 1 to 6."))
        return redirect(reverse("enrollment_cycle") + "#sessions")
    try:
        signup = services.sign_up_for_session(session_id=pk, family=family, people=form.cleaned_data["people"])
    except InfoSession.DoesNotExist:
        raise Http404 from None
    except services.AlreadySignedUp as already:
        messages.info(request, str(already))
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        session = signup.session
        messages.success(
            request,
            _("You are signed up for %(session)s on %(when)s.")
            % {
                "session": session.get_kind_display(),
                "when": date_format(timezone.localtime(session.starts_at), "DATETIME_FORMAT"),
            },
        )
    return redirect(reverse("enrollment_cycle") + "#sessions")


def _closed(cycle: Cycle, application: Application | None) -> str:
    """Why the application cannot be made or changed today, or "" while it can (the
    rule is services.application_window's; this only says it before the form)."""
    try:
        services.application_window(cycle, clock.today(), application)
    except EnrollmentError as error:
        return str(error)
    return ""


@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, student_pk: int) -> HttpResponse:
    """Apply for one of the family's students, or change the application, until the
    deadline."""
    student = get_student_for(request.user, student_pk)
    cycle = current_cycle()
    if cycle is None:
        raise Http404
    application = Application.objects.filter(cycle=cycle, student=student).prefetch_related("choices", "claims").first()
    closed = _closed(cycle, application)
    form = ApplicationForm(request.POST or None, cycle=cycle, student=student, application=application)
    if request.method == "POST" and not closed and form.is_valid():
        try:
            application = services.submit_application(
                cycle=cycle,
                student=student,
                programs=form.cleaned_data["programs"],
                claims=form.cleaned_data["claims"],
                together_with=form.cleaned_data.get("together_with"),
                by=request.user,
                today=clock.today(),
            )
        except EnrollmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The application for %(student)s was received. You can change it until %(day)s.")
                % {"student": student.full_name, "day": date_format(cycle.applications_close_on, "DATE_FORMAT")},
            )
            return redirect("enrollment_application", pk=application.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "enrollment/application_edit.html",
        {
            "cycle": cycle,
            "student": student,
            "application": application,
            "form": form,
            "closed": closed,
            "priorities": [Priority(p).label for p in cycle.priority_order],
        },
        status=status,
    )


@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for(request.user, pk)
    cycle = application.cycle
    result = result_of(application)
    claims: dict[int, list[PriorityClaim]] = {}
    for claim in application.claims.select_related("school"):
        claims.setdefault(claim.school_id, []).append(claim)
    rows = [(row, claims.get(row.program.school_id, [])) for row in result.choices]
    frozen = cycle.rounds.exists()
    offered = [row for row in result.choices if row.offer is not None and row.offer.status == Offer.Status.OFFERED]
    accepted = next((row for row in result.choices if row.offer and row.offer.status == Offer.Status.ACCEPTED), None)
    # For the status words (enrollment_tags.status_of).
    prefetch_related_objects(
        [application],
        Prefetch("offers", queryset=Offer.objects.select_related("program__school")),
        Prefetch("waitlist_entries", queryset=WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)),
    )
    return render(
        request,
        "enrollment/application_detail.html",
        {
            "application": application,
            "cycle": cycle,
            "result": result,
            "rows": rows,
            "offered": offered,
            "accepted": accepted,
            "closed": _closed(cycle, application),
            "waiting": [row for row in result.choices if row.waitlist_position],
            "frozen": frozen,
            "may_withdraw": not application.is_withdrawn and not frozen,
            "lottery_record_url": lottery_record_url(cycle),
        },
    )


@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for(request.user, pk)
    try:
        services.withdraw_application(application_id=application.pk, by=request.user)
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The application for %(student)s was withdrawn.") % {"student": application.student.full_name}
        )
    return redirect("enrollment_application", pk=application.pk)


@require_POST
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_offer_for(request.user, pk)
    try:
        services.accept_offer(offer_id=offer.pk, by=request.user, today=clock.today())
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You accepted the seat at %(school)s for %(student)s.")
            % {"school": offer.program.school.name, "student": offer.application.student.full_name},
        )
    return redirect("enrollment_application", pk=offer.application_id)


@require_POST
def offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    offer = get_offer_for(request.user, pk)
    try:
        services.decline_offer(offer_id=offer.pk, by=request.user, today=clock.today())
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You declined the seat at %(school)s for %(student)s.")
            % {"school": offer.program.school.name, "student": offer.application.student.full_name},
        )
    return redirect("enrollment_application", pk=offer.application_id)
