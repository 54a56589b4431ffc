from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from applicants.forms import AddressFormMixin, address_field
from applicants.models import Family, Grade, Student
from boundaries.lookup import Finding
from boundaries.models import School
from boundaries.services import school_of_residence

from . import clock
from .models import DocumentType, Permit, PermitKind, Reason, SchoolYear

# An incoming inter-district permit is for a family living outside the district.
LIVES_IN_DISTRICT = _(
    "Your home address is in the district, in the attendance area of %(school)s: an incoming "
    "inter-district permit is only for families who live outside the district. To attend another "
    "school of the district, ask for an intra-district permit."
)
OWN_SCHOOL = _("%(school)s is already your school of residence for %(grade)s; no permit is needed.")


def open_school_years() -> QuerySet[SchoolYear]:
    """The school years that take requests today, the earliest first."""
    today = clock.today()
    return SchoolYear.objects.filter(applications_open_on__lte=today, applications_close_on__gte=today).order_by(
        "first_day_of_instruction"
    )


def school_year_applied_for() -> SchoolYear | None:
    """The school year families apply for now: the latest of those taking requests (in
    spring, next year's rather than the current one's late requests), else the latest."""
    return open_school_years().last() or SchoolYear.objects.first()


def finding_for(family: Family, grade: int, school_year: SchoolYear) -> Finding | None:
    """What the boundary lookup says of the family's current address for this grade and
    year (a staff decision where there is one); None while no address is recorded."""
    residence = family.residences.first()
    return school_of_residence(residence, grade, school_year.name) if residence is not None else None


def lives_in_district(finding: Finding | None) -> ValidationError | None:
    """The refusal of an incoming inter-district request from an address the lookup
    places in the district. An address it needs staff to review refuses nothing."""
    if finding is None or finding.needs_review:
        return None
    return ValidationError(LIVES_IN_DISTRICT, code="lives_in_district", params={"school": finding.school.name})


class StartPermitForm(forms.Form):
    student = forms.ModelChoiceField(label=_("Student"), queryset=Student.objects.none(), empty_label=None)
    school_year = forms.ModelChoiceField(label=_("School year"), queryset=SchoolYear.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("Kind of permit"), choices=PermitKind.choices, widget=forms.RadioSelect)

    def __init__(self, *args, family: Family, **kwargs):
        super().__init__(*args, **kwargs)
        self.family = family
        self.fields["student"].queryset = family.students.all()
        self.fields["school_year"].queryset = open_school_years()

    def clean(self):
        data = super().clean()
        student, school_year = data.get("student"), data.get("school_year")
        if data.get("kind") == PermitKind.INTER_IN and student and school_year:
            if refusal := lives_in_district(finding_for(self.family, student.grade, school_year)):
                self.add_error("kind", refusal)
        return data

    @property
    def lives_in_district(self) -> bool:
        return self.has_error("kind", "lives_in_district")


class PermitDetailsForm(forms.ModelForm):
    """What each kind of request needs to know. Only the fields of the packet's kind
    are shown and required."""

    FIELDS = {
        PermitKind.INTER_IN: [
            "requested_school",
            "home_district",
            "release_pending",
            "bullying_victim",
            "military_family",
            "explanation",
        ],
        PermitKind.INTER_OUT: ["destination_district", "destination_school", "reason", "explanation"],
        PermitKind.INTRA: [
            "school_of_residence",
            "requested_school",
            "bullying_victim",
            "military_family",
            "explanation",
        ],
    }
    REQUIRED = {"requested_school", "home_district", "destination_district", "reason", "school_of_residence"}

    class Meta:
        model = Permit
        fields = [
            "requested_school",
            "school_of_residence",
            "home_district",
            "release_pending",
            "destination_district",
            "destination_school",
            "reason",
            "bullying_victim",
            "military_family",
            "explanation",
        ]
        labels = {
            "release_pending": _("I do not have the release from my home district yet"),
        }
        help_texts = {
            "release_pending": _(
                "You may submit now and upload the release later; the district cannot approve "
                "the request until the release arrives."
            ),
            "home_district": _("The district where you live, which releases the student."),
            "school_of_residence": _("The school where the student is registered today."),
        }
        widgets = {"explanation": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        permit = self.instance
        kind = permit.kind
        # The school of residence of the family's address, for this grade and year.
        self.finding = (
            finding_for(permit.family, permit.grade, permit.school_year)
            if kind in (PermitKind.INTRA, PermitKind.INTER_IN)
            else None
        )
        if kind == PermitKind.INTRA and permit.school_of_residence_id is None and self.finding:
            self.initial["school_of_residence"] = self.finding.school  # None where staff must tell
        for name in list(self.fields):
            if name not in self.FIELDS[kind]:
                del self.fields[name]
            elif name in self.REQUIRED:
                self.fields[name].required = True
        schools = School.objects.filter(
            is_active=True, lowest_grade__lte=self.instance.grade, highest_grade__gte=self.instance.grade
        )
        for name in ("requested_school", "school_of_residence"):
            if name in self.fields:
                self.fields[name].queryset = schools
        if "reason" in self.fields:
            self.fields["reason"].queryset = Reason.objects.filter(is_active=True, kind=kind)
            self.fields["reason"].label_from_instance = lambda reason: reason.name

    def clean(self):
        data = super().clean()
        residence, requested = data.get("school_of_residence"), data.get("requested_school")
        kind, found = self.instance.kind, self.finding.school if self.finding else None
        if kind == PermitKind.INTER_IN and (refusal := lives_in_district(self.finding)):
            self.add_error(None, refusal)
        elif kind == PermitKind.INTRA and found and requested == found:
            self.add_error(
                "requested_school",
                ValidationError(
                    OWN_SCHOOL,
                    code="own_school",
                    params={"school": found.name, "grade": self.instance.get_grade_display()},
                ),
            )
        elif residence and requested and residence == requested:
            self.add_error(
                "requested_school",
                ValidationError(_("Choose a school other than the school of residence."), code="same_school"),
            )
        return data

    @property
    def lives_in_district(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, "lives_in_district")


class UploadForm(forms.Form):
    document_type = forms.ModelChoiceField(label=_("Document"), queryset=DocumentType.objects.none())
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, document_types: list[DocumentType], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["document_type"]
        field.queryset = DocumentType.objects.filter(pk__in=[t.pk for t in document_types])
        field.label_from_instance = lambda document_type: document_type.name


class ReleaseForm(forms.Form):
    """The home district's release, uploaded after submission. Only the file: which
    document it is comes from the district's checklist (selectors.release_rule)."""

    file = UploadForm.base_fields["file"]


class SubmitForm(forms.Form):
    attest = forms.BooleanField(
        label=_(
            "I declare that the information in this request is true and complete, and that the documents are genuine."
        ),
        error_messages={"required": _("Please confirm that the information is true.")},
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Message to the district (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("Why should the district change its decision?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    file = forms.FileField(label=_("Supporting document (optional; PDF, JPEG or PNG)"), required=False)


class FindSchoolForm(AddressFormMixin, forms.Form):
    """An address and a grade, for the public school finder: nothing is saved."""

    street = address_field("street", required=True)
    unit = address_field("unit")
    city = address_field("city", required=True)
    postal_code = address_field("postal_code", required=True)
    grade = forms.TypedChoiceField(label=_("Grade"), choices=Grade.choices, coerce=int)

    def clean(self):
        data = super().clean()
        self.address = None if self.errors else self.standard_address()
        return data
