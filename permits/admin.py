from django.contrib import admin

from boundaries.models import School
from config.admin import ReadOnlyAdmin

from .models import (
    Appeal,
    District,
    Document,
    DocumentRule,
    DocumentType,
    Letter,
    Permit,
    PermitEvent,
    Reason,
    SchoolYear,
    SeatAllocation,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        # One district per installation.
        return not District.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class SeatInline(admin.TabularInline):
    model = SeatAllocation
    extra = 0


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "lowest_grade", "highest_grade", "is_active"]
    inlines = [SeatInline]


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ["name", "first_day_of_instruction", "applications_open_on", "applications_close_on"]


@admin.register(SeatAllocation)
class SeatAllocationAdmin(admin.ModelAdmin):
    list_display = ["school", "school_year", "grade", "capacity"]
    list_filter = ["school_year", "school"]


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_es"]


class DocumentRuleInline(admin.TabularInline):
    model = DocumentRule
    extra = 0


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = ["name_en", "kind", "priority_group", "position", "is_active"]
    inlines = [DocumentRuleInline]


@admin.register(DocumentRule)
class DocumentRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "reason", "document_type", "special_education_only", "is_release"]
    list_filter = ["kind"]


class EventInline(admin.TabularInline):
    model = PermitEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "old_status", "new_status", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Permit)
class PermitAdmin(ReadOnlyAdmin):
    list_display = ["reference", "student", "kind", "status", "school_year", "due_date"]
    list_filter = ["kind", "status", "school_year"]
    search_fields = ["reference", "student__legal_last_name", "student__legal_first_name"]
    list_select_related = ["student", "school_year"]
    inlines = [EventInline]


@admin.register(PermitEvent)
class PermitEventAdmin(ReadOnlyAdmin):
    list_display = ["permit", "kind", "old_status", "new_status", "actor", "created_at"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["permit", "document_type", "original_name", "content_type", "size", "review"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["permit", "level", "filed_on", "outcome", "county_due_date"]
    list_filter = ["level", "outcome"]


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = ["letter_date", "kind", "permit", "language", "rendered_at"]
    list_filter = ["kind", "language"]
    exclude = ["html"]
