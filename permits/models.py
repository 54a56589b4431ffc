import secrets
from datetime import date

from asgiref.local import Local
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from applicants.models import Family, Grade, Residence, Student
from boundaries.lookup import Finding
from boundaries.models import ResidenceReview, School


def in_active_language(english: str, spanish: str) -> str:
    """The one choice between a text's two variants: the Spanish one when the active
    language is Spanish and the district wrote it, the English one otherwise."""
    if spanish and (get_language() or "en").startswith("es"):
        return spanish
    return english


class Bilingual(models.Model):
    """Configuration text that parents read, kept in both languages."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name_en

    @property
    def name(self) -> str:
        return in_active_language(self.name_en, self.name_es)


def list_of_reminder_days() -> list[int]:
    return [10, 5, 2, 1]


# The district row of the request or task under way (see District.current).
_current = Local()


class District(models.Model):
    """The district's configuration. There is exactly one row (pk=1)."""

    name = models.CharField(_("district name"), max_length=200)
    county = models.CharField(_("county"), max_length=100)
    street = models.CharField(_("street address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2, default="CA")
    postal_code = models.CharField(_("ZIP code"), max_length=10)
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("permits office email"))
    office_name = models.CharField(_("office name"), max_length=200, default="Office of Student Services")
    director_name = models.CharField(_("director's name"), max_length=200, default="")
    director_title_en = models.CharField(
        _("director's title (English)"), max_length=200, default="Director of Student Services"
    )
    director_title_es = models.CharField(
        _("director's title (Spanish)"), max_length=200, default="Director de Servicios Estudiantiles"
    )
    logo = models.ImageField(_("logo for letters"), blank=True)
    county_office = models.TextField(
        _("county board of education contact"),
        help_text=_("Name, address and phone of the county office that hears appeals."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Los_Angeles")
    service_level_days = models.PositiveSmallIntegerField(
        _("district decision target (days from receipt)"),
        null=True,
        blank=True,
        help_text=_("The district's own deadline for every request; the earlier date applies."),
    )
    info_response_days = models.PositiveSmallIntegerField(
        _("days a family has to answer an information request"), default=10
    )
    offers_internal_appeal = models.BooleanField(
        _("the district offers an internal appeal of a denial"),
        default=True,
        help_text=_(
            "When it does, a denial becomes final only once the internal appeal is decided or its window closes."
        ),
    )
    internal_appeal_days = models.PositiveSmallIntegerField(
        _("days to file an internal appeal after a denial"), default=10
    )
    internal_appeal_decision_days = models.PositiveSmallIntegerField(
        _("days the district takes to decide an internal appeal"),
        default=10,
        help_text=_("Counted from the filing; for a current-year request never past the request's legal due date."),
    )
    county_class = models.PositiveSmallIntegerField(
        _("county class"),
        null=True,
        blank=True,
        choices=[(n, str(n)) for n in range(1, 8)],
        help_text=_("Class 1 and 2 counties may take 60 days to decide an appeal (EC 46601, as amended by SB 413)."),
    )
    reminder_days = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("remind staff this many days before a due date"),
        default=list_of_reminder_days,
    )
    technicians_can_deny = models.BooleanField(
        _("technicians may deny without the director's confirmation"), default=False
    )
    permit_term_years = models.PositiveSmallIntegerField(
        _("school years an inter-district permit lasts"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("At most five school years (EC 46600(a)); enrolled students do not reapply each year."),
    )

    class UnconfirmedContinuation(models.TextChoices):
        RELEASE_SEAT = "release_seat", _("release the seat: the permit lapses")
        KEEP_SEAT = "keep_seat", _("keep the seat: the student is expected back")

    unconfirmed_continuation = models.CharField(
        _("when a family does not confirm a continuing student"),
        max_length=20,
        choices=UnconfirmedContinuation.choices,
        default=UnconfirmedContinuation.KEEP_SEAT,
    )
    continuation_reminder_days = models.PositiveSmallIntegerField(
        _("remind families this many days before the confirmation deadline"), default=7
    )
    max_file_mb = models.PositiveSmallIntegerField(_("largest file (MB)"), default=10)
    max_packet_mb = models.PositiveSmallIntegerField(_("largest packet (MB)"), default=40)
    board_policy = models.CharField(
        _("board policy on transfers"),
        max_length=200,
        blank=True,
        help_text=_("The board policy and regulation the permit rules come from, e.g. BP/AR 5117."),
    )
    policy_intro_en = models.TextField(_("policy introduction (English)"), blank=True)
    policy_intro_es = models.TextField(_("policy introduction (Spanish)"), blank=True)
    appeal_steps_en = models.TextField(_("internal appeal steps (English)"), blank=True)
    appeal_steps_es = models.TextField(_("internal appeal steps (Spanish)"), blank=True)
    revocation_conditions_en = models.TextField(_("revocation conditions (English)"), blank=True)
    revocation_conditions_es = models.TextField(_("revocation conditions (Spanish)"), blank=True)

    class Meta:
        verbose_name = _("district")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        District.forget_current()

    @classmethod
    def current(cls) -> "District":
        """The district's row, read once per request and once per task: the request
        middleware and Celery's task_prerun forget it (permits.apps), as does save()."""
        district = getattr(_current, "district", None)
        if district is None:
            district = _current.district = cls.objects.get(pk=1)
        return district

    @classmethod
    def forget_current(cls) -> None:
        try:
            del _current.district
        except AttributeError:
            pass

    def localized(self, field: str) -> str:
        return in_active_language(getattr(self, f"{field}_en"), getattr(self, f"{field}_es"))

    @property
    def director_title(self) -> str:
        return self.localized("director_title")

    @property
    def policy_intro(self) -> str:
        return self.localized("policy_intro")

    @property
    def appeal_steps(self) -> str:
        return self.localized("appeal_steps")

    @property
    def revocation_conditions(self) -> str:
        return self.localized("revocation_conditions")

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def max_packet_bytes(self) -> int:
        return self.max_packet_mb * 1024 * 1024


class SchoolYear(models.Model):
    name = models.CharField(_("name"), max_length=20, unique=True, help_text="e.g. 2027-28")
    first_day_of_instruction = models.DateField(_("first day of instruction"))
    last_day_of_instruction = models.DateField(_("last day of instruction"))
    applications_open_on = models.DateField(_("requests accepted from"))
    applications_close_on = models.DateField(_("requests accepted until"))
    # Continuing permit students confirm they return for this year by this date.
    continuation_confirm_by = models.DateField(_("continuing students confirm by"), null=True, blank=True)

    class Meta:
        ordering = ["-first_day_of_instruction"]
        verbose_name = _("school year")

    def __str__(self):
        return self.name

    def accepts_requests_on(self, day: date) -> bool:
        return self.applications_open_on <= day <= self.applications_close_on


class NonInstructionalDay(models.Model):
    """A weekday without instruction (a holiday, a recess day): school days, and so
    school months (EC 37201: 20 school days), skip it."""

    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="non_instructional_days")
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("day without instruction")
        constraints = [models.UniqueConstraint(fields=["school_year", "day"], name="one_entry_per_day")]

    def __str__(self):
        return f"{self.day} {self.name}"


class SeatAllocation(models.Model):
    """How many permit seats a school offers in one grade for one school year."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="seats")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="seats")
    grade = models.SmallIntegerField(_("grade"), choices=Grade.choices)
    capacity = models.PositiveIntegerField(_("permit seats"))

    class Meta:
        verbose_name = _("seats per grade")
        verbose_name_plural = _("seats per grade")
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "grade"], name="one_allocation_per_grade")
        ]

    def __str__(self):
        return f"{self.school} {self.get_grade_display()} {self.school_year}: {self.capacity}"


class PermitKind(models.TextChoices):
    INTER_IN = "inter_in", _("Inter-district, incoming")
    INTER_OUT = "inter_out", _("Inter-district, outgoing")
    INTRA = "intra", _("Intra-district")


class DocumentType(Bilingual):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    help_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    help_es = models.CharField(_("help text (Spanish)"), max_length=300, blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("document type")

    @property
    def help(self) -> str:
        return in_active_language(self.help_en, self.help_es)


class Reason(Bilingual):
    """A reason a family gives for an outgoing inter-district permit."""

    class PriorityGroup(models.TextChoices):
        NONE = "", _("none")
        BULLYING = "bullying", _("bullying victim")
        MILITARY = "military", _("active-duty military")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("permit kind"), max_length=10, choices=PermitKind.choices, default=PermitKind.INTER_OUT)
    priority_group = models.CharField(_("priority group"), max_length=10, choices=PriorityGroup.choices, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered to families"), default=True)

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("reason")


class DocumentRule(models.Model):
    """One line of a packet's checklist: which document a kind (and reason) requires."""

    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="rules")
    kind = models.CharField(_("permit kind"), max_length=10, choices=PermitKind.choices)
    reason = models.ForeignKey(
        Reason,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="document_rules",
        help_text=_("Leave empty for a document every packet of this kind needs."),
    )
    special_education_only = models.BooleanField(_("only for students with special education services"), default=False)
    is_release = models.BooleanField(
        _("this is the home district's release"),
        default=False,
        help_text=_("A packet may be submitted with the release pending; it cannot be approved."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("document rule")
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "kind", "reason"],
                name="one_rule_per_document",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.document_type}"


def unambiguous_code(length: int) -> str:
    """Random characters people can read aloud and type back: no 0/O, no 1/I."""
    return "".join(secrets.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(length))


def _new_reference() -> str:
    # Short enough for parents to read over the phone; never used as an access key.
    return "P-" + unambiguous_code(8)


class DecisionRule(models.TextChoices):
    """The protection that shaped a decision, recorded on it (DOMAIN §2)."""

    BULLYING_INTRA = "bullying_intra", _("Intra-district request of a bullying victim: approved (EC 46600(b))")
    OUTGOING_PROTECTED = (
        "outgoing_protected",
        _(
            "Outgoing request of a bullying victim or a child of an active-duty military parent: "
            "the district of residence may not prohibit it (EC 46600(b), (d))"
        ),
    )
    INCOMING_PRIORITY = (
        "incoming_priority",
        _(
            "Incoming request of a bullying victim or a child of an active-duty military parent: "
            "accepted up to capacity, never refused for grades, attendance or behavior (EC 46600(b), (d))"
        ),
    )


class VoidReason(models.TextChoices):
    """Voiding takes a request off the legal clock, so only these reasons allow it."""

    DUPLICATE = "duplicate", _("A duplicate of another request")
    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")
    WITHDRAWN_IN_WRITING = "withdrawn_in_writing", _("Withdrawn by the family in writing")


class Permit(models.Model):
    """A family's permit request for one student, one school year and one kind: its packet."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Under review")
        INFO_REQUESTED = "info_requested", _("Information requested")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        VOIDED = "voided", _("Voided")
        ABANDONED = "abandoned", _("Abandoned")
        REVOKED = "revoked", _("Revoked")

    class YearType(models.TextChoices):
        CURRENT = "current", _("Current year")
        FUTURE = "future", _("Future year")

    S = Status
    # Every allowed status change. Nothing outside permits/services.py assigns .status.
    TRANSITIONS = {
        S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
        S.SUBMITTED: {S.UNDER_REVIEW, S.INFO_REQUESTED, S.APPROVED, S.DENIED, S.WITHDRAWN, S.VOIDED},
        S.UNDER_REVIEW: {S.INFO_REQUESTED, S.APPROVED, S.DENIED, S.WITHDRAWN, S.VOIDED},
        S.INFO_REQUESTED: {S.UNDER_REVIEW, S.ABANDONED, S.WITHDRAWN, S.VOIDED},
        # ABANDONED: a continuing year of a multi-year permit the family did not confirm.
        S.APPROVED: {S.REVOKED, S.VOIDED, S.ABANDONED},
        S.DENIED: {S.APPROVED},  # an appeal overturned or granted
        S.WITHDRAWN: set(),
        S.VOIDED: set(),
        S.ABANDONED: set(),
        S.REVOKED: set(),
    }
    OPEN_STATUSES = (S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED)
    WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED)

    reference = models.CharField(_("reference"), max_length=12, unique=True, default=_new_reference)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="permits")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="permits")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="permits")
    kind = models.CharField(_("kind"), max_length=10, choices=PermitKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    grade = models.SmallIntegerField(_("grade"), choices=Grade.choices)

    # inter_in and intra: where the family wants the student to attend.
    requested_school = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested school"),
    )
    # intra: the school of residence where the student is registered today.
    school_of_residence = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("school of residence"),
    )
    # The family's address when the packet was submitted (the one its school of
    # residence was looked up for); a later move does not rewrite it.
    residence = models.ForeignKey(
        Residence,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="permits",
        verbose_name=_("address"),
    )
    # inter_in: the district the family lives in, which must release the student.
    home_district = models.CharField(_("district of residence"), max_length=200, blank=True)
    release_pending = models.BooleanField(_("release pending"), default=False)
    # The release that arrived after submission: uploaded by the family, or recorded by
    # staff when it came another way (paper, the other district's verification code).
    release_received_at = models.DateTimeField(_("release received"), null=True, blank=True)
    release_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_received_how = models.CharField(_("how the release arrived"), max_length=300, blank=True)
    # inter_out: where the student wants to go, and why.
    destination_district = models.CharField(_("district requested"), max_length=200, blank=True)
    destination_school = models.CharField(_("school requested there"), max_length=200, blank=True)
    reason = models.ForeignKey(
        Reason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="permits",
        verbose_name=_("reason"),
    )
    bullying_victim = models.BooleanField(_("the student is a victim of bullying"), default=False)
    military_family = models.BooleanField(_("a parent is on active military duty"), default=False)
    explanation = models.TextField(_("anything the district should know"), blank=True)

    # Staff side: who works the packet, where it places the student, and why.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    placed_school = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
        verbose_name=_("school placed at"),
    )
    denial_reasons = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    decision_note = models.TextField(_("decision explanation"), blank=True)
    denial_recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    denial_recommended_at = models.DateTimeField(null=True, blank=True)
    info_due_date = models.DateField(_("information due by"), null=True, blank=True)
    # Set by the daily check when the legal due date passed without a decision (never
    # the district's own tighter target): the request counts as denied for appeal
    # purposes from that day (EC 46600.1(d)(1)), and the family is told.
    deemed_denial_risk_since = models.DateField(null=True, blank=True)
    # The dated rule set of permits.clock that applied on the day of receipt.
    rule_set = models.CharField(_("rules applied"), max_length=20, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=30, choices=VoidReason.choices, blank=True)
    decision_rule = models.CharField(_("rule applied"), max_length=30, choices=DecisionRule.choices, blank=True)
    # A multi-year permit (EC 46600(a)): how many school years, from the first one, the
    # approval covers; each later year is its own row that `continues` the previous.
    term_years = models.PositiveSmallIntegerField(_("term (school years)"), null=True, blank=True)
    continues = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="continued_by",
        verbose_name=_("continues the permit of"),
    )
    continuation_confirmed_at = models.DateTimeField(_("return confirmed"), null=True, blank=True)
    continuation_reminded_at = models.DateTimeField(null=True, blank=True)
    revocation_effective_on = models.DateField(_("revocation effective"), null=True, blank=True)

    wizard_step = models.CharField(max_length=20, default="details")
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    year_type = models.CharField(_("request timing"), max_length=10, choices=YearType.choices, blank=True)
    legal_due_date = models.DateField(_("legal decision due date"), null=True, blank=True)
    district_due_date = models.DateField(_("district target date"), null=True, blank=True)
    due_date = models.DateField(_("decision due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # The emails the portal sent about this permit (its communication log).
    emails = GenericRelation("outbox.OutboxEmail", content_type_field="about_type", object_id_field="about_id")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("permit request")
        constraints = [
            # A student may hold only one live packet per year and kind.
            models.UniqueConstraint(
                fields=["student", "school_year", "kind"],
                condition=Q(status__in=["draft", "submitted", "under_review", "info_requested", "approved"]),
                name="one_live_permit_per_student_year_kind",
                violation_error_message=_("This student already has a request of this kind for this school year."),
            )
        ]
        indexes = [
            # Reports and the daily check count decisions by day.
            models.Index(fields=["decided_at"], name="permits_by_decided_at"),
            # The daily check finds information requests past their deadline.
            models.Index(
                fields=["info_due_date"], condition=Q(status="info_requested"), name="info_requests_by_due_date"
            ),
            # The staff queue and the daily deadline sweep read open requests by due date.
            models.Index(
                fields=["due_date", "id"],
                condition=Q(status__in=["submitted", "under_review", "info_requested"]),
                name="open_permits_by_due_date",
            ),
            # The daily check finds undecided requests past their legal due date.
            models.Index(
                fields=["legal_due_date"],
                condition=Q(
                    status__in=["submitted", "under_review", "info_requested"], deemed_denial_risk_since__isnull=True
                ),
                name="undecided_past_legal_due",
            ),
            # The daily check finds continuing years the family has not confirmed yet.
            models.Index(
                fields=["school_year"],
                condition=Q(status="approved", continues__isnull=False, continuation_confirmed_at__isnull=True),
                name="continuations_to_confirm",
            ),
            # Counting the seats taken at a school in a grade (approval, review page).
            models.Index(
                fields=["placed_school", "school_year", "grade"],
                condition=Q(status="approved"),
                name="approved_permits_by_seat",
            ),
            # The seats asked for at a school in a grade (review page).
            models.Index(
                fields=["requested_school", "school_year", "grade"],
                condition=Q(status__in=["submitted", "under_review", "info_requested"]),
                name="open_permits_by_requested_seat",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in self.WITHDRAWABLE

    @property
    def needs_seat(self) -> bool:
        """Incoming and intra-district students take a seat at a school of ours."""
        return self.kind in (PermitKind.INTER_IN, PermitKind.INTRA)

    def residence_needs_review(self, finding: Finding) -> bool:
        """Whether staff must name the school of residence of this packet's address.

        An incoming family lives outside the district: no boundary holding its address
        is the ordinary answer, not a question for staff (who decide a review by naming
        a district school). Only an address inside several boundaries is reviewed."""
        if not finding.needs_review:
            return False
        return self.kind != PermitKind.INTER_IN or finding.reason == ResidenceReview.Reason.SEVERAL

    @property
    def is_priority(self) -> bool:
        return self.bullying_victim or self.military_family or bool(self.reason_id and self.reason.priority_group)

    @property
    def can_be_revoked(self) -> bool:
        """No revocation for a student entering grade 11 or 12 next year (DOMAIN §3)."""
        entering_next_year = self.grade + 1
        return self.status == self.Status.APPROVED and entering_next_year < 11

    @property
    def denial_pending_confirmation(self) -> bool:
        return self.denial_recommended_at is not None and self.status in self.OPEN_STATUSES

    def get_denial_reasons_display(self) -> list[str]:
        labels = dict(DenialReason.choices)
        return [str(labels.get(code, code)) for code in self.denial_reasons]


class DenialReason(models.TextChoices):
    # The home district never released the student: not an appealable denial
    # (EC 46600.1(d)(2)); it is given alone (reviews.forms).
    NO_RELEASE = "no_release", _("The district of residence has not released the student")
    NO_SPACE = "no_space", _("No space at the school and grade requested")
    GRADES = "grades", _("Grades are not satisfactory")
    ATTENDANCE = "attendance", _("Attendance is not satisfactory")
    BEHAVIOR = "behavior", _("Behavior is not satisfactory")
    REASON_NOT_SUPPORTED = "reason_not_supported", _("The documents do not support the reason given")
    OTHER = "other", _("Other reason (explained below)")


class Document(models.Model):
    class Review(models.TextChoices):
        PENDING = "pending", _("Not yet reviewed")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="documents")
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    # The key is chosen by the server (see permits.uploads); the family's filename is
    # kept only as display text.
    file = models.FileField(max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    rejection_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name


class PermitEvent(models.Model):
    """One audited change on a permit: who, when, from → to, why. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Request started")
        STATUS = "status", _("Status changed")
        DOCUMENT_ADDED = "document_added", _("Document added")
        DOCUMENT_REMOVED = "document_removed", _("Document removed")
        DOCUMENT_VERIFIED = "document_verified", _("Document verified")
        DOCUMENT_REJECTED = "document_rejected", _("Document rejected")
        ASSIGNED = "assigned", _("Assigned")
        INFO_ANSWERED = "info_answered", _("Family answered")
        DENIAL_RECOMMENDED = "denial_recommended", _("Denial recommended")
        SITE_REVIEWED = "site_reviewed", _("Reviewed by the school")
        REVOCATION_RECOMMENDED = "revocation_recommended", _("Revocation recommended")
        RELEASE_RECEIVED = "release_received", _("Release received")
        DEEMED_DENIED = "deemed_denied", _("Not decided in time: counts as a denial")
        PROVISIONAL_ATTENDANCE = "provisional_attendance", _("Provisional attendance")
        CONTINUATION_CONFIRMED = "continuation_confirmed", _("Return confirmed")
        APPEAL_FILED = "appeal_filed", _("Appeal filed")
        APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
        COUNTY_APPEAL = "county_appeal", _("County appeal updated")

    # What the family's own history shows: never staff-internal steps.
    FAMILY_VISIBLE = (
        Kind.CREATED,
        Kind.STATUS,
        Kind.DOCUMENT_ADDED,
        Kind.DOCUMENT_REJECTED,
        Kind.INFO_ANSWERED,
        Kind.RELEASE_RECEIVED,
        Kind.DEEMED_DENIED,
        Kind.CONTINUATION_CONFIRMED,
        Kind.APPEAL_FILED,
        Kind.APPEAL_DECIDED,
    )

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    old_status = models.CharField(max_length=20, choices=Permit.Status.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=Permit.Status.choices, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When what the event causes (emails, a letter: notifications.events) was done.
    # Null until then; the event sweeper re-runs whatever stays null.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(notified_at__isnull=True), name="permit_events_to_notify")
        ]

    def __str__(self):
        return f"{self.permit} {self.kind} {self.created_at:%Y-%m-%d}"


class InformationRequest(models.Model):
    """Staff ask the family for missing or rejected documents by a dated deadline;
    the family reads it on its packet page and answers it there."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="information_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("message to the family"))
    document_types = models.ManyToManyField(DocumentType, blank=True, related_name="+")
    due_date = models.DateField(_("answer due by"))
    # A deadline on or after the request's legal due date needs a director's reason.
    deadline_override_reason = models.TextField(_("why the deadline runs past the legal due date"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("family's answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Information request on permit {self.permit_id}"


class Appeal(models.Model):
    """An appeal of a final denial: to the district (filed by the family) or to the
    county board of education (recorded by the director)."""

    class Level(models.TextChoices):
        INTERNAL = "internal", _("Internal appeal")
        COUNTY = "county", _("County board of education")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Denial upheld")
        OVERTURNED = "overturned", _("Denial overturned")
        GRANTED = "granted", _("Granted by the county")
        DENIED = "denied", _("Denied by the county")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="appeals")
    level = models.CharField(max_length=10, choices=Level.choices)
    filed_on = models.DateField(_("filed on"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statement = models.TextField(_("statement"), blank=True)
    hearing_on = models.DateField(_("hearing date"), null=True, blank=True)
    # Internal appeals: when the district must decide (permits.rights).
    decision_due_date = models.DateField(_("decision due"), null=True, blank=True)
    county_due_date = models.DateField(_("county decision due"), null=True, blank=True)
    extension_reason = models.TextField(
        _("reason for the 60-day period"),
        blank=True,
        help_text=_("Class 1 and 2 counties may take 60 days, with a recorded reason."),
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["permit", "level"], name="one_appeal_per_level")]

    def __str__(self):
        return f"{self.get_level_display()} {self.permit}"


class ProvisionalAttendance(models.Model):
    """A pupil attending provisionally while a decision or an appeal is pending: at
    most two school months from the first day attending (EC 46603)."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="provisional_attendances")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school"))
    started_on = models.DateField(_("first day attending"))
    reason = models.TextField(_("reason"))
    # The last day allowed, from the school year's calendar (permits.clock).
    ends_by = models.DateField(_("may attend until"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ends_by", "pk"]
        verbose_name = _("provisional attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["permit"], condition=Q(ended_on__isnull=True), name="one_open_provisional_attendance"
            )
        ]

    def __str__(self):
        return f"{self.permit} at {self.school} from {self.started_on}"


class Letter(models.Model):
    """A decision letter as issued: its HTML and PDF are kept and never rendered again
    differently, so a later change to a template only changes later letters. Which
    event issues which letter is notifications.events' table."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("Acceptance")
        RELEASE = "release", _("Release")
        PLACEMENT = "placement", _("Intra-district placement")
        DENIAL = "denial", _("Denial")
        FINAL_DENIAL = "final_denial", _("Final denial after the internal appeal")
        REVOCATION = "revocation", _("Revocation")
        ABANDONMENT = "abandonment", _("Abandonment")
        INFORMATION_REQUEST = "information_request", _("Information request")

    VERIFIABLE = (Kind.ACCEPTANCE, Kind.RELEASE)

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="letters")
    event = models.OneToOneField(PermitEvent, on_delete=models.PROTECT, related_name="letter")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    language = models.CharField(max_length=5)
    letter_date = models.DateField()
    verification_code = models.CharField(max_length=12, unique=True, null=True, blank=True)
    html = models.TextField(blank=True)
    pdf = models.FileField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-letter_date", "-pk"]
        indexes = [models.Index(fields=["letter_date", "kind"], name="letters_by_day")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.permit} {self.letter_date}"

    @property
    def is_rendered(self) -> bool:
        return self.rendered_at is not None

    @property
    def filename(self) -> str:
        return f"{self.permit.reference}-{self.kind}-{self.letter_date.isoformat()}.pdf"
