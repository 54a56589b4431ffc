"""The outbox moves out of `notifications` with its table and rows.

The table is renamed; the state is created here (and deleted from `notifications` in
its 0003). The links to a permit, an event and a letter become a generic reference
to what the email is about and an attachment by stored file; 0002 fills them from
the old columns and drops those."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0002_letterparagraph_letter_outboxemail_letter_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE notifications_outboxemail RENAME TO outbox_outboxemail",
                    "ALTER TABLE outbox_outboxemail RENAME TO notifications_outboxemail",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="OutboxEmail",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=200, unique=True)),
                        ("template", models.CharField(max_length=100)),
                        ("language", models.CharField(max_length=5)),
                        ("to", models.EmailField(max_length=254)),
                        ("subject", models.CharField(max_length=300)),
                        ("body_text", models.TextField()),
                        ("body_html", models.TextField()),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Waiting to be sent"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        ("queued_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "verbose_name": "outgoing email",
                        "ordering": ["queued_at", "pk"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("status", "pending")), fields=["queued_at"], name="outbox_pending"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.AddField(
            model_name="outboxemail",
            name="about_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AddField(
            model_name="outboxemail",
            name="about_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxemail",
            name="attachment",
            field=models.FileField(blank=True, max_length=200, upload_to=""),
        ),
        migrations.AddField(
            model_name="outboxemail",
            name="attachment_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddIndex(
            model_name="outboxemail",
            index=models.Index(fields=["about_type", "about_id"], name="outbox_by_subject"),
        ),
    ]
