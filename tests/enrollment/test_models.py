"""EC 35160.5(b): no evaluation of academic or athletic performance may select pupils.
The data model has nothing that could feed one into the lottery."""

import dataclasses
import re

import pytest
from django.apps import apps

from applicants.models import Student
from enrollment import matching
from enrollment.services import export_records

PERFORMANCE = re.compile(
    r"gpa|grade_point|score|mark|athlet|sport|academ|perform|test|exam|achiev|honou?r|merit|talent|iq"
)


def test_no_enrollment_or_student_field_records_academic_or_athletic_performance():
    models = list(apps.get_app_config("enrollment").get_models()) + [Student]
    fields = [(model.__name__, field.name) for model in models for field in model._meta.get_fields()]
    assert not [f for f in fields if PERFORMANCE.search(f[1])]
    # The test itself can fail: the pattern catches the fields it is there to forbid.
    assert PERFORMANCE.search("math_test_score") and PERFORMANCE.search("athletic_record")


def test_the_matcher_sees_only_choices_priority_tier_lateness_and_the_lottery_number():
    assert [f.name for f in dataclasses.fields(matching.Applicant)] == [
        "id",
        "number",
        "choices",
        "priority",
        "tier",
        "late",
    ]


def test_the_export_carries_no_name_birth_date_or_address(alice, sofia, lincoln_4):
    from enrollment import services
    from permits import clock

    services.submit_application(
        cycle=lincoln_4.cycle, student=sofia, programs=[lincoln_4], by=alice, today=clock.today()
    )
    records = export_records(lincoln_4.cycle, 1)
    applicant = next(r for r in records if "applicant" in r)
    assert set(applicant) == {"applicant", "lottery_id", "choices", "priority", "tier", "late"}
    text = repr(records)
    assert "Sofia" not in text and "Garcia" not in text and str(sofia.date_of_birth) not in text


def test_residents_of_the_attendance_area_always_come_first(cycle):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    cycle.priority_order = ["sibling", "resident"]
    with pytest.raises(ValidationError, match="Residents"):
        cycle.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        cycle.save()
    cycle.priority_order = ["resident", "sibling", "sibling"]
    with pytest.raises(ValidationError, match="once"):
        cycle.full_clean()
