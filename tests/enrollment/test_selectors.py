from applicants.models import Grade
from enrollment.models import Offer, Program, WaitlistEntry
from enrollment.selectors import result_of, waitlist_positions

from ..factories import GuardianFactory, StudentFactory
from .conftest import apply, drawn


def test_waitlist_places_follow_priority_then_number_and_cost_one_query(
    cycle, school_a, school_b, diana, django_assert_num_queries
):
    """Four grade-4 students rank Lincoln then Roosevelt, one seat each; Lincoln's
    waitlist then holds three, Roosevelt's those not placed."""
    lincoln = Program.objects.create(cycle=cycle, school=school_a, grade=Grade.G4, seats=1, code="LIN-4")
    roosevelt = Program.objects.create(cycle=cycle, school=school_b, grade=Grade.G4, seats=1, code="ROO-4")
    applications = []
    for n in range(4):
        guardian = GuardianFactory(email=f"parent{n}@example.com")
        student = StudentFactory(family=guardian.family, grade=Grade.G4)
        applications.append(apply(student, [lincoln, roosevelt], guardian))
    drawn(cycle, diana)

    for program in (lincoln, roosevelt):
        waiting = WaitlistEntry.objects.filter(program=program).select_related("application")
        waiting = list(waiting.order_by("priority_class", "late", "number"))
        for place, entry in enumerate(waiting, 1):
            with django_assert_num_queries(1):
                assert waitlist_positions(entry.application)[program.pk] == place
    # Someone ahead leaves the line: everyone behind moves up one.
    first = WaitlistEntry.objects.filter(program=lincoln).order_by("priority_class", "late", "number").first()
    WaitlistEntry.objects.filter(pk=first.pk).update(status=WaitlistEntry.Status.LEFT)
    second = WaitlistEntry.objects.filter(program=lincoln, status="waiting").order_by("number").first()
    assert waitlist_positions(second.application)[lincoln.pk] == 1
    # The unplaced student reads both waitlists and no offer.
    unplaced = next(a for a in applications if not Offer.objects.filter(application=a).exists())
    result = result_of(unplaced)
    assert result.published and all(row.waitlist_position for row in result.choices)
