"""Information requests and appeals (from `reviews`) and decision letters (from
`notifications`) become the permit's own, with their tables and rows: the tables are
renamed and the state is created here; the old apps delete theirs (reviews 0004,
notifications 0003). Events get `notified_at`; every existing event was notified by
the code that wrote it, so it is marked done. Two partial indexes count a school's
seats in a grade (taken, asked for)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

RENAMES = [
    ("reviews_informationrequest", "permits_informationrequest"),
    ("reviews_informationrequest_document_types", "permits_informationrequest_document_types"),
    ("reviews_appeal", "permits_appeal"),
    ("notifications_letter", "permits_letter"),
]
LETTER_KINDS = [
    ("acceptance", "Acceptance"),
    ("release", "Release"),
    ("placement", "Intra-district placement"),
    ("denial", "Denial"),
    ("revocation", "Revocation"),
    ("abandonment", "Abandonment"),
    ("information_request", "Information request"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("permits", "0005_permit_permits_by_decided_at_and_more"),
        ("reviews", "0003_recordaccess"),
        ("notifications", "0002_letterparagraph_letter_outboxemail_letter_and_more"),
        # The outbox's migration reads notifications_letter before it is renamed here.
        ("outbox", "0002_drop_permit_links"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f"ALTER TABLE {old} RENAME TO {new}", f"ALTER TABLE {new} RENAME TO {old}")
                for old, new in RENAMES
            ],
            state_operations=[
                migrations.CreateModel(
                    name="InformationRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("message", models.TextField(verbose_name="message to the family")),
                        ("due_date", models.DateField(verbose_name="answer due by")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("answer", models.TextField(blank=True, verbose_name="family's answer")),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("document_types", models.ManyToManyField(blank=True, related_name="+", to="permits.documenttype")),
                        (
                            "permit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="information_requests",
                                to="permits.permit",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                            ),
                        ),
                    ],
                    options={"ordering": ["-created_at", "-pk"]},
                ),
                migrations.CreateModel(
                    name="Appeal",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        (
                            "level",
                            models.CharField(
                                choices=[("internal", "Internal appeal"), ("county", "County board of education")],
                                max_length=10,
                            ),
                        ),
                        ("filed_on", models.DateField(verbose_name="filed on")),
                        ("statement", models.TextField(blank=True, verbose_name="statement")),
                        ("hearing_on", models.DateField(blank=True, null=True, verbose_name="hearing date")),
                        ("county_due_date", models.DateField(blank=True, null=True, verbose_name="county decision due")),
                        (
                            "extension_reason",
                            models.TextField(
                                blank=True,
                                help_text="The largest counties may take 60 days, with a recorded reason.",
                                verbose_name="reason for the 60-day period",
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("upheld", "Denial upheld"),
                                    ("overturned", "Denial overturned"),
                                    ("granted", "Granted by the county"),
                                    ("denied", "Denied by the county"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="pending",
                                max_length=12,
                            ),
                        ),
                        ("decided_on", models.DateField(blank=True, null=True, verbose_name="decided on")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "filed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "permit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="appeals", to="permits.permit"
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["created_at", "pk"],
                        "constraints": [models.UniqueConstraint(fields=("permit", "level"), name="one_appeal_per_level")],
                    },
                ),
                migrations.CreateModel(
                    name="Letter",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=LETTER_KINDS, max_length=30)),
                        ("language", models.CharField(max_length=5)),
                        ("letter_date", models.DateField()),
                        ("verification_code", models.CharField(blank=True, max_length=12, null=True, unique=True)),
                        ("html", models.TextField(blank=True)),
                        ("pdf", models.FileField(blank=True, max_length=200, upload_to="")),
                        ("sha256", models.CharField(blank=True, max_length=64)),
                        ("rendered_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "event",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT, related_name="letter", to="permits.permitevent"
                            ),
                        ),
                        (
                            "permit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="letters", to="permits.permit"
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-letter_date", "-pk"],
                        "indexes": [models.Index(fields=["letter_date", "kind"], name="letters_by_day")],
                    },
                ),
            ],
        ),
        migrations.AddField(
            model_name="permitevent",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL("UPDATE permits_permitevent SET notified_at = created_at", migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="permitevent",
            index=models.Index(
                condition=models.Q(("notified_at__isnull", True)), fields=["created_at"], name="permit_events_to_notify"
            ),
        ),
        migrations.AddIndex(
            model_name="permit",
            index=models.Index(
                condition=models.Q(("status", "approved")),
                fields=["placed_school", "school_year", "grade"],
                name="approved_permits_by_seat",
            ),
        ),
        migrations.AddIndex(
            model_name="permit",
            index=models.Index(
                condition=models.Q(("status__in", ["submitted", "under_review", "info_requested"])),
                fields=["requested_school", "school_year", "grade"],
                name="open_permits_by_requested_seat",
            ),
        ),
    ]
