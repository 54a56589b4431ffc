from django.db import models
from django.utils.translation import gettext_lazy as _

from permits.models import Letter, in_active_language


class LetterParagraph(models.Model):
    """A district's own paragraph for one kind of letter, edited in the admin as plain
    text (escaped when printed, never HTML)."""

    kind = models.CharField(max_length=30, choices=Letter.Kind.choices, unique=True)
    text_en = models.TextField(_("paragraph (English)"), blank=True)
    text_es = models.TextField(_("paragraph (Spanish)"), blank=True)

    def __str__(self):
        return self.get_kind_display()

    @property
    def text(self) -> str:
        return in_active_language(self.text_en, self.text_es)
