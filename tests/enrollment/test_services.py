import pytest

from enrollment import lottery, services
from enrollment.models import EnrollmentEvent, Offer, PriorityClaim, Round, WaitlistEntry
from enrollment.services import Claim, EnrollmentError
from permits import clock

from .conftest import DIGITS, SECRET, after_deadline, committed


def apply(student, programs, by, **kwargs):
    return services.submit_application(
        cycle=programs[0].cycle, student=student, programs=programs, by=by, today=clock.today(), **kwargs
    )


def drawn(cycle, by):
    committed(cycle)
    drawing = services.freeze_applications(cycle_id=cycle.pk, by=by, today=after_deadline(cycle))
    services.run_lottery(round_id=drawing.pk, secret=SECRET, digits=DIGITS, observers="PTA president", by=by)
    services.publish_results(round_id=drawing.pk, by=by)
    drawing.refresh_from_db()
    return drawing


def test_the_lottery_places_one_student_per_seat_and_waitlists_the_other(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana
):
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    drawing = drawn(lincoln_4.cycle, diana)

    numbers = {p.application.student: p.number for p in drawing.placements.select_related("application__student")}
    first, second = sorted(numbers, key=numbers.get)
    assert Offer.objects.get(application__student=first).program == lincoln_4
    assert Offer.objects.get(application__student=second).program == roosevelt_4
    entry = WaitlistEntry.objects.get()
    assert (entry.application.student, entry.program) == (second, lincoln_4)
    assert drawing.result_sha256 == lottery.derive(drawing.export.encode(), drawing.seed).result_sha256
    kinds = sorted(EnrollmentEvent.objects.filter(kind=EnrollmentEvent.Kind.OFFERED).values_list("kind", flat=True))
    assert kinds == ["offered", "offered"]


def test_a_declined_seat_goes_to_the_first_on_the_waitlist(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, django_capture_on_commit_callbacks
):
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    drawn(lincoln_4.cycle, diana)
    holder = Offer.objects.get(program=lincoln_4)
    waiting = WaitlistEntry.objects.get().application
    guardian = alice if holder.application.student == sofia else bob

    with django_capture_on_commit_callbacks(execute=True):
        services.decline_offer(offer_id=holder.pk, by=guardian, today=clock.today())

    offer = Offer.objects.get(program=lincoln_4, status=Offer.Status.OFFERED)
    assert offer.application == waiting and offer.kind == Offer.Kind.WAITLIST
    # Accepting it gives up the lower choice, whose seat is offered on to nobody (nobody waits).
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_offer(offer_id=offer.pk, by=guardian, today=clock.today())
    assert Offer.objects.get(application=waiting, program=roosevelt_4).status == Offer.Status.RELEASED


def test_it_refuses_the_lottery_with_a_secret_that_does_not_match_the_commitment(alice, sofia, lincoln_4, diana):
    apply(sofia, [lincoln_4], alice)
    committed(lincoln_4.cycle)
    drawing = services.freeze_applications(cycle_id=lincoln_4.cycle_id, by=diana, today=after_deadline(lincoln_4.cycle))
    with pytest.raises(EnrollmentError, match="does not match"):
        services.run_lottery(round_id=drawing.pk, secret="guess", digits=DIGITS, observers="", by=diana)
    assert not Round.objects.get().has_run


def test_a_claim_without_evidence_cannot_be_verified(alice, sofia, lincoln_4, tina):
    application = apply(sofia, [lincoln_4], alice, claims=[Claim(lincoln_4.school_id, "sibling", "")])
    claim = application.claims.get()
    with pytest.raises(EnrollmentError, match="without evidence"):
        services.decide_claim(claim_id=claim.pk, verified=True, by=tina)
    assert PriorityClaim.objects.get().status == PriorityClaim.Status.CLAIMED
