from django.core.management import call_command

from applicants.models import Family, User
from boundaries import lookup
from boundaries.models import ResidenceReview
from boundaries.services import school_of_residence
from outbox.models import OutboxEmail
from permits.models import Permit, PermitKind, SchoolYear
from reviews.models import StaffRole


def test_seed_demo_loads_every_role_and_packets_in_several_states(db, capsys, handle_events):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-portal-2026" in out and "technician@valleverde.example" in out
    statuses = set(Permit.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "approved", "denied", "info_requested", "withdrawn"} <= statuses
    assert set(StaffRole.objects.values_list("role", flat=True)) == {
        "technician",
        "site_admin",
        "director",
        "district_admin",
    }
    assert User.objects.get(email="maria.garcia@example.com").check_password("demo-portal-2026")
    handle_events()  # what the worker of `make run` does with the demo's events
    assert OutboxEmail.objects.filter(template="permit_received").exists()


def test_seed_demo_if_empty_does_not_load_twice(db):
    call_command("seed_demo")
    count = Permit.objects.count()
    call_command("seed_demo", "--if-empty")
    assert Permit.objects.count() == count


def test_seed_demo_records_each_familys_address_where_the_lookup_places_it(db):
    call_command("seed_demo")
    lees = Family.objects.get(guardians__email="sam.lee@example.com")
    garcias = Family.objects.get(guardians__email="maria.garcia@example.com")
    assert (lees.street, lees.city, lees.residences.get().entered) == (
        "318 SYCAMORE ST",
        "VALLE VERDE",
        "318 Sycamore Street, Valle Verde, CA 90999",
    )
    for year in SchoolYear.objects.values_list("name", flat=True):
        # The Lees' address is an address point inside one area of each layer.
        home = lees.residences.get()
        found = {s.legal_first_name: school_of_residence(home, s.grade, year) for s in lees.students.all()}
        assert {name: (f.school.code, f.how) for name, f in found.items()} == {
            "Avery": ("LIN", lookup.AREA_RULE),
            "Jordan": ("PVH", lookup.AREA_RULE),
            "Noah": ("LIN", lookup.AREA_RULE),
        }
        # The Garcías live in another district: no Valle Verde school is theirs.
        home = garcias.residences.get()
        for student in garcias.students.all():
            finding = school_of_residence(home, student.grade, year)
            assert (finding.school, finding.how) == (None, lookup.OUTSIDE_RULE)
    # An intra-district request names the school the lookup finds, or, where the lookup
    # cannot tell (the Ortiz lot on the line between two K-5 areas), its submission
    # opened a review for staff with both schools as candidates.
    placed, reviewed = 0, 0
    for permit in Permit.objects.filter(kind=PermitKind.INTRA).select_related("family", "student", "school_year"):
        finding = school_of_residence(permit.family.residences.get(), permit.student.grade, permit.school_year.name)
        if finding.needs_review:
            review = ResidenceReview.objects.get(residence=permit.residence, grade_low=0, grade_high=5)
            assert review.is_open and {s.code for s in review.candidates.all()} == {"LIN", "ROO"}
            reviewed += 1
        else:
            assert finding.school == permit.school_of_residence
            placed += 1
    assert (placed, reviewed) == (2, 1)


def test_seed_demo_opens_next_years_enrollment_with_a_resident_and_a_boundary_case(db):
    from enrollment.models import Application, PriorityClaim

    call_command("seed_demo")
    noah = Application.objects.get(student__legal_first_name="Noah")
    camila = Application.objects.get(student__legal_first_name="Camila")
    # The Lees live in Lincoln's area: residence is verified by the lookup. The Ortiz
    # lot is on the line: the claim waits for staff on the priority queue.
    assert [(c.kind, c.school.code, c.status) for c in noah.claims.all()] == [("resident", "LIN", "verified")]
    assert camila.claims.get().status == PriorityClaim.Status.CLAIMED
    assert noah.cycle.commitment and noah.cycle.is_open_on(noah.submitted_at.date())
