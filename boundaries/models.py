"""The district's schools and the boundary data that says which addresses each serves.

Boundary data is imported, never edited: every import is a version with its effective
school year, source file and SHA-256, and who imported it. The version in force for a
school year is the newest import of its kind (and, for attendance areas, of its grade
span) whose effective year is that year or earlier (`boundaries.lookup`).
"""

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Grade, Residence

SCHOOL_YEAR_NAME = re.compile(r"^(\d{4})-(\d{2})$")


class School(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    lowest_grade = models.SmallIntegerField(_("lowest grade"), choices=Grade.choices)
    highest_grade = models.SmallIntegerField(_("highest grade"), choices=Grade.choices)
    is_active = models.BooleanField(_("accepts permits"), default=True)

    class Meta:
        # The table from before the school moved here out of `permits`.
        db_table = "permits_school"
        ordering = ["name"]
        verbose_name = _("school")

    def __str__(self):
        return self.name

    def serves(self, grade: int) -> bool:
        return self.lowest_grade <= grade <= self.highest_grade

    def teaches_some_of(self, low: int, high: int) -> bool:
        """Whether the school teaches any grade from `low` to `high` (a TK-8 school, of K-5)."""
        return self.lowest_grade <= high and low <= self.highest_grade


def grade_span_label(low: int, high: int) -> str:
    """K-5, TK-8, 9-12: how district boundary files name a span of grades."""

    def name(grade: int) -> str:
        return {Grade.TK: "TK", Grade.K: "K"}.get(grade, str(grade))

    return name(low) if low == high else f"{name(low)}-{name(high)}"


class BoundaryImport(models.Model):
    """One imported boundary file: a version, kept as imported."""

    class Kind(models.TextChoices):
        STREET_RANGES = "street_ranges", _("Street ranges (CSV)")
        AREAS = "areas", _("Attendance areas (GeoJSON or shapefile)")
        ADDRESS_POINTS = "address_points", _("Address points (CSV)")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    effective_year = models.CharField(
        _("in force from school year"),
        max_length=7,
        validators=[RegexValidator(SCHOOL_YEAR_NAME, _("A school year such as 2027-28."))],
    )
    # Attendance areas: one layer per grade span, so the span is the import's.
    grade_low = models.SmallIntegerField(_("lowest grade"), choices=Grade.choices, null=True, blank=True)
    grade_high = models.SmallIntegerField(_("highest grade"), choices=Grade.choices, null=True, blank=True)
    source_name = models.CharField(_("source file"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    row_count = models.PositiveIntegerField(_("rows or features"), default=0)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who ran the management command, when no portal user did (e.g. "root on db1").
    imported_by_name = models.CharField(_("imported by (command line)"), max_length=200, blank=True)

    class Meta:
        ordering = ["-effective_year", "-imported_at", "-pk"]
        verbose_name = _("boundary import")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="areas", grade_low__isnull=False, grade_high__isnull=False)
                | (~models.Q(kind="areas") & models.Q(grade_low__isnull=True, grade_high__isnull=True)),
                name="areas_carry_their_grade_span",
            )
        ]

    def __str__(self):
        span = f" {self.grade_span}" if self.kind == self.Kind.AREAS else ""
        return f"{self.get_kind_display()}{span} {self.effective_year} ({self.source_name})"

    @property
    def grade_span(self) -> str:
        return grade_span_label(self.grade_low, self.grade_high) if self.grade_low is not None else ""


class StreetRange(models.Model):
    """One line of a school locator: house numbers on a street, the side, a grade span, a school."""

    class Side(models.TextChoices):
        ODD = "odd", _("odd numbers")
        EVEN = "even", _("even numbers")
        BOTH = "both", _("both sides")

    source = models.ForeignKey(BoundaryImport, on_delete=models.CASCADE, related_name="street_ranges")
    line = models.PositiveIntegerField(_("line of the file"))
    pre_direction = models.CharField(max_length=2, blank=True)
    street_name = models.CharField(max_length=100)
    street_type = models.CharField(max_length=10, blank=True)
    post_direction = models.CharField(max_length=2, blank=True)
    low = models.PositiveIntegerField()
    high = models.PositiveIntegerField()
    side = models.CharField(max_length=4, choices=Side.choices)
    postal_code = models.CharField(max_length=5, blank=True)
    grade_low = models.SmallIntegerField(choices=Grade.choices)
    grade_high = models.SmallIntegerField(choices=Grade.choices)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["source", "line", "grade_low"]
        indexes = [models.Index(fields=["source", "street_name"], name="street_range_by_name")]

    def __str__(self):
        street = " ".join(p for p in (self.pre_direction, self.street_name, self.street_type, self.post_direction) if p)
        span = grade_span_label(self.grade_low, self.grade_high)
        return f"{self.low}-{self.high} {street} {self.postal_code} ({self.side}) {span}"


class AttendanceArea(models.Model):
    """One polygon feature of an attendance-area layer, in WGS 84 (as well-known binary)."""

    source = models.ForeignKey(BoundaryImport, on_delete=models.CASCADE, related_name="areas")
    feature = models.PositiveIntegerField(_("feature number"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    geometry = models.BinaryField()

    class Meta:
        ordering = ["source", "feature"]

    def __str__(self):
        return f"{self.source}: feature {self.feature}"


class AddressPoint(models.Model):
    """A county address point: a standardized address and where it stands."""

    source = models.ForeignKey(BoundaryImport, on_delete=models.CASCADE, related_name="points")
    line = models.PositiveIntegerField(_("line of the file"))
    # "<line 1 in USPS form> <ZIP5>": the key a standardized address is looked up by.
    address_key = models.CharField(max_length=200)
    longitude = models.FloatField()
    latitude = models.FloatField()

    class Meta:
        ordering = ["source", "line"]
        indexes = [models.Index(fields=["source", "address_key"], name="address_point_by_key")]

    def __str__(self):
        return self.address_key


class ResidenceReview(models.Model):
    """An address the lookup could not place for a grade span: staff pick the school.

    Opened when a family's address matched no school or several for a grade its
    students need; never guessed. The decision records who made it and why, and the
    lookup answers with it from then on for that address and span."""

    class Reason(models.TextChoices):
        NO_MATCH = "no_match", _("No school's boundary contains the address")
        SEVERAL = "several", _("The address lies in more than one school's boundary")
        UNPARSED = "unparsed", _("The address could not be read in USPS form")

    residence = models.ForeignKey(Residence, on_delete=models.CASCADE, related_name="reviews")
    grade_low = models.SmallIntegerField(choices=Grade.choices)
    grade_high = models.SmallIntegerField(choices=Grade.choices)
    reason = models.CharField(_("why it needs review"), max_length=10, choices=Reason.choices)
    candidates = models.ManyToManyField(School, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    why = models.TextField(_("why this school"), blank=True)

    class Meta:
        ordering = ["opened_at", "pk"]
        verbose_name = _("address to review")
        constraints = [
            models.UniqueConstraint(fields=["residence", "grade_low", "grade_high"], name="one_review_per_span"),
            models.CheckConstraint(
                condition=models.Q(school__isnull=True, decided_at__isnull=True)
                | models.Q(school__isnull=False, decided_at__isnull=False),
                name="a_decided_review_names_its_school",
            ),
        ]

    def __str__(self):
        return f"{self.residence} ({self.grade_span})"

    @property
    def grade_span(self) -> str:
        return grade_span_label(self.grade_low, self.grade_high)

    @property
    def is_open(self) -> bool:
        return self.decided_at is None
