from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records (sent emails, history, submitted permits, issued letters) change only
    through the portal's services: the admin shows them and nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
