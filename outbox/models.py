from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    """An email the portal owes someone, written in the same transaction as its cause.

    The row is the promise; Celery only delivers it. A broker outage or a killed worker
    delays the email, the sweeper sends it later, and the unique key makes a second
    copy of the same message impossible.

    The outbox knows nothing of permits: an email is *about* any row (a generic
    reference, so a permit's page can list its emails) and carries at most one stored
    file as its attachment, named by its storage key, so delivery only reads bytes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(max_length=200, unique=True)
    about_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=5)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    attachment = models.FileField(max_length=200, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
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
            models.Index(fields=["queued_at"], condition=models.Q(status="pending"), name="outbox_pending"),
            # A permit's page lists the emails about it.
            models.Index(fields=["about_type", "about_id"], name="outbox_by_subject"),
        ]

    def __str__(self):
        return f"{self.template} → {self.to} ({self.status})"
