from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from boundaries.models import School
from permits.models import Letter, Permit


class Role(models.TextChoices):
    TECHNICIAN = "technician", _("CWA technician")
    SITE_ADMIN = "site_admin", _("Site administrator")
    DIRECTOR = "director", _("Director of Student Services")
    DISTRICT_ADMIN = "district_admin", _("District administrator")


class StaffRole(models.Model):
    """What a staff member may do, assigned in the admin. A site administrator's
    role names the schools they see; other roles see the whole district."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    schools = models.ManyToManyField(School, blank=True, related_name="staff_roles")

    class Meta:
        verbose_name = _("staff role")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_row_per_role")]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}"


class InternalNote(models.Model):
    """Staff notes on a packet. Parents never see them."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Note on permit {self.permit_id}"


class SiteReview(models.Model):
    class Outcome(models.TextChoices):
        CONTINUE = "continue", _("Reviewed: the permit continues")
        RECOMMEND_REVOCATION = "recommend_revocation", _("Revocation recommended")

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="site_reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Site review of permit {self.permit_id}: {self.outcome}"


class DeadlineReminder(models.Model):
    """A due-date reminder already sent for a packet: each threshold once."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["permit", "days_before"], name="one_reminder_per_threshold")]

    def __str__(self):
        return f"Reminder {self.days_before} days before, permit {self.permit_id}"


class DeadlineCheckRun(models.Model):
    """The last day the daily deadline check covered (one row), so that a check that
    did not run for days catches up on each missed day's escalations."""

    last_day = models.DateField()
    finished_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Deadline check through {self.last_day}"


class RecordAccess(models.Model):
    """FERPA's record of disclosures: every time staff open a student's document or
    letter — who, what, when and why. Never edited."""

    class Purpose(models.TextChoices):
        PERMIT_REVIEW = "permit_review", _("Permit review")
        LETTER_PRINT = "letter_print", _("Printing decision letters")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="record_accesses")
    document = models.ForeignKey("permits.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    letter = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.user_id} opened permit {self.permit_id} at {self.at:%Y-%m-%d %H:%M}"


class LetterBatch(models.Model):
    """A director's batch print: one PDF of many issued letters, built in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Building")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey("applicants.User", on_delete=models.PROTECT, related_name="+")
    letters = models.ManyToManyField(Letter, related_name="+")
    description = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    pdf = models.FileField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Batch {self.pk}: {self.description}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
