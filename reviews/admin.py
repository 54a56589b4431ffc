from django.contrib import admin

from .models import Appeal, StaffRole


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    filter_horizontal = ["schools"]
    raw_id_fields = ["user"]


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ["permit", "level", "filed_on", "outcome", "county_due_date"]
    list_filter = ["level", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
