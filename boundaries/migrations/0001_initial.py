# The schools move here from permits (state only: the table keeps its name and rows),
# beside the boundary data that says which addresses each serves.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import re
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('applicants', '0002_residence'),
        # The school's table was made by permits; it moves here with its rows untouched.
        ('permits', '0010_continuations_to_confirm'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='School',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, unique=True, verbose_name='name')),
                        ('code', models.CharField(max_length=20, unique=True, verbose_name='code')),
                        ('street', models.CharField(blank=True, max_length=200, verbose_name='street address')),
                        ('lowest_grade', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')], verbose_name='lowest grade')),
                        ('highest_grade', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')], verbose_name='highest grade')),
                        ('is_active', models.BooleanField(default=True, verbose_name='accepts permits')),
                    ],
                    options={
                        'verbose_name': 'school',
                        'db_table': 'permits_school',
                        'ordering': ['name'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name='BoundaryImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('street_ranges', 'Street ranges (CSV)'), ('areas', 'Attendance areas (GeoJSON or shapefile)'), ('address_points', 'Address points (CSV)')], max_length=20, verbose_name='kind')),
                ('effective_year', models.CharField(max_length=7, validators=[django.core.validators.RegexValidator(re.compile('^(\\d{4})-(\\d{2})$'), 'A school year such as 2027-28.')], verbose_name='in force from school year')),
                ('grade_low', models.SmallIntegerField(blank=True, choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')], null=True, verbose_name='lowest grade')),
                ('grade_high', models.SmallIntegerField(blank=True, choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')], null=True, verbose_name='highest grade')),
                ('source_name', models.CharField(max_length=255, verbose_name='source file')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256 of the file')),
                ('row_count', models.PositiveIntegerField(default=0, verbose_name='rows or features')),
                ('imported_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='imported')),
                ('imported_by_name', models.CharField(blank=True, max_length=200, verbose_name='imported by (command line)')),
                ('imported_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'boundary import',
                'ordering': ['-effective_year', '-imported_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='AddressPoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line', models.PositiveIntegerField(verbose_name='line of the file')),
                ('address_key', models.CharField(max_length=200)),
                ('longitude', models.FloatField()),
                ('latitude', models.FloatField()),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='points', to='boundaries.boundaryimport')),
            ],
            options={
                'ordering': ['source', 'line'],
            },
        ),
        migrations.CreateModel(
            name='ResidenceReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grade_low', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')])),
                ('grade_high', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')])),
                ('reason', models.CharField(choices=[('no_match', "No school's boundary contains the address"), ('several', "The address lies in more than one school's boundary"), ('unparsed', 'The address could not be read in USPS form')], max_length=10, verbose_name='why it needs review')),
                ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('why', models.TextField(blank=True, verbose_name='why this school')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('residence', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='applicants.residence')),
                ('candidates', models.ManyToManyField(blank=True, related_name='+', to='boundaries.school')),
                ('school', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='boundaries.school', verbose_name='school')),
            ],
            options={
                'verbose_name': 'address to review',
                'ordering': ['opened_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='AttendanceArea',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('feature', models.PositiveIntegerField(verbose_name='feature number')),
                ('geometry', models.BinaryField()),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='areas', to='boundaries.boundaryimport')),
                ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='boundaries.school')),
            ],
            options={
                'ordering': ['source', 'feature'],
            },
        ),
        migrations.CreateModel(
            name='StreetRange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line', models.PositiveIntegerField(verbose_name='line of the file')),
                ('pre_direction', models.CharField(blank=True, max_length=2)),
                ('street_name', models.CharField(max_length=100)),
                ('street_type', models.CharField(blank=True, max_length=10)),
                ('post_direction', models.CharField(blank=True, max_length=2)),
                ('low', models.PositiveIntegerField()),
                ('high', models.PositiveIntegerField()),
                ('side', models.CharField(choices=[('odd', 'odd numbers'), ('even', 'even numbers'), ('both', 'both sides')], max_length=4)),
                ('postal_code', models.CharField(blank=True, max_length=5)),
                ('grade_low', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')])),
                ('grade_high', models.SmallIntegerField(choices=[(-1, 'Transitional kindergarten'), (0, 'Kindergarten'), (1, 'Grade 1'), (2, 'Grade 2'), (3, 'Grade 3'), (4, 'Grade 4'), (5, 'Grade 5'), (6, 'Grade 6'), (7, 'Grade 7'), (8, 'Grade 8'), (9, 'Grade 9'), (10, 'Grade 10'), (11, 'Grade 11'), (12, 'Grade 12')])),
                ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='boundaries.school')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='street_ranges', to='boundaries.boundaryimport')),
            ],
            options={
                'ordering': ['source', 'line', 'grade_low'],
            },
        ),
        migrations.AddConstraint(
            model_name='boundaryimport',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('grade_high__isnull', False), ('grade_low__isnull', False), ('kind', 'areas')), models.Q(models.Q(('kind', 'areas'), _negated=True), ('grade_high__isnull', True), ('grade_low__isnull', True)), _connector='OR'), name='areas_carry_their_grade_span'),
        ),
        migrations.AddIndex(
            model_name='addresspoint',
            index=models.Index(fields=['source', 'address_key'], name='address_point_by_key'),
        ),
        migrations.AddConstraint(
            model_name='residencereview',
            constraint=models.UniqueConstraint(fields=('residence', 'grade_low', 'grade_high'), name='one_review_per_span'),
        ),
        migrations.AddConstraint(
            model_name='residencereview',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('school__isnull', True)), models.Q(('decided_at__isnull', False), ('school__isnull', False)), _connector='OR'), name='a_decided_review_names_its_school'),
        ),
        migrations.AddIndex(
            model_name='streetrange',
            index=models.Index(fields=['source', 'street_name'], name='street_range_by_name'),
        ),
    ]
