"""Open enrollment: resident families rank schools, a lottery anyone can re-derive
places them (EC 35160.5(b)), offers are accepted or declined, waitlists move.

Nothing here records a pupil's grades, scores, test results, athletic record or any
evaluation of performance: EC 35160.5(b) forbids using them to select pupils, so there
is no field that could feed a priority (tests/enrollment/test_models.py says so).
"""

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from applicants.models import Family, Grade, Residence, Student
from boundaries.models import School
from permits.models import SchoolYear, in_active_language, unambiguous_code

from . import matching


class Priority(models.TextChoices):
    """The priorities EC 35160.5(b) allows a board to set. A pupil's class at a school is
    the best priority verified for it, in the cycle's order; without one, the last."""

    RESIDENT = "resident", _("Lives in the school's attendance area")
    CONTINUING = "continuing", _("Continuing student")
    SIBLING = "sibling", _("Sibling at the school")
    STAFF_CHILD = "staff_child", _("Child of staff assigned to the school")
    SAFETY = "safety", _("Bullying or safety transfer (board policy)")


# Families claim these with evidence; residence comes from the boundary lookup, and a
# continuing student from the district's records.
CLAIMABLE = (Priority.SIBLING, Priority.STAFF_CHILD, Priority.SAFETY)


def default_priority_order() -> list[str]:
    return [Priority.RESIDENT, Priority.CONTINUING, Priority.SIBLING, Priority.STAFF_CHILD, Priority.SAFETY]


class Cycle(models.Model):
    """One year's open enrollment: its window, its drawing, its deadlines."""

    school_year = models.OneToOneField(
        SchoolYear, on_delete=models.PROTECT, related_name="enrollment_cycle", verbose_name=_("school year")
    )
    applications_open_on = models.DateField(_("applications open on"))
    applications_close_on = models.DateField(_("applications close on (last day)"))
    lottery_on = models.DateField(_("public drawing on"))
    offer_deadline = models.DateField(_("families answer their offer by"))
    second_round_close_on = models.DateField(_("second-round applications close on"), null=True, blank=True)
    second_lottery_on = models.DateField(_("second drawing on"), null=True, blank=True)
    max_choices = models.PositiveSmallIntegerField(
        _("schools a family may rank"), default=3, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    late_applications = models.BooleanField(
        _("accept late applications"),
        default=False,
        help_text=_("Placed after every on-time applicant of the same priority; accepted until the drawing."),
    )
    waitlist_answer_days = models.PositiveSmallIntegerField(
        _("days a family has to answer a waitlist offer"), default=5
    )
    priority_order = ArrayField(
        models.CharField(max_length=20, choices=Priority.choices),
        verbose_name=_("priority order, highest first"),
        default=default_priority_order,
        help_text=_("Residents of the attendance area always come first (EC 35160.5(b))."),
    )
    # Socio-economic integration by neighbourhood tier, where the board sets it (never by race).
    reserve_tiers = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("tiers the reserved seats are for"), default=list, blank=True
    )
    reserve_precedence = models.CharField(
        _("order in which seats are filled"),
        max_length=20,
        choices=[
            (matching.OPEN_FIRST, _("open seats first, then reserved seats")),
            (matching.RESERVED_FIRST, _("reserved seats first, then open seats")),
        ],
        default=matching.OPEN_FIRST,
    )
    integration_band_low = models.PositiveSmallIntegerField(
        _("integration target: lowest share of reserved-tier pupils (%)"), null=True, blank=True
    )
    integration_band_high = models.PositiveSmallIntegerField(
        _("integration target: highest share of reserved-tier pupils (%)"), null=True, blank=True
    )
    # The SHA-256 of the district's secret, published before the deadline (enrollment.lottery).
    commitment = models.CharField(_("published commitment (SHA-256)"), max_length=64, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    intro_es = models.TextField(_("introduction (Spanish)"), blank=True)
    faq_en = models.TextField(_("questions and answers (English)"), blank=True)
    faq_es = models.TextField(_("questions and answers (Spanish)"), blank=True)

    class Meta:
        ordering = ["-applications_open_on"]
        verbose_name = _("open-enrollment cycle")
        constraints = [
            # Pupils living in a school's attendance area are never displaced by transfers
            # (EC 35160.5(b)): residence is always the first priority class.
            models.CheckConstraint(condition=Q(priority_order__0=Priority.RESIDENT), name="residents_come_first"),
        ]

    def __str__(self):
        return f"{self.school_year} open enrollment"

    def clean(self):
        if not self.priority_order or self.priority_order[0] != Priority.RESIDENT:
            raise ValidationError(
                {"priority_order": _("Residents of the attendance area come first (EC 35160.5(b)).")},
                code="residents_first",
            )
        if len(set(self.priority_order)) != len(self.priority_order):
            raise ValidationError({"priority_order": _("Each priority appears once.")}, code="repeated_priority")

    @property
    def intro(self) -> str:
        return in_active_language(self.intro_en, self.intro_es)

    @property
    def faq(self) -> str:
        return in_active_language(self.faq_en, self.faq_es)

    def is_open_on(self, day: date) -> bool:
        return self.applications_open_on <= day <= self.applications_close_on

    def accepts_late_on(self, day: date) -> bool:
        # Until the drawing; the freeze, which comes first, closes them for the round.
        return self.late_applications and self.applications_close_on < day < self.lottery_on

    def class_of(self, priority: str) -> int:
        return self.priority_order.index(priority)

    @property
    def lowest_class(self) -> int:
        return len(self.priority_order)


class Program(models.Model):
    """A school × grade × strand a family may rank, with its seats for the cycle (net of
    the continuing students already there)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="programs")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="programs", verbose_name=_("school"))
    grade = models.SmallIntegerField(_("grade"), choices=Grade.choices)
    strand_en = models.CharField(
        _("strand (English)"), max_length=100, blank=True, help_text=_("Blank: the school's general program.")
    )
    strand_es = models.CharField(_("strand (Spanish)"), max_length=100, blank=True)
    seats = models.PositiveIntegerField(_("seats open (net of continuing students)"))
    reserved_seats = models.PositiveIntegerField(_("of which reserved for the reserved tiers"), default=0)
    code = models.CharField(
        _("code"), max_length=40, help_text=_("How the export and the reports name it, e.g. LIN-K-DI.")
    )

    class Meta:
        ordering = ["school__name", "grade", "strand_en"]
        verbose_name = _("program")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "code"], name="program_code_once_per_cycle"),
            models.UniqueConstraint(fields=["cycle", "school", "grade", "strand_en"], name="program_once_per_cycle"),
            models.CheckConstraint(condition=Q(reserved_seats__lte=models.F("seats")), name="reserve_within_seats"),
        ]

    def __str__(self):
        return f"{self.school} · {self.get_grade_display()}" + (f" · {self.strand}" if self.strand else "")

    @property
    def strand(self) -> str:
        return in_active_language(self.strand_en, self.strand_es)


class InfoSession(models.Model):
    """A tour or an information session the district publicises."""

    class Kind(models.TextChoices):
        TOUR = "tour", _("School tour")
        INFO = "info", _("Information session")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text=_("Blank: district-wide.")
    )
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(_("places"), default=30)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("tour or information session")

    def __str__(self):
        return f"{self.get_kind_display()} {self.school or ''} {self.starts_at:%Y-%m-%d %H:%M}"


class SessionSignup(models.Model):
    session = models.ForeignKey(InfoSession, on_delete=models.CASCADE, related_name="signups")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="+")
    people = models.PositiveSmallIntegerField(_("people coming"), default=1, validators=[MaxValueValidator(6)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "family"], name="one_signup_per_family")]

    def __str__(self):
        return f"{self.family} @ {self.session}"


def _new_public_id() -> str:
    # Pseudonymous: the export and the published result name applicants by it alone.
    return "A-" + unambiguous_code(10)


class Application(models.Model):
    """One per student per cycle, with its ranked choices; editable until the deadline."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="applications")
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="enrollment_applications")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="enrollment_applications")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    public_id = models.CharField(max_length=14, unique=True, default=_new_public_id)
    # The id the lottery number is drawn for: siblings applying together share one
    # (the first sibling's public id), so they share one number.
    lottery_id = models.CharField(max_length=14)
    late = models.BooleanField(default=False)
    residence = models.ForeignKey(Residence, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Neighbourhood tier of the residence for reserves, set by staff or an import; never race.
    tier = models.PositiveSmallIntegerField(_("neighbourhood tier"), null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("open-enrollment application")
        constraints = [models.UniqueConstraint(fields=["cycle", "student"], name="one_application_per_student")]

    def __str__(self):
        return f"{self.public_id} {self.student}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class Choice(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="choices")
    rank = models.PositiveSmallIntegerField(_("rank"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="choices")

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["application", "rank"], name="one_choice_per_rank"),
            models.UniqueConstraint(fields=["application", "program"], name="program_ranked_once"),
        ]

    def __str__(self):
        return f"{self.rank}. {self.program}"


class PriorityClaim(models.Model):
    """A priority at one school: claimed by the family with its evidence, or found by the
    portal (residence, from the boundary lookup). Only a verified claim is applied."""

    class Status(models.TextChoices):
        # In context: Spanish agrees these with "la prioridad" (feminine).
        CLAIMED = "claimed", pgettext_lazy("priority claim", "Waiting for verification")
        VERIFIED = "verified", pgettext_lazy("priority claim", "Verified")
        REJECTED = "rejected", pgettext_lazy("priority claim", "Not verified")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="claims")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("priority"), max_length=20, choices=Priority.choices)
    evidence = models.TextField(_("evidence"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("why"), blank=True)

    class Meta:
        ordering = ["application", "school", "kind"]
        constraints = [models.UniqueConstraint(fields=["application", "school", "kind"], name="one_claim_per_priority")]

    def __str__(self):
        return f"{self.get_kind_display()} @ {self.school}"


class Round(models.Model):
    """One drawing of a cycle: its frozen export, then its official run.

    The export is frozen once at the deadline and never changes; the run is recorded
    once (the secret, the public digits, the seed, the code that matched, the result's
    hash, who ran it and who watched). Corrections afterwards are their own rows."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    export = models.TextField(_("frozen applications (canonical JSON Lines)"))
    export_sha256 = models.CharField(max_length=64)
    applicant_count = models.PositiveIntegerField()
    frozen_at = models.DateTimeField(default=timezone.now)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    secret = models.CharField(max_length=200, blank=True)
    public_digits = models.CharField(max_length=100, blank=True)
    seed = models.CharField(max_length=64, blank=True)
    code_version = models.CharField(max_length=64, blank=True)
    result = models.TextField(blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    ran_at = models.DateTimeField(null=True, blank=True)
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    observers = models.TextField(_("observers"), blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cycle", "number"]
        constraints = [models.UniqueConstraint(fields=["cycle", "number"], name="one_drawing_per_round")]

    def __str__(self):
        return f"{self.cycle} round {self.number}"

    @property
    def has_run(self) -> bool:
        return self.ran_at is not None


class Simulation(models.Model):
    """Trial runs on a frozen export with non-official seeds, before the drawing."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="simulations")
    runs = models.PositiveIntegerField()
    summary = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.runs} trial runs of {self.round}"


class Placement(models.Model):
    """An application's outcome in a round, as the run derived it: its lottery number
    and the priority class applied at each school it ranked."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="placements")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="placements")
    number = models.CharField(max_length=64)
    classes = models.JSONField()  # program code -> priority class

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "application"], name="one_placement_per_round")]

    def __str__(self):
        return f"{self.application} in {self.round}"


class Offer(models.Model):
    class Kind(models.TextChoices):
        LOTTERY = "lottery", _("From the lottery")
        WAITLIST = "waitlist", _("From the waitlist")
        CORRECTION = "correction", _("By correction")

    class Status(models.TextChoices):
        # In context: Spanish agrees these with "la oferta" (feminine, singular).
        OFFERED = "offered", pgettext_lazy("offer", "Waiting for your answer")
        ACCEPTED = "accepted", pgettext_lazy("offer", "Accepted")
        DECLINED = "declined", pgettext_lazy("offer", "Declined")
        EXPIRED = "expired", pgettext_lazy("offer", "Not answered in time")
        RELEASED = "released", pgettext_lazy("offer", "Given up for a higher choice")

    LIVE = (Status.OFFERED, Status.ACCEPTED)  # holding a seat

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="offers")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="offers")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    respond_by = models.DateField(_("answer by"))
    made_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-made_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "program"],
                condition=Q(status__in=["offered", "accepted"]),
                name="one_live_offer",
            )
        ]
        indexes = [models.Index(fields=["status", "respond_by"], name="offers_to_expire")]

    def __str__(self):
        return f"{self.application} → {self.program} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class WaitlistEntry(models.Model):
    """A place on a program's waitlist: every school ranked above the offer (or every
    school, with no offer). Seats freed later go in (class, late, number) order."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a seat")
        LEFT = "left", _("No longer waiting")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="waitlist_entries")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="waitlist")
    priority_class = models.PositiveSmallIntegerField()
    late = models.BooleanField(default=False)
    number = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority_class", "late", "number"]
        constraints = [models.UniqueConstraint(fields=["application", "program"], name="waitlisted_once")]
        indexes = [
            models.Index(fields=["program", "status", "priority_class", "late", "number"], name="waitlist_order")
        ]

    def __str__(self):
        return f"{self.application} waiting for {self.program}"


class EnrollmentEvent(models.Model):
    """What happened to an application, for its history and what it causes (the
    family's email and letter: enrollment.notices). Handled after commit, swept."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Application received")
        UPDATED = "updated", _("Application changed")
        WITHDRAWN = "withdrawn", _("Application withdrawn")
        OFFERED = "offered", _("Seat offered")
        NOT_PLACED = "not_placed", _("No seat offered; on waitlists")
        WAITLIST_OFFER = "waitlist_offer", _("Seat offered from a waitlist")
        ACCEPTED = "accepted", _("Offer accepted")
        DECLINED = "declined", _("Offer declined")
        EXPIRED = "expired", _("Offer not answered in time")
        CORRECTED = "corrected", _("Result corrected")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(notified_at__isnull=True), name="enrollment_events_pending")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.application}"


class OfferLetter(models.Model):
    """The offer letter as issued: HTML and PDF kept with their SHA-256, like a permit's."""

    event = models.OneToOneField(EnrollmentEvent, on_delete=models.PROTECT, related_name="letter")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="letters")
    language = models.CharField(max_length=5)
    letter_date = models.DateField()
    html = models.TextField(blank=True)
    pdf = models.FileField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-letter_date", "-pk"]

    def __str__(self):
        return f"Offer letter {self.application} {self.letter_date}"

    @property
    def is_rendered(self) -> bool:
        return self.rendered_at is not None

    @property
    def filename(self) -> str:
        return f"{self.application.public_id}-offer-{self.letter_date.isoformat()}.pdf"


class Correction(models.Model):
    """A change after publication: only through a logged appeal or correction."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="corrections")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="corrections")
    reason = models.TextField(_("reason"))
    is_appeal = models.BooleanField(_("decided on appeal"), default=False)
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Correction of {self.application}"
