from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    """An email the portal owes someone, written in the same transaction as its cause.

    The row is the promise; Celery only delivers it. A broker outage or a killed worker
    delays the email, the sweeper sends it later, and the unique key makes a second
    copy of the same message impossible.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(max_length=200, unique=True)
    permit = models.ForeignKey("permits.Permit", null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    event = models.ForeignKey(
        "permits.PermitEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="emails"
    )
    # The decision letter travels with the email as a PDF attachment.
    letter = models.ForeignKey("Letter", null=True, blank=True, on_delete=models.PROTECT, related_name="emails")
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=5)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        verbose_name = _("outgoing email")
        indexes = [
            # The sweeper looks only at what is still pending.
            models.Index(fields=["queued_at"], condition=models.Q(status="pending"), name="outbox_pending")
        ]

    def __str__(self):
        return f"{self.template} → {self.to} ({self.status})"


class Letter(models.Model):
    """A decision letter as issued: its HTML and PDF are kept and never rendered again
    differently, so a later change to a template only changes later letters."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("Acceptance")
        RELEASE = "release", _("Release")
        PLACEMENT = "placement", _("Intra-district placement")
        DENIAL = "denial", _("Denial")
        REVOCATION = "revocation", _("Revocation")
        ABANDONMENT = "abandonment", _("Abandonment")
        INFORMATION_REQUEST = "information_request", _("Information request")

    VERIFIABLE = (Kind.ACCEPTANCE, Kind.RELEASE)

    permit = models.ForeignKey("permits.Permit", on_delete=models.PROTECT, related_name="letters")
    event = models.OneToOneField("permits.PermitEvent", on_delete=models.PROTECT, related_name="letter")
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


class LetterParagraph(models.Model):
    """A district's own paragraph for one kind of letter, edited in the admin as plain
    text (escaped when printed, never HTML)."""

    kind = models.CharField(max_length=30, choices=Letter.Kind.choices, unique=True)
    text_en = models.TextField(_("paragraph (English)"), blank=True)
    text_es = models.TextField(_("paragraph (Spanish)"), blank=True)

    def __str__(self):
        return self.get_kind_display()


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
