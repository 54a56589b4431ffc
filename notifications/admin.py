from django.contrib import admin

from .models import LetterParagraph


@admin.register(LetterParagraph)
class LetterParagraphAdmin(admin.ModelAdmin):
    list_display = ["kind"]
