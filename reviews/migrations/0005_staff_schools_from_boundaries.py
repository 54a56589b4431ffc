# The school moved to the boundaries app (state only: the many-to-many table is unchanged).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("boundaries", "0001_initial"),
        ("reviews", "0004_moved_models_and_letter_batches"),
    ]
    # Before permits drops the school from its state, nothing may still point at it there.
    run_before = [("permits", "0011_school_moves_to_boundaries_permit_residence")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="staffrole",
                    name="schools",
                    field=models.ManyToManyField(blank=True, related_name="staff_roles", to="boundaries.school"),
                ),
            ],
            database_operations=[],
        ),
    ]
