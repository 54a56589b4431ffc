import unicodedata

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .addresses import StandardAddress


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")


class Grade(models.IntegerChoices):
    """Grades as numbers so that ordering and "entering grade 11" are arithmetic."""

    TK = -1, _("Transitional kindergarten")
    K = 0, _("Kindergarten")
    G1 = 1, _("Grade 1")
    G2 = 2, _("Grade 2")
    G3 = 3, _("Grade 3")
    G4 = 4, _("Grade 4")
    G5 = 5, _("Grade 5")
    G6 = 6, _("Grade 6")
    G7 = 7, _("Grade 7")
    G8 = 8, _("Grade 8")
    G9 = 9, _("Grade 9")
    G10 = 10, _("Grade 10")
    G11 = 11, _("Grade 11")
    G12 = 12, _("Grade 12")


def normalize_email(address: str) -> str:
    """The one spelling of a sign-in address: compatibility-normalised, trimmed and
    lower-cased. Sign-in, its lockout, sign-up, invitations and password resets all
    key on this, so `X@Example.org ` is the same account -- and the same budget of
    failed attempts -- as `x@example.org`."""
    return unicodedata.normalize("NFKC", address or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=normalize_email(email))


class User(AbstractUser):
    """Anyone who signs in: a guardian of a family, or district staff. Login is by email."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    family = models.ForeignKey(
        "Family",
        verbose_name=_("family"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guardians",
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    def __str__(self):
        return self.get_full_name() or self.email

    @property
    def is_guardian(self) -> bool:
        """A parent or guardian (family pages); staff have no family."""
        return self.family_id is not None

    @property
    def language(self) -> str:
        """The language of every email, letter and page the portal writes to this
        person: the family's preferred one, English for staff."""
        return self.family.preferred_language if self.is_guardian else Language.ENGLISH


class Family(models.Model):
    """One account per family, kept across years, for all of its students."""

    street = models.CharField(_("street address"), max_length=200, blank=True)
    unit = models.CharField(_("apartment or unit"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=2, default="CA")
    postal_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")

    def __str__(self):
        names = ", ".join(str(g) for g in self.guardians.all())
        return names or f"Family {self.pk}"

    @property
    def has_address(self) -> bool:
        return bool(self.street and self.city and self.postal_code)

    def address_lines(self) -> list[str]:
        first = f"{self.street} {self.unit}".strip()
        return [line for line in (first, f"{self.city}, {self.state} {self.postal_code}") if line.strip(", ")]


class Residence(models.Model):
    """Where a family lives from a date: the address as the family typed it, and in
    USPS form (applicants.addresses). A move is a new row, never an edit, so a permit
    keeps the address that applied to it (Permit.residence). The family's own street
    fields above are the current row's USPS form, the address letters are mailed to."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="residences")
    entered = models.TextField(_("address as entered"))
    line1 = models.CharField(_("street address"), max_length=200)
    line2 = models.CharField(_("apartment or unit"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2)
    postal_code = models.CharField(_("ZIP code"), max_length=10)
    # False when the address did not parse: it is kept as entered and goes to review.
    standardized = models.BooleanField(_("in USPS form"), default=True)
    since = models.DateField(_("living here since"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-since", "-recorded_at", "-pk"]
        verbose_name = _("residence")

    def __str__(self):
        return ", ".join(self.lines())

    def lines(self) -> list[str]:
        first = f"{self.line1} {self.line2}".strip()
        return [line for line in (first, f"{self.city}, {self.state} {self.postal_code}") if line.strip(", ")]

    @property
    def zip5(self) -> str:
        return self.postal_code[:5]

    @property
    def address(self) -> StandardAddress:
        """The address as the lookup reads it (USPS form, or as typed when it did not parse)."""
        return StandardAddress(self.line1, self.line2, self.city, self.state, self.postal_code, self.standardized)


class Student(models.Model):
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="students")
    legal_first_name = models.CharField(_("legal first name"), max_length=100)
    legal_middle_name = models.CharField(_("legal middle name"), max_length=100, blank=True)
    legal_last_name = models.CharField(_("legal last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    grade = models.SmallIntegerField(
        _("grade in the school year sought"),
        choices=Grade.choices,
        help_text=_("The grade the student will attend in the school year of the request."),
    )
    current_school = models.CharField(_("current school"), max_length=200, blank=True)
    current_district = models.CharField(_("current school district"), max_length=200, blank=True)
    special_education = models.BooleanField(_("receives special education services or has an IEP"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["legal_first_name", "legal_last_name", "pk"]
        verbose_name = _("student")
        verbose_name_plural = _("students")

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        parts = (self.legal_first_name, self.legal_middle_name, self.legal_last_name)
        return " ".join(p for p in parts if p)


class GuardianInvitation(models.Model):
    """A second guardian invited to join an existing family account."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("guardian invitation")

    def __str__(self):
        return self.email
