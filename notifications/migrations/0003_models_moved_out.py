"""The outbox (outbox 0001), decision letters (permits 0006) and letter batches
(reviews 0004) moved out with their tables and rows; only their state leaves here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_letterparagraph_letter_outboxemail_letter_and_more"),
        ("outbox", "0002_drop_permit_links"),
        ("permits", "0006_moved_models_and_event_notification"),
        ("reviews", "0004_moved_models_and_letter_batches"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="LetterBatch"),
                migrations.DeleteModel(name="OutboxEmail"),
                migrations.DeleteModel(name="Letter"),
            ],
        ),
    ]
