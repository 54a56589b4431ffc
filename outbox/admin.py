from django.contrib import admin

from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    """Sent emails are records: nothing here adds, edits or deletes them."""

    list_display = ["queued_at", "template", "to", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    exclude = ["about_type", "about_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
