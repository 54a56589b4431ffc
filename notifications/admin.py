from django.contrib import admin

from .models import Letter, LetterParagraph, OutboxEmail


class ReadOnly(admin.ModelAdmin):
    """Sent emails and issued letters are records: nothing here edits or deletes them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnly):
    list_display = ["queued_at", "template", "to", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]


@admin.register(Letter)
class LetterAdmin(ReadOnly):
    list_display = ["letter_date", "kind", "permit", "language", "rendered_at"]
    list_filter = ["kind", "language"]
    exclude = ["html"]


@admin.register(LetterParagraph)
class LetterParagraphAdmin(admin.ModelAdmin):
    list_display = ["kind"]
