from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = ["queued_at", "template", "to", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    exclude = ["about_type", "about_id"]
