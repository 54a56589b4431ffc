from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from applicants.models import Family, Student
from boundaries.models import School

from . import clock
from .models import DocumentType, Permit, PermitKind, Reason, SchoolYear


class StartPermitForm(forms.Form):
    student = forms.ModelChoiceField(label=_("Student"), queryset=Student.objects.none(), empty_label=None)
    school_year = forms.ModelChoiceField(label=_("School year"), queryset=SchoolYear.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("Kind of permit"), choices=PermitKind.choices, widget=forms.RadioSelect)

    def __init__(self, *args, family: Family, **kwargs):
        super().__init__(*args, **kwargs)
        today = clock.today()
        self.fields["student"].queryset = family.students.all()
        self.fields["school_year"].queryset = SchoolYear.objects.filter(
            applications_open_on__lte=today, applications_close_on__gte=today
        ).order_by("first_day_of_instruction")


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
        kind = self.instance.kind
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
        if residence and requested and residence == requested:
            self.add_error(
                "requested_school",
                ValidationError(_("Choose a school other than the school of residence."), code="same_school"),
            )
        return data


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
