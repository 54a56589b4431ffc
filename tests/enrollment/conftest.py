"""Open enrollment personas: a cycle whose window is open today, with grade 4 programs
at Lincoln (school A) and Roosevelt (school B), for Sofia (Alice's daughter, grade 4)
and Ben (Bob's son, grade 4)."""

from datetime import date, timedelta

import pytest

from applicants.models import Grade
from enrollment import lottery, services
from enrollment.models import Application, Cycle, Program, Round
from permits import clock

# The district's secret for the tests' drawings; its SHA-256 is the cycle's commitment.
SECRET = "valle-verde-2027-secret"
DIGITS = "4 8 15 16 23 42".replace(" ", "")


@pytest.fixture
def cycle(school_year):
    today = clock.today()
    return Cycle.objects.create(
        school_year=school_year,
        applications_open_on=today - timedelta(days=10),
        applications_close_on=today + timedelta(days=10),
        lottery_on=today + timedelta(days=15),
        offer_deadline=today + timedelta(days=30),
        max_choices=3,
    )


@pytest.fixture
def lincoln_4(cycle, school_a):
    return Program.objects.create(cycle=cycle, school=school_a, grade=Grade.G4, seats=1, code="LIN-4")


@pytest.fixture
def roosevelt_4(cycle, school_b):
    return Program.objects.create(cycle=cycle, school=school_b, grade=Grade.G4, seats=1, code="ROO-4")


@pytest.fixture
def lincoln_k(cycle, school_a):
    return Program.objects.create(cycle=cycle, school=school_a, grade=Grade.K, seats=2, code="LIN-K")


def committed(cycle: Cycle) -> Cycle:
    cycle.commitment = lottery.commitment_of(SECRET)
    cycle.save(update_fields=["commitment"])
    return cycle


def after_deadline(cycle: Cycle) -> date:
    """The first day after the application window."""
    return cycle.applications_close_on + timedelta(days=1)


def apply(student, programs, by, **kwargs) -> Application:
    """The family applies today, ranking `programs` in order."""
    return services.submit_application(
        cycle=programs[0].cycle, student=student, programs=programs, by=by, today=clock.today(), **kwargs
    )


def drawn(cycle: Cycle, by) -> Round:
    """What the district does at the deadline and on the drawing's day: commit, freeze,
    run with the tests' secret and digits, publish."""
    committed(cycle)
    drawing = services.freeze_applications(cycle_id=cycle.pk, by=by, today=after_deadline(cycle))
    services.run_lottery(round_id=drawing.pk, secret=SECRET, digits=DIGITS, observers="PTA president", by=by)
    services.publish_results(round_id=drawing.pk, by=by)
    drawing.refresh_from_db()
    return drawing


@pytest.fixture
def handle_enrollment_events():
    """What a worker does after each commit: handles every pending enrollment event
    (offer letters rendered, emails queued); returns how many emails it queued."""
    from enrollment.models import EnrollmentEvent
    from enrollment.notices import handle_event

    def run() -> int:
        pending = EnrollmentEvent.objects.filter(notified_at__isnull=True).order_by("pk").values_list("pk", flat=True)
        return sum(handle_event(pk) for pk in list(pending))

    return run
