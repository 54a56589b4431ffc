from collections.abc import Sequence

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from applicants.models import Grade, User
from boundaries.models import ResidenceReview, School
from permits import protections
from permits.models import DenialReason, DocumentType, Letter, Permit, PermitKind, SchoolYear, VoidReason

from .models import Role
from .selectors import QueueFilters

STAFF_STATUSES = [(s.value, s.label) for s in Permit.Status if s != Permit.Status.DRAFT]


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Student or reference"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *PermitKind.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Needs action")), *STAFF_STATUSES], required=False)
    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.all(), required=False, empty_label=_("All schools")
    )
    grade = forms.TypedChoiceField(
        label=_("Grade"), choices=[("", _("All grades")), *Grade.choices], coerce=int, required=False, empty_value=None
    )
    school_year = forms.ModelChoiceField(
        label=_("School year"), queryset=SchoolYear.objects.all(), required=False, empty_label=_("All years")
    )
    year_type = forms.ChoiceField(
        label=_("Timing"), choices=[("", _("Current and future year")), *Permit.YearType.choices], required=False
    )
    assigned = forms.ChoiceField(
        label=_("Assigned"),
        choices=[("", _("Anyone")), ("me", _("Assigned to me")), ("none", _("Unassigned"))],
        required=False,
    )
    release_pending = forms.BooleanField(label=_("Release pending"), required=False)
    denial_recommended = forms.BooleanField(label=_("Denials awaiting the director"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority group"),
        choices=[("", _("Any")), ("bullying", _("Bullying victim")), ("military", _("Active-duty military"))],
        required=False,
    )

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = {**self.cleaned_data}
        data["school"] = data["school"].pk if data["school"] else None
        data["school_year"] = data["school_year"].pk if data["school_year"] else None
        return QueueFilters(**data)


def technicians():
    return User.objects.filter(staff_roles__role=Role.TECHNICIAN, is_active=True).order_by("first_name")


class AssignForm(forms.Form):
    # Several forms share the review page: prefixes keep their field ids apart.
    prefix = "assign"
    technician = forms.ModelChoiceField(label=_("Technician"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = technicians()


class NoteForm(forms.Form):
    prefix = "note"
    text = forms.CharField(
        label=_("Internal note (never shown to the family)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )


class RejectDocumentForm(forms.Form):
    reason = forms.CharField(label=_("Why is it rejected? (the family reads this)"), max_length=300)


class RequestInfoForm(forms.Form):
    prefix = "info"
    document_types = forms.ModelMultipleChoiceField(
        label=_("Documents needed"),
        queryset=DocumentType.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Message to the family"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    due_date = forms.DateField(
        label=_("Answer due by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Before the legal due date, so that waiting for the answer never becomes a deemed denial."),
    )
    override_reason = forms.CharField(
        label=_("Why may the answer deadline be on or after the legal due date?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("Only for a deadline on or after the legal due date; leave empty otherwise."),
    )

    def __init__(self, *args, may_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a director may set a deadline past the legal due date (reviews.access).
        if not may_override:
            del self.fields["override_reason"]


class ApproveForm(forms.Form):
    prefix = "approve"
    school = forms.ModelChoiceField(
        label=_("Place at"),
        queryset=School.objects.filter(is_active=True),
        required=False,
        empty_label=_("The requested school"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class DenyForm(forms.Form):
    prefix = "deny"
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"), choices=DenialReason.choices, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("Explanation for the family"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )

    def __init__(self, *args, permit: Permit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if permit is not None:
            # Only the reasons the law allows for this request (permits.protections).
            allowed = protections.allowed_denial_reasons(permit)
            self.fields["reasons"].choices = [(code, label) for code, label in DenialReason.choices if code in allowed]


class VoidForm(forms.Form):
    prefix = "void"
    reason = forms.ChoiceField(label=_("Why is it voided?"), choices=VoidReason.choices)
    note = forms.CharField(
        label=_("Note (the family reads this)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
    )


class RecordReleaseForm(forms.Form):
    prefix = "release"
    how = forms.CharField(
        label=_("How did the release arrive?"),
        max_length=300,
        help_text=_(
            "For example: paper release received at the counter, or the verification code from the district of "
            "residence."
        ),
    )


class RevokeForm(forms.Form):
    prefix = "revoke"
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    effective_on = forms.DateField(label=_("Effective on"), widget=forms.DateInput(attrs={"type": "date"}))


class SiteReviewForm(forms.Form):
    recommend_revocation = forms.BooleanField(label=_("Recommend revocation"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class AppealDecisionForm(forms.Form):
    prefix = "appeal"
    outcome = forms.ChoiceField(
        label=_("Panel decision"),
        choices=[("upheld", _("Denial upheld")), ("overturned", _("Denial overturned: approve"))],
    )
    school = forms.ModelChoiceField(
        label=_("Place at (if overturned)"),
        queryset=School.objects.filter(is_active=True),
        required=False,
        empty_label=_("The requested school"),
    )


class CountyAppealForm(forms.Form):
    prefix = "county"
    filed_on = forms.DateField(label=_("Filed with the county on"), widget=forms.DateInput(attrs={"type": "date"}))
    hearing_on = forms.DateField(
        label=_("Hearing date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    extension_reason = forms.CharField(
        label=_("Reason for the 60-day period (class 1 and 2 counties only; leave empty for 30 days)"),
        required=False,
        max_length=1000,
    )


class CountyDecisionForm(forms.Form):
    prefix = "county_decision"
    granted = forms.TypedChoiceField(
        label=_("County decision"),
        choices=[("1", _("Granted: admit without delay")), ("0", _("Denied"))],
        coerce=lambda v: v == "1",
    )
    decided_on = forms.DateField(label=_("Decided on"), widget=forms.DateInput(attrs={"type": "date"}))


class ProvisionalAttendanceForm(forms.Form):
    prefix = "provisional"
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.filter(is_active=True))
    started_on = forms.DateField(label=_("First day attending"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Why does the pupil attend before the decision?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class EndProvisionalAttendanceForm(forms.Form):
    prefix = "provisional_end"
    ended_on = forms.DateField(
        label=_("Last day attending provisionally"), widget=forms.DateInput(attrs={"type": "date"})
    )


class LetterFilterForm(forms.Form):
    # Bootstrap's control classes make each control fill its grid column; without them a
    # select grows as wide as its longest option and runs into its neighbour at 1280 px.
    day = forms.DateField(
        label=_("Letters dated"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("All kinds")), *Letter.Kind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    school_year = forms.ModelChoiceField(
        label=_("School year"),
        queryset=SchoolYear.objects.all(),
        required=False,
        empty_label=_("All years"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def letters(self) -> QuerySet[Letter]:
        letters = Letter.objects.filter(rendered_at__isnull=False).select_related(
            "permit__student", "permit__school_year"
        )
        if not self.is_bound or not self.is_valid():
            return letters.none() if self.is_bound else letters
        data = self.cleaned_data
        if data["day"]:
            letters = letters.filter(letter_date=data["day"])
        if data["kind"]:
            letters = letters.filter(kind=data["kind"])
        if data["school_year"]:
            letters = letters.filter(permit__school_year=data["school_year"])
        return letters

    def describe(self) -> str:
        if not self.is_valid():
            return "all letters"
        data = self.cleaned_data
        parts = [f"{k}={v}" for k, v in data.items() if v]
        return ", ".join(parts) or "all letters"


class ResidenceDecisionForm(forms.Form):
    """Staff name the school of residence of an address the lookup could not place.

    The list offers the candidates first, then the other schools teaching the span; any
    school is accepted here, and `boundaries.services.decide_review` refuses one that
    does not teach the span, with its own message."""

    school = forms.ModelChoiceField(label=_("School of residence"), queryset=School.objects.all())
    why = forms.CharField(
        label=_("Why this school (kept with your name)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        # The service's own refusal, said before the request reaches it.
        error_messages={"required": _("Say why this school: the decision is kept with your name.")},
    )

    def __init__(self, *args, review: ResidenceReview, schools: Sequence[School] = (), **kwargs):
        # One form per address on the page: the prefix keeps their field ids apart.
        super().__init__(*args, prefix=f"review-{review.pk}", **kwargs)
        if not schools:
            return  # a posted decision: the choices are only shown
        candidates = list(review.candidates.all())
        others = [
            school
            for school in schools
            if school not in candidates and school.teaches_some_of(review.grade_low, review.grade_high)
        ]
        groups = [(_("Other schools teaching grades %(span)s") % {"span": review.grade_span}, others)]
        if candidates:
            groups.insert(0, (_("Candidates named by the boundaries"), candidates))
        self.fields["school"].choices = [
            ("", "---------"),
            *((label, [(school.pk, school.name) for school in group]) for label, group in groups if group),
        ]
