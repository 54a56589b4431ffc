from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyAdmin

from .models import Application, Choice, Cycle, InfoSession, PriorityClaim, Program, Round


class ProgramInline(admin.TabularInline):
    model = Program
    extra = 0
    fields = ["school", "grade", "strand_en", "strand_es", "code", "seats", "reserved_seats"]


class InfoSessionInline(admin.TabularInline):
    model = InfoSession
    extra = 0
    fields = ["kind", "school", "starts_at", "place", "capacity"]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    """The district's setup of a year: its dates, its programs (seats net of continuing
    students, of which some reserved), the priority order and the reserves. The
    commitment is published from the staff desk, never typed here."""

    list_display = ["school_year", "applications_open_on", "applications_close_on", "lottery_on", "offer_deadline"]
    list_select_related = ["school_year"]
    inlines = [ProgramInline, InfoSessionInline]
    readonly_fields = ["commitment", "committed_at"]
    fieldsets = [
        (None, {"fields": ["school_year", "max_choices", "late_applications"]}),
        (
            _("Dates"),
            {
                "fields": [
                    "applications_open_on",
                    "applications_close_on",
                    "lottery_on",
                    "offer_deadline",
                    "waitlist_answer_days",
                    "second_round_close_on",
                    "second_lottery_on",
                ]
            },
        ),
        (_("Priorities and reserves"), {"fields": ["priority_order", "reserve_tiers", "reserve_precedence"]}),
        (_("Integration target"), {"fields": ["integration_band_low", "integration_band_high"]}),
        (_("The lottery's commitment"), {"fields": ["commitment", "committed_at"]}),
        (_("What families read"), {"fields": ["intro_en", "intro_es", "faq_en", "faq_es"]}),
    ]


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    """A drawing is frozen, run and published by the services only (enrollment.services)."""

    list_display = ["cycle", "number", "applicant_count", "frozen_at", "ran_at", "published_at"]
    list_select_related = ["cycle__school_year"]
    exclude = ["export", "result"]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    can_delete = False
    fields = ["rank", "program"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ClaimInline(admin.TabularInline):
    model = PriorityClaim
    extra = 0
    can_delete = False
    fields = ["school", "kind", "status", "evidence", "decided_by", "decided_at", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "student", "cycle", "round", "late", "submitted_at", "withdrawn_at"]
    list_filter = ["cycle", "round", "late"]
    search_fields = ["public_id", "student__legal_last_name", "student__legal_first_name"]
    list_select_related = ["student", "cycle__school_year"]
    inlines = [ChoiceInline, ClaimInline]


@admin.register(PriorityClaim)
class PriorityClaimAdmin(ReadOnlyAdmin):
    """Verified or rejected on the staff desk (enrollment.services.decide_claim)."""

    list_display = ["application", "school", "kind", "status", "decided_by", "decided_at"]
    list_filter = ["status", "kind", "school"]
    search_fields = ["application__public_id", "application__student__legal_last_name"]
    list_select_related = ["application__student", "school", "decided_by"]
