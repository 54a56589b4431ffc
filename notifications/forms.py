from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from permits.models import SchoolYear

from .models import Letter


class LetterFilterForm(forms.Form):
    day = forms.DateField(label=_("Letters dated"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *Letter.Kind.choices], required=False)
    school_year = forms.ModelChoiceField(
        label=_("School year"), queryset=SchoolYear.objects.all(), required=False, empty_label=_("All years")
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
