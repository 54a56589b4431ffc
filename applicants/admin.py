from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Family, GuardianInvitation, Student, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "family", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "family", "email_verified_at"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    raw_id_fields = ["family"]


class StudentInline(admin.TabularInline):
    model = Student
    extra = 0


@admin.register(Family)
class FamilyAdmin(admin.ModelAdmin):
    list_display = ["pk", "city", "preferred_language", "created_at"]
    inlines = [StudentInline]


@admin.register(GuardianInvitation)
class GuardianInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "family", "created_at", "accepted_at"]
