"""The open-enrollment staff desk: the cycle and its drawing, the claimed priorities
waiting for verification, and the reports.

The same shape as reviews.views: a page requires "enrollment" (reviews.access), the
drawing's actions "lottery"; parents and strangers get a 404, a role without the
action a 403. Each action is `@require_POST`, the role check, the form, one service
call, a message, a redirect.
"""

import csv
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from boundaries.models import School
from permits import clock
from reviews.access import require

from . import reports, selectors, services
from .models import Cycle, Priority, PriorityClaim, Round, Simulation
from .services import EnrollmentError

CLAIMS_PAGE = 50
MAX_SIMULATION_RUNS = 1000


# --- Forms ------------------------------------------------------------------------


class CommitmentForm(forms.Form):
    commitment = forms.CharField(
        label=gettext_lazy("Commitment (SHA-256 of the secret)"),
        max_length=100,
        help_text=gettext_lazy("64 hexadecimal characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "font-monospace"}),
    )


class SimulationForm(forms.Form):
    runs = forms.IntegerField(
        label=gettext_lazy("Trial runs"),
        initial=200,
        min_value=1,
        max_value=MAX_SIMULATION_RUNS,
        help_text=gettext_lazy("Each with its own seed, never the official one."),
    )


class RunForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("The district's secret"),
        max_length=200,
        help_text=gettext_lazy("Revealed now: its SHA-256 must be the published commitment."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "font-monospace"}),
    )
    digits = forms.CharField(
        label=gettext_lazy("Digits drawn in public"),
        max_length=200,
        help_text=gettext_lazy("As drawn at the meeting; spaces are left out."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    observers = forms.CharField(
        label=gettext_lazy("Observers"),
        max_length=2000,
        required=False,
        help_text=gettext_lazy("Who watched the drawing, one per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_digits(self) -> str:
        # People read the digits out in groups; the seed takes them without spaces.
        return "".join(self.cleaned_data["digits"].split())


class ClaimDecisionForm(forms.Form):
    verified = forms.TypedChoiceField(
        choices=[("1", gettext_lazy("Verify")), ("0", gettext_lazy("Reject"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=gettext_lazy("Note (kept with your name)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, claim: PriorityClaim, **kwargs):
        # One form per claim on the page: the prefix keeps their field ids apart.
        super().__init__(*args, prefix=f"claim-{claim.pk}", **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("verified") is False and not data.get("note", "").strip():
            raise forms.ValidationError(
                _("Say why the priority is not verified: the family may ask."), code="note_required"
            )
        return data


class ClaimFilterForm(forms.Form):
    school = forms.ModelChoiceField(label=gettext_lazy("School"), queryset=School.objects.none(), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Priority"), required=False)

    def __init__(self, *args, cycle: Cycle | None, **kwargs):
        super().__init__(*args, **kwargs)
        schools = School.objects.filter(programs__cycle=cycle).distinct() if cycle else School.objects.none()
        self.fields["school"].queryset = schools
        self.fields["kind"].choices = [("", gettext_lazy("All priorities")), *Priority.choices]

    def query(self) -> str:
        """The filters as a query string, for the links and the decision forms."""
        if not self.is_valid():
            return ""
        school, kind = self.cleaned_data["school"], self.cleaned_data["kind"]
        return urlencode({k: v for k, v in (("school", school.pk if school else ""), ("kind", kind)) if v})


def _form_errors(request: HttpRequest, form) -> None:
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))


def _cycle_from(request: HttpRequest) -> Cycle | None:
    """The cycle a page is about: the one named in the address, else the current one."""
    pk = request.GET.get("cycle", "")
    if pk.isdigit():
        return get_object_or_404(Cycle.objects.select_related("school_year"), pk=pk)
    return selectors.current_cycle()


def _back(cycle_id: int) -> HttpResponse:
    return redirect(f"{reverse('staff_enrollment')}?{urlencode({'cycle': cycle_id})}")


# --- The cycle and its drawing ----------------------------------------------------


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The cycle's dates and counts, and each step of its drawing in order: the
    commitment, the freeze, trial runs, the run, the publication."""
    scope = require(request.user, "enrollment")
    cycle = _cycle_from(request)
    context: dict = {
        "cycle": cycle,
        "cycles": Cycle.objects.select_related("school_year"),
        "may_draw": scope.may("lottery"),
        "today": clock.today(),
    }
    if cycle is not None:
        applications = cycle.applications.aggregate(
            total=Count("pk", filter=Q(withdrawn_at__isnull=True)),
            late=Count("pk", filter=Q(withdrawn_at__isnull=True, late=True)),
            withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False)),
        )
        by_round = cycle.applications.filter(withdrawn_at__isnull=True).values_list("round").annotate(n=Count("pk"))
        drawings = list(
            cycle.rounds.defer("export", "result")
            .select_related("frozen_by", "ran_by")
            .prefetch_related("simulations__created_by")
            .order_by("number")
        )
        context.update(
            applications=applications,
            by_round=sorted(by_round),
            programs=cycle.programs.aggregate(n=Count("pk"), seats=Sum("seats"), reserved=Sum("reserved_seats")),
            claims_waiting=PriorityClaim.objects.filter(
                application__cycle=cycle, application__withdrawn_at__isnull=True, status=PriorityClaim.Status.CLAIMED
            ).count(),
            drawings=[{"round": d, "simulations": [_summary(cycle, s) for s in d.simulations.all()]} for d in drawings],
            commitment_form=CommitmentForm(),
            simulation_form=SimulationForm(),
            run_form=RunForm(),
            can_freeze=not drawings and context["today"] > cycle.applications_close_on,
        )
    return render(request, "enrollment/staff_overview.html", context)


@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "lottery")
    cycle = get_object_or_404(Cycle, pk=pk)
    form = CommitmentForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(cycle.pk)
    try:
        services.publish_commitment(cycle_id=cycle.pk, commitment=form.cleaned_data["commitment"], today=clock.today())
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The commitment is published. Keep the secret offline until the drawing."))
    return _back(cycle.pk)


@require_POST
def freeze(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "lottery")
    cycle = get_object_or_404(Cycle, pk=pk)
    try:
        drawing = services.freeze_applications(cycle_id=cycle.pk, by=request.user, today=clock.today())
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(count)d applications frozen. Print the export's SHA-256 for the board.")
            % {"count": drawing.applicant_count},
        )
    return _back(cycle.pk)


@require_GET
def freeze_record(request: HttpRequest, pk: int) -> HttpResponse:
    """A page to print for the board: the frozen export's SHA-256 and its count."""
    require(request.user, "enrollment")
    drawing = get_object_or_404(
        Round.objects.defer("export", "result").select_related("cycle__school_year", "frozen_by"), pk=pk
    )
    return render(request, "enrollment/staff_freeze_record.html", {"drawing": drawing, "cycle": drawing.cycle})


@require_POST
def simulate(request: HttpRequest, pk: int) -> HttpResponse:
    """Trial runs of the frozen export with seeds that are not the official one: how
    placements might fall, before the drawing. Kept with their salt."""
    require(request.user, "lottery")
    drawing = get_object_or_404(Round, pk=pk)
    form = SimulationForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(drawing.cycle_id)
    runs = form.cleaned_data["runs"]
    try:
        services.run_simulation(round_id=drawing.pk, runs=runs, by=request.user)
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(runs)d trial runs done.") % {"runs": runs})
    return _back(drawing.cycle_id)


@require_POST
def run(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "lottery")
    drawing = get_object_or_404(Round, pk=pk)
    form = RunForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(drawing.cycle_id)
    try:
        drawing = services.run_lottery(round_id=drawing.pk, by=request.user, **form.cleaned_data)
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The lottery has run. Result SHA-256: %(sha)s. Families are told when you publish the results.")
            % {"sha": drawing.result_sha256},
        )
    return _back(drawing.cycle_id)


@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "lottery")
    drawing = get_object_or_404(Round, pk=pk)
    try:
        told = services.publish_results(round_id=drawing.pk, by=request.user)
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Results published: %(count)d families are being told by email.") % {"count": told})
    return _back(drawing.cycle_id)


SHARES = {
    "first_choice": gettext_lazy("Placed at their 1st choice"),
    "any_choice": gettext_lazy("Placed at any choice"),
    "none": gettext_lazy("Not placed"),
}


def _summary(cycle: Cycle, sim: Simulation) -> dict:
    """A simulation's summary laid out for the page (enrollment.simulation.simulate):
    the spread of the shares over the runs, and per program its median offers, how
    often it filled and its median cutoff. The per-run seeds stay in the row."""
    summary = sim.summary

    def pct(value) -> str:
        return f"{100 * value:.1f}%" if isinstance(value, int | float) else "—"

    distribution = summary.get("distribution", {})
    shares = [
        (SHARES.get(key, key), [pct(spread.get(k)) for k in ("min", "p5", "median", "p95", "max")])
        for key, spread in distribution.items()
    ]
    programs = []
    for code, figures in summary.get("programs", {}).items():
        cutoff = figures.get("median_cutoff")
        if cutoff:
            words = _("%(priority)s, lottery rank at %(percentile)s%% of all numbers") % {
                "priority": reports.priority_label(cycle, cutoff["class"]),
                "percentile": cutoff["percentile"],
            }
            if cutoff.get("late"):
                words = f"{words} ({_('late')})"
        else:
            words = _("Everyone who asked")
        programs.append(
            {
                "code": code,
                "seats": figures.get("seats"),
                "median_offers": figures.get("median_offers"),
                "filled": pct(figures.get("filled_share")),
                "cutoff": words,
            }
        )
    return {"simulation": sim, "salt": summary.get("salt", ""), "shares": shares, "programs": programs}


# --- Priority claims ----------------------------------------------------------------


@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    """Claimed priorities waiting for verification, oldest first (a claim is new when
    its evidence is), filtered by school and kind; a keyset page of 50."""
    require(request.user, "enrollment")
    cycle = selectors.current_cycle()
    form = ClaimFilterForm(request.GET or None, cycle=cycle)
    waiting = PriorityClaim.objects.none()
    if cycle is not None:
        waiting = PriorityClaim.objects.filter(
            application__cycle=cycle, application__withdrawn_at__isnull=True, status=PriorityClaim.Status.CLAIMED
        )
        if form.is_valid():
            if form.cleaned_data["school"]:
                waiting = waiting.filter(school=form.cleaned_data["school"])
            if form.cleaned_data["kind"]:
                waiting = waiting.filter(kind=form.cleaned_data["kind"])
    after = request.GET.get("after", "")
    if after.isdigit():
        waiting = waiting.filter(pk__gt=int(after))
    page = list(waiting.select_related("application__student", "school").order_by("pk")[: CLAIMS_PAGE + 1])
    filters = form.query()
    more = len(page) > CLAIMS_PAGE
    page = page[:CLAIMS_PAGE]
    return render(
        request,
        "enrollment/staff_claims.html",
        {
            "cycle": cycle,
            "form": form,
            "filters": filters,
            "rows": [{"claim": c, "form": ClaimDecisionForm(claim=c)} for c in page],
            "next": "&".join(filter(None, [filters, urlencode({"after": page[-1].pk})])) if more else "",
            "resident": Priority.RESIDENT,
        },
    )


@require_POST
def decide_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify or reject one claimed priority. The service refuses once the applications
    are frozen, and refuses to verify a claim without evidence."""
    require(request.user, "enrollment")
    claim = get_object_or_404(PriorityClaim.objects.select_related("application__student", "school"), pk=pk)
    back = redirect(f"{reverse('staff_enrollment_claims')}?{_filters_of(request)}")
    form = ClaimDecisionForm(request.POST, claim=claim)
    if not form.is_valid():
        _form_errors(request, form)
        return back
    verified = form.cleaned_data["verified"]
    try:
        services.decide_claim(claim_id=claim.pk, verified=verified, by=request.user, note=form.cleaned_data["note"])
    except EnrollmentError as error:
        messages.error(request, str(error))
    else:
        words = {"priority": claim.get_kind_display(), "school": claim.school, "student": claim.application.student}
        if verified:
            messages.success(request, _("%(priority)s at %(school)s verified for %(student)s.") % words)
        else:
            messages.success(request, _("%(priority)s at %(school)s not verified for %(student)s.") % words)
    return back


def _filters_of(request: HttpRequest) -> str:
    # Back to the same filtered list; only the two known filters, as numbers and codes.
    school, kind = request.GET.get("school", ""), request.GET.get("kind", "")
    pairs = {"school": school if school.isdigit() else "", "kind": kind if kind in Priority.values else ""}
    return urlencode({k: v for k, v in pairs.items() if v})


# --- Reports ------------------------------------------------------------------------


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    require(request.user, "enrollment")
    cycle = _cycle_from(request)
    data = reports.build(cycle) if cycle is not None else None
    if data is not None and request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"open-enrollment-{cycle.school_year.name}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        for row in reports.csv_rows(data):
            writer.writerow(row)
        return response
    return render(
        request,
        "enrollment/staff_report.html",
        {"cycle": cycle, "data": data, "cycles": Cycle.objects.select_related("school_year")},
    )
