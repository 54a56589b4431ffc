import pytest

from enrollment import lottery, services
from enrollment.models import EnrollmentEvent, Offer, PriorityClaim, Program, Round, WaitlistEntry
from enrollment.services import Claim, EnrollmentError
from permits import clock

from .conftest import DIGITS, SECRET, after_deadline, apply, committed, drawn


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
    waiting_guardian = bob if guardian == alice else alice

    with django_capture_on_commit_callbacks(execute=True):
        services.decline_offer(offer_id=holder.pk, by=guardian, today=clock.today())

    offer = Offer.objects.get(program=lincoln_4, status=Offer.Status.OFFERED)
    assert offer.application == waiting and offer.kind == Offer.Kind.WAITLIST
    # Accepting it gives up the lower choice, whose seat is offered on to nobody (nobody waits).
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_offer(offer_id=offer.pk, by=waiting_guardian, today=clock.today())
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


# --- applying -----------------------------------------------------------------------


def test_an_application_after_the_deadline_is_refused_with_the_date(alice, sofia, lincoln_4):
    cycle = lincoln_4.cycle
    with pytest.raises(EnrollmentError) as refused:
        services.submit_application(
            cycle=cycle, student=sofia, programs=[lincoln_4], by=alice, today=after_deadline(cycle)
        )
    assert f"{cycle.applications_close_on.year}" in str(refused.value) and "closed" in str(refused.value)


def test_where_the_district_allows_it_a_late_application_is_marked_late(alice, sofia, lincoln_4):
    cycle = lincoln_4.cycle
    cycle.late_applications = True
    cycle.save()
    late = services.submit_application(
        cycle=cycle, student=sofia, programs=[lincoln_4], by=alice, today=after_deadline(cycle)
    )
    assert late.late


def test_a_program_in_another_grade_is_refused(alice, sofia, lincoln_k):
    with pytest.raises(EnrollmentError, match="not offered in Grade 4"):
        apply(sofia, [lincoln_k], alice)


def test_more_choices_than_the_district_allows_are_refused(alice, sofia, lincoln_4, roosevelt_4):
    cycle = lincoln_4.cycle
    cycle.max_choices = 1
    cycle.save()
    with pytest.raises(EnrollmentError, match="at most 1"):
        apply(sofia, [lincoln_4, roosevelt_4], alice)


def test_changing_the_choices_keeps_one_application_and_its_public_id(alice, sofia, lincoln_4, roosevelt_4):
    first = apply(sofia, [lincoln_4], alice)
    second = apply(sofia, [roosevelt_4, lincoln_4], alice)
    assert first.pk == second.pk and first.public_id == second.public_id
    assert [c.program for c in second.choices.all()] == [roosevelt_4, lincoln_4]
    kinds = list(EnrollmentEvent.objects.values_list("kind", flat=True))
    assert kinds == ["received", "updated"]


def test_siblings_applying_together_share_one_lottery_number(alice, sofia, lincoln_4, diana):
    from tests.factories import StudentFactory

    brother = StudentFactory(family=alice.family, legal_first_name="Mateo", grade=sofia.grade)
    first = apply(sofia, [lincoln_4], alice)
    second = apply(brother, [lincoln_4], alice, together_with=first)
    assert second.lottery_id == first.lottery_id and second.public_id != first.public_id
    drawing = drawn(lincoln_4.cycle, diana)
    numbers = set(drawing.placements.values_list("number", flat=True))
    assert len(numbers) == 1


def test_a_family_cannot_join_another_familys_application(alice, bob, sofia, bobs_student, lincoln_4):
    bens = apply(bobs_student, [lincoln_4], bob)
    with pytest.raises(EnrollmentError, match="one family"):
        apply(sofia, [lincoln_4], alice, together_with=bens)


def test_only_a_verified_claim_is_applied_in_the_export(alice, bob, sofia, bobs_student, lincoln_4, tina):
    verified = apply(sofia, [lincoln_4], alice, claims=[Claim(lincoln_4.school_id, "sibling", "Marta, grade 2")])
    apply(bobs_student, [lincoln_4], bob, claims=[Claim(lincoln_4.school_id, "sibling", "Bea, grade 1")])
    services.decide_claim(claim_id=verified.claims.get().pk, verified=True, by=tina)
    records = {r["applicant"]: r for r in services.export_records(lincoln_4.cycle, 1) if "applicant" in r}
    sibling = lincoln_4.cycle.class_of("sibling")
    assert records[verified.public_id]["priority"] == {"LIN-4": sibling}
    assert [r["priority"] for k, r in records.items() if k != verified.public_id] == [{}]


def test_residents_get_the_area_priority_from_the_boundary_lookup(alice, sofia, school_a, lincoln_4, roosevelt_4):
    from datetime import date

    from applicants.addresses import standardize
    from applicants.services import record_residence
    from boundaries.imports import import_street_ranges

    header = "street_name,pre_direction,street_type,post_direction,low,high,side,zip,K-5"
    import_street_ranges(
        f"{header}\nMain,North,Street,,100,198,both,90999,LIN\n".encode(), name="s.csv", effective_year="2027-28"
    )
    school_a.highest_grade = 5
    school_a.save()
    address = standardize("150 N Main St", "", "Valle Verde", "CA", "90999")
    record_residence(family=alice.family, address=address, entered="150 N Main St", since=date(2020, 1, 1), by=alice)
    application = apply(sofia, [roosevelt_4, lincoln_4], alice)
    claim = application.claims.get()
    assert (claim.kind, claim.school, claim.status) == ("resident", school_a, PriorityClaim.Status.VERIFIED)
    assert "s.csv" in claim.evidence


# --- the drawing --------------------------------------------------------------------


def test_the_commitment_is_published_before_the_deadline_once(lincoln_4):
    cycle = lincoln_4.cycle
    with pytest.raises(EnrollmentError, match="before the application deadline"):
        services.publish_commitment(cycle_id=cycle.pk, commitment="a" * 64, today=after_deadline(cycle))
    services.publish_commitment(cycle_id=cycle.pk, commitment="A" * 64, today=clock.today())
    with pytest.raises(EnrollmentError, match="cannot change"):
        services.publish_commitment(cycle_id=cycle.pk, commitment="b" * 64, today=clock.today())
    cycle.refresh_from_db()
    assert cycle.commitment == "a" * 64


def test_applications_are_frozen_once_and_only_after_the_deadline(alice, sofia, lincoln_4, diana):
    cycle = committed(lincoln_4.cycle)
    apply(sofia, [lincoln_4], alice)
    with pytest.raises(EnrollmentError, match="open until"):
        services.freeze_applications(cycle_id=cycle.pk, by=diana, today=cycle.applications_close_on)
    drawing = services.freeze_applications(cycle_id=cycle.pk, by=diana, today=after_deadline(cycle))
    assert drawing.applicant_count == 1
    assert drawing.export_sha256 == lottery.sha256_bytes(drawing.export.encode())
    with pytest.raises(EnrollmentError, match="already frozen"):
        services.freeze_applications(cycle_id=cycle.pk, by=diana, today=after_deadline(cycle))
    # Frozen: the family can no longer change it.
    with pytest.raises(EnrollmentError, match="closed"):
        apply(sofia, [lincoln_4], alice)


def test_the_lottery_runs_once(alice, sofia, lincoln_4, diana):
    apply(sofia, [lincoln_4], alice)
    drawing = drawn(lincoln_4.cycle, diana)
    with pytest.raises(EnrollmentError, match="already run"):
        services.run_lottery(round_id=drawing.pk, secret=SECRET, digits=DIGITS, observers="", by=diana)


def test_an_export_changed_after_the_freeze_is_refused(alice, sofia, lincoln_4, diana):
    apply(sofia, [lincoln_4], alice)
    committed(lincoln_4.cycle)
    drawing = services.freeze_applications(cycle_id=lincoln_4.cycle_id, by=diana, today=after_deadline(lincoln_4.cycle))
    Round.objects.filter(pk=drawing.pk).update(export=drawing.export.replace('"late":false', '"late":true'))
    with pytest.raises(EnrollmentError, match="differs from the one frozen"):
        services.run_lottery(round_id=drawing.pk, secret=SECRET, digits=DIGITS, observers="", by=diana)


def test_the_seed_is_the_hash_of_the_secret_the_digits_and_the_export(alice, sofia, lincoln_4, diana):
    apply(sofia, [lincoln_4], alice)
    drawing = drawn(lincoln_4.cycle, diana)
    assert drawing.seed == lottery.sha256_text(SECRET + DIGITS + drawing.export_sha256)
    placement = drawing.placements.get()
    assert placement.number == lottery.sha256_text(drawing.seed + placement.application.lottery_id)
    assert drawing.code_version == lottery.code_version() and drawing.observers == "PTA president"


def test_results_are_published_once(alice, sofia, lincoln_4, diana):
    apply(sofia, [lincoln_4], alice)
    drawing = drawn(lincoln_4.cycle, diana)
    with pytest.raises(EnrollmentError, match="already published"):
        services.publish_results(round_id=drawing.pk, by=diana)


# --- offers -------------------------------------------------------------------------


def test_an_offer_not_answered_by_its_date_is_declined_by_the_daily_check_and_offered_on(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    apply(sofia, [lincoln_4], alice)
    apply(bobs_student, [lincoln_4], bob)
    drawn(lincoln_4.cycle, diana)
    holder = Offer.objects.get(program=lincoln_4)
    day_after = holder.respond_by + timedelta(days=1)
    assert services.expire_offers(today=holder.respond_by) == 0  # the last day is still the family's
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_offers(today=day_after) == 1
    holder.refresh_from_db()
    assert holder.status == Offer.Status.EXPIRED
    assert EnrollmentEvent.objects.filter(kind="expired", offer=holder).exists()
    moved = Offer.objects.get(program=lincoln_4, status=Offer.Status.OFFERED)
    assert moved.kind == Offer.Kind.WAITLIST and moved.respond_by == day_after + timedelta(days=5)


def test_an_offer_cannot_be_accepted_after_its_date_or_twice(alice, sofia, lincoln_4, diana):
    from datetime import timedelta

    apply(sofia, [lincoln_4], alice)
    drawn(lincoln_4.cycle, diana)
    offer = Offer.objects.get()
    with pytest.raises(EnrollmentError, match="due by"):
        services.accept_offer(offer_id=offer.pk, by=alice, today=offer.respond_by + timedelta(days=1))
    services.accept_offer(offer_id=offer.pk, by=alice, today=offer.respond_by)
    with pytest.raises(EnrollmentError, match="already answered"):
        services.accept_offer(offer_id=offer.pk, by=alice, today=offer.respond_by)


def test_accepting_a_lower_choice_keeps_the_waitlists_of_higher_choices_only(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, school_a
):
    third = Program.objects.create(
        cycle=lincoln_4.cycle, school=school_a, grade=4, strand_en="Dual immersion", seats=0, code="LIN-4-DI"
    )
    apply(sofia, [lincoln_4, roosevelt_4, third], alice, claims=[])
    apply(bobs_student, [lincoln_4], bob, claims=[Claim(lincoln_4.school_id, "sibling", "Bea, grade 1")])
    services.decide_claim(claim_id=PriorityClaim.objects.get().pk, verified=True, by=diana)
    drawn(lincoln_4.cycle, diana)
    offer = Offer.objects.get(application__student=sofia)
    assert offer.program == roosevelt_4
    services.accept_offer(offer_id=offer.pk, by=alice, today=clock.today())
    waiting = WaitlistEntry.objects.filter(application__student=sofia, status=WaitlistEntry.Status.WAITING)
    assert [e.program for e in waiting] == [lincoln_4]


def test_a_sibling_who_applies_on_its_own_again_gets_its_own_number(alice, sofia, lincoln_4):
    from tests.factories import StudentFactory

    brother = StudentFactory(family=alice.family, legal_first_name="Mateo", grade=sofia.grade)
    first = apply(sofia, [lincoln_4], alice)
    joined = apply(brother, [lincoln_4], alice, together_with=first)
    assert joined.lottery_id == first.lottery_id
    alone = apply(brother, [lincoln_4], alice)
    assert alone.pk == joined.pk and alone.lottery_id == alone.public_id != first.lottery_id


def test_the_same_priority_claimed_twice_at_one_school_is_refused(alice, sofia, lincoln_4, school_a):
    strand = Program.objects.create(
        cycle=lincoln_4.cycle, school=school_a, grade=4, strand_en="Dual immersion", seats=1, code="LIN-4-DI"
    )
    claims = [Claim(school_a.pk, "sibling", "Marta, grade 2"), Claim(school_a.pk, "sibling", "Marta, grade 2")]
    with pytest.raises(EnrollmentError, match="once per school"):
        apply(sofia, [lincoln_4, strand], alice, claims=claims)
    assert not PriorityClaim.objects.exists()


def test_an_on_time_application_cannot_be_changed_in_the_late_window(alice, sofia, lincoln_4):
    cycle = lincoln_4.cycle
    cycle.late_applications = True
    cycle.save()
    apply(sofia, [lincoln_4], alice)
    with pytest.raises(EnrollmentError, match="closed"):
        services.submit_application(
            cycle=cycle, student=sofia, programs=[lincoln_4], by=alice, today=after_deadline(cycle)
        )
