"""What an email is about and its attachment are filled from the old links to a permit
and a letter (see 0001), which then go with the link to the event."""

from django.db import migrations


def fill_subject_and_attachment(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    permit_type, _ = ContentType.objects.get_or_create(app_label="permits", model="permit")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outbox_outboxemail SET about_type_id = %s, about_id = permit_id WHERE permit_id IS NOT NULL",
            [permit_type.pk],
        )
        cursor.execute(
            """
            UPDATE outbox_outboxemail o
               SET attachment = l.pdf,
                   attachment_name = p.reference || '-' || l.kind || '-' || to_char(l.letter_date, 'YYYY-MM-DD') || '.pdf'
              FROM notifications_letter l JOIN permits_permit p ON p.id = l.permit_id
             WHERE l.id = o.letter_id AND l.pdf <> ''
            """
        )


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        # Checked now rather than at commit: PostgreSQL will not drop a column while
        # deferred foreign-key checks of the same table are still pending.
        migrations.RunSQL("SET CONSTRAINTS ALL IMMEDIATE", migrations.RunSQL.noop),
        migrations.RunPython(fill_subject_and_attachment, migrations.RunPython.noop),
        migrations.RunSQL(
            "ALTER TABLE outbox_outboxemail DROP COLUMN permit_id, DROP COLUMN event_id, DROP COLUMN letter_id",
            migrations.RunSQL.noop,
        ),
    ]
