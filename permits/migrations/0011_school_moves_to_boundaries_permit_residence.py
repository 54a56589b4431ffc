# The school moves to the boundaries app (state only: the table keeps its name and rows,
# every foreign key keeps its column and constraint). A permit records the address it
# was submitted from.

import django.db.models.deletion
from django.db import migrations, models


def school_fk(**options):
    return models.ForeignKey(to="boundaries.school", **options)


class Migration(migrations.Migration):

    dependencies = [
        ("applicants", "0002_residence"),
        ("boundaries", "0001_initial"),
        ("permits", "0010_continuations_to_confirm"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="permit",
                    name="requested_school",
                    field=school_fk(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="+", verbose_name="requested school",
                    ),
                ),
                migrations.AlterField(
                    model_name="permit",
                    name="school_of_residence",
                    field=school_fk(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="+", verbose_name="school of residence",
                    ),
                ),
                migrations.AlterField(
                    model_name="permit",
                    name="placed_school",
                    field=school_fk(
                        blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="placements", verbose_name="school placed at",
                    ),
                ),
                migrations.AlterField(
                    model_name="seatallocation",
                    name="school",
                    field=school_fk(on_delete=django.db.models.deletion.CASCADE, related_name="seats"),
                ),
                migrations.AlterField(
                    model_name="provisionalattendance",
                    name="school",
                    field=school_fk(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", verbose_name="school"
                    ),
                ),
                migrations.DeleteModel(name="School"),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="permit",
            name="residence",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="permits", to="applicants.residence", verbose_name="address",
            ),
        ),
    ]
