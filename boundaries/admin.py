from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin import ReadOnlyAdmin

from . import imports
from .models import SCHOOL_YEAR_NAME, BoundaryImport, ResidenceReview

# School is registered by permits/admin.py, with its permit seats inline.


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=BoundaryImport.Kind.choices)
    effective_year = forms.CharField(
        label=gettext_lazy("In force from school year"),
        max_length=7,
        validators=[RegexValidator(SCHOOL_YEAR_NAME, gettext_lazy("A school year such as 2027-28."), code="year")],
        help_text=gettext_lazy("For example 2027-28. Earlier versions stay on record."),
    )
    grades = forms.CharField(
        label=gettext_lazy("Grade span"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("Attendance areas only: the grades of this layer, such as K-5, 6-8 or 9-12."),
    )
    school_field = forms.CharField(
        label=gettext_lazy("School code property"),
        initial="school_code",
        max_length=100,
        help_text=gettext_lazy("Attendance areas only: the property of each feature that holds the school code."),
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV for street ranges and address points; GeoJSON or a zipped shapefile for areas."),
    )

    def clean_grades(self) -> tuple[int, int] | None:
        text = self.cleaned_data["grades"].strip()
        if not text:
            return None
        span = imports.parse_grade_span(text)
        if span is None:
            raise forms.ValidationError(gettext_lazy("A grade span such as K-5, TK-8, 6-8 or 9-12."), code="grade_span")
        return span

    def clean(self):
        data = super().clean()
        if data.get("kind") == BoundaryImport.Kind.AREAS and "grades" in data and data["grades"] is None:
            self.add_error(
                "grades",
                forms.ValidationError(
                    gettext_lazy("An attendance-area layer is for one grade span: name it."), code="required"
                ),
            )
        return data


@admin.register(BoundaryImport)
class BoundaryImportAdmin(ReadOnlyAdmin):
    """Versions are never edited or deleted; adding one is uploading a file, which is
    imported whole or refused whole (boundaries.imports)."""

    list_display = ["effective_year", "kind", "grade_span", "source_name", "row_count", "imported_at", "importer"]
    list_filter = ["kind", "effective_year"]
    list_select_related = ["imported_by"]
    upload_template = "admin/boundaries/boundaryimport/upload.html"

    def has_add_permission(self, request):
        return admin.ModelAdmin.has_add_permission(self, request)

    @admin.display(description=gettext_lazy("imported by"))
    def importer(self, obj: BoundaryImport) -> str:
        return str(obj.imported_by or obj.imported_by_name or "-")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        problems: list[imports.Problem] = []
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                source = self._import(form.cleaned_data, request.user)
            except imports.ImportRefused as refused:
                problems = refused.problems
            else:
                self.log_addition(request, source, [{"added": {}}])
                messages.success(
                    request,
                    _("Imported %(import)s: %(count)s rows or features, in force from %(year)s.")
                    % {"import": source, "count": source.row_count, "year": source.effective_year},
                )
                return redirect("admin:boundaries_boundaryimport_change", source.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import boundary data"),
            "form": form,
            "problems": problems,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.upload_template, context)

    @staticmethod
    def _import(data: dict, user) -> BoundaryImport:
        upload = data["file"]
        return imports.import_file(
            data["kind"],
            upload.read(),
            name=upload.name,
            effective_year=data["effective_year"],
            grades=data["grades"],
            school_field=data["school_field"],
            by=user,
        )


@admin.register(ResidenceReview)
class ResidenceReviewAdmin(ReadOnlyAdmin):
    # Staff decide these on the review desk; the admin only lists them.
    list_display = ["residence", "grade_span", "reason", "opened_at", "school", "decided_by", "decided_at"]
    list_filter = ["reason"]
    list_select_related = ["residence", "school", "decided_by"]
