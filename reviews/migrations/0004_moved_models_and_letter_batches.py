"""Information requests and appeals now belong to `permits` (its 0006 renamed their
tables); the director's letter batches come here from `notifications`, with their
tables and rows; the record of disclosures points at the letter's new home."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

RENAMES = [
    ("notifications_letterbatch", "reviews_letterbatch"),
    ("notifications_letterbatch_letters", "reviews_letterbatch_letters"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_recordaccess"),
        ("permits", "0006_moved_models_and_event_notification"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="InformationRequest"),
                migrations.DeleteModel(name="Appeal"),
                migrations.AlterField(
                    model_name="recordaccess",
                    name="letter",
                    field=models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="permits.letter"
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f"ALTER TABLE {old} RENAME TO {new}", f"ALTER TABLE {new} RENAME TO {old}")
                for old, new in RENAMES
            ],
            state_operations=[
                migrations.CreateModel(
                    name="LetterBatch",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("description", models.CharField(max_length=300)),
                        (
                            "status",
                            models.CharField(
                                choices=[("queued", "Queued"), ("running", "Building"), ("done", "Ready"), ("failed", "Failed")],
                                default="queued",
                                max_length=10,
                            ),
                        ),
                        ("total", models.PositiveIntegerField(default=0)),
                        ("done", models.PositiveIntegerField(default=0)),
                        ("pdf", models.FileField(blank=True, max_length=200, upload_to="")),
                        ("error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("letters", models.ManyToManyField(related_name="+", to="permits.letter")),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                            ),
                        ),
                    ],
                ),
            ],
        ),
    ]
