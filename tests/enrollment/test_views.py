"""The family's side of open enrollment: the public cycle page and its tours, applying,
the application with its result, answering an offer, the dashboard's card."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from applicants.models import Grade
from enrollment import services
from enrollment.forms import evidence_text
from enrollment.models import Application, InfoSession, Offer, PriorityClaim, SessionSignup, WaitlistEntry
from enrollment.services import Claim
from permits import clock

from ..conftest import login
from ..factories import StudentFactory
from .conftest import after_deadline, apply, committed, drawn


def text_of(response) -> str:
    """The page's words, one space between them and between elements."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.text).split()))


def close_window(cycle):
    cycle.applications_open_on = clock.today() - timedelta(days=20)
    cycle.applications_close_on = clock.today() - timedelta(days=2)
    cycle.save()
    return cycle


def day(value) -> str:
    return date_format(value, "DATE_FORMAT")


@pytest.fixture
def tour(cycle, school_a):
    return InfoSession.objects.create(
        cycle=cycle,
        kind=InfoSession.Kind.TOUR,
        school=school_a,
        starts_at=timezone.now() + timedelta(days=3),
        place="Lincoln library",
        capacity=4,
    )


@pytest.fixture
def diana_client(diana):
    return login(diana)


@pytest.fixture
def results(alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana):
    """Sofia and Ben both rank Lincoln then Roosevelt; one seat each. The drawing gives
    one of them Lincoln and the other Roosevelt with a place on Lincoln's waitlist."""
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    drawn(lincoln_4.cycle, diana)
    return Offer.objects.get(program=lincoln_4).application, WaitlistEntry.objects.get().application


def client_of(application, alice_client, bob_client) -> Client:
    return alice_client if application.student.legal_first_name == "Sofia" else bob_client


# --- The public cycle page ---------------------------------------------------------


def test_the_cycle_page_is_public_with_dates_programs_tours_and_answers(cycle, lincoln_4, roosevelt_4, tour):
    cycle.intro_en = "Choose a school for next year."
    cycle.faq_en = "Can I apply late? Only in the second round."
    cycle.second_round_close_on = cycle.offer_deadline + timedelta(days=10)
    cycle.save()
    lincoln_4.strand_en = "Dual immersion"
    lincoln_4.save()

    response = Client().get(reverse("enrollment_cycle"))

    assert response.status_code == 200
    page = text_of(response)
    assert "Open enrollment for 2027-28" in page
    assert "Choose a school for next year." in page
    assert f"Applications close (last day) {day(cycle.applications_close_on)}" in page
    assert f"Public drawing {day(cycle.lottery_on)}" in page
    assert f"Second-round applications close {day(cycle.second_round_close_on)}" in page
    assert "Lincoln Elementary Grade Program Seats Grade 4 Dual immersion 1" in page
    assert "Roosevelt Elementary Grade Program Seats Grade 4 General program 1" in page
    assert "School tour · Lincoln Elementary" in page and "Lincoln library" in page and "4 places left" in page
    assert "Sign in to sign up" in page
    assert "Can I apply late? Only in the second round." in page
    assert 'href="/enrollment/2027-28/lottery/"' in response.text


def test_the_cycle_page_says_so_when_no_cycle_is_set_up(district):
    response = Client().get(reverse("enrollment_cycle"))
    assert response.status_code == 200
    assert "No open enrollment is scheduled yet." in text_of(response)


def test_the_cycle_page_offers_each_student_an_application(alice_client, sofia, lincoln_4):
    page = text_of(alice_client.get(reverse("enrollment_cycle")))
    assert "Apply for Sofia" in page


# --- Tours and information sessions --------------------------------------------------


def test_a_family_signs_up_for_a_tour(alice, alice_client, tour):
    response = alice_client.post(reverse("enrollment_session_signup", args=[tour.pk]), {"people": 2}, follow=True)
    signup = SessionSignup.objects.get()
    assert (signup.session, signup.family, signup.people) == (tour, alice.family, 2)
    page = text_of(response)
    assert "You are signed up for School tour on" in page
    assert "You are signed up (2 people)." in page and "2 places left" in page


def test_signing_up_is_a_post(alice_client, tour):
    assert alice_client.get(reverse("enrollment_session_signup", args=[tour.pk])).status_code == 405


def test_it_refuses_a_signup_for_a_full_session(alice_client, bob, tour):
    SessionSignup.objects.create(session=tour, family=bob.family, people=3)
    response = alice_client.post(reverse("enrollment_session_signup", args=[tour.pk]), {"people": 2}, follow=True)
    assert "Only 1 place is left in this session." in text_of(response)
    assert SessionSignup.objects.count() == 1

    SessionSignup.objects.filter(family=bob.family).update(people=4)
    response = alice_client.post(reverse("enrollment_session_signup", args=[tour.pk]), {"people": 1}, follow=True)
    assert "This session is full." in text_of(response)
    assert SessionSignup.objects.count() == 1


def test_it_refuses_a_signup_for_a_session_that_took_place(alice_client, tour):
    InfoSession.objects.filter(pk=tour.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    response = alice_client.post(reverse("enrollment_session_signup", args=[tour.pk]), {"people": 1}, follow=True)
    assert "This session has already taken place." in text_of(response)
    assert not SessionSignup.objects.exists()


def test_staff_cannot_sign_up_as_a_family(diana_client, tour):
    response = diana_client.post(reverse("enrollment_session_signup", args=[tour.pk]), {"people": 1})
    assert response.status_code == 404


# --- Applying ------------------------------------------------------------------------


def choices(*programs) -> dict:
    return {f"choice_{rank}": program.pk for rank, program in enumerate(programs, 1)}


def test_a_family_applies_with_ranked_schools_and_a_sibling_priority(
    alice, alice_client, sofia, lincoln_4, roosevelt_4
):
    data = {**choices(roosevelt_4, lincoln_4), "sibling_name_2": "Lucia Garcia", "sibling_grade_2": Grade.G2}

    response = alice_client.post(reverse("enrollment_apply", args=[sofia.pk]), data)

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment_application", args=[application.pk])
    assert [c.program for c in application.choices.all()] == [roosevelt_4, lincoln_4]
    claim = application.claims.get()
    assert (claim.school, claim.kind, claim.status) == (lincoln_4.school, "sibling", PriorityClaim.Status.CLAIMED)
    assert claim.evidence == "Sibling: Lucia Garcia\nGrade: Grade 2"
    assert application.submitted_by == alice


def test_the_form_offers_only_the_programs_of_the_students_grade(alice_client, sofia, lincoln_4, lincoln_k):
    response = alice_client.get(reverse("enrollment_apply", args=[sofia.pk]))
    assert response.status_code == 200
    offered = [value for value, _label in response.context["form"].fields["choice_1"].choices]
    assert offered == ["", lincoln_4.pk]
    assert 'name="choice_3"' in response.text and 'name="choice_4"' not in response.text


def test_it_refuses_a_program_of_another_grade(alice_client, sofia, lincoln_k):
    response = alice_client.post(reverse("enrollment_apply", args=[sofia.pk]), choices(lincoln_k))
    assert response.status_code == 400
    assert "That program is not open to students entering Grade 4." in text_of(response)
    assert not Application.objects.exists()


def test_it_refuses_more_schools_than_the_cycle_allows(alice_client, sofia, cycle, lincoln_4, roosevelt_4, school_b):
    cycle.max_choices = 1
    cycle.save()
    response = alice_client.post(reverse("enrollment_apply", args=[sofia.pk]), choices(lincoln_4, roosevelt_4))
    assert response.status_code == 400
    assert "You may rank only 1 school." in text_of(response)
    assert not Application.objects.exists()


def test_it_refuses_a_priority_without_its_evidence(alice_client, sofia, lincoln_4):
    data = {**choices(lincoln_4), "staff_name_1": "Ms. Rivera"}
    response = alice_client.post(reverse("enrollment_apply", args=[sofia.pk]), data)
    assert response.status_code == 400
    assert "Their position at the school : Needed for this priority." in text_of(response)
    assert not Application.objects.exists()


def test_after_the_deadline_the_page_shows_the_closing_date(alice_client, sofia, cycle, lincoln_4):
    close_window(cycle)
    url = reverse("enrollment_apply", args=[sofia.pk])

    response = alice_client.get(url)
    assert f"Applications closed on {day(cycle.applications_close_on)}." in text_of(response)
    assert 'name="choice_1"' not in response.text

    response = alice_client.post(url, choices(lincoln_4))
    assert response.status_code == 400
    assert not Application.objects.exists()


def test_a_change_keeps_a_verified_priority_whose_evidence_is_unchanged(
    alice, alice_client, sofia, lincoln_4, roosevelt_4, tina
):
    evidence = evidence_text("staff_child", ["Ms. Rivera", "Librarian"])
    application = apply(sofia, [lincoln_4], alice, claims=[Claim(lincoln_4.school_id, "staff_child", evidence)])
    services.decide_claim(claim_id=application.claims.get().pk, verified=True, by=tina)
    url = reverse("enrollment_apply", args=[sofia.pk])

    form = alice_client.get(url).context["form"]
    assert form.initial["staff_name_1"] == "Ms. Rivera" and form.initial["staff_position_1"] == "Librarian"
    response = alice_client.post(url, {**choices(lincoln_4, roosevelt_4), **form.initial, "choice_2": roosevelt_4.pk})

    assert response.status_code == 302
    assert [c.program for c in application.choices.all()] == [lincoln_4, roosevelt_4]
    assert application.claims.get().status == PriorityClaim.Status.VERIFIED


def test_siblings_who_apply_together_share_one_lottery_number(alice, alice_client, sofia, lincoln_4):
    brother = StudentFactory(family=alice.family, legal_first_name="Mateo", grade=Grade.G4)
    first = apply(sofia, [lincoln_4], alice)
    url = reverse("enrollment_apply", args=[brother.pk])
    assert "share one lottery number" in text_of(alice_client.get(url))

    alice_client.post(url, {**choices(lincoln_4), "together_with": first.pk})

    assert Application.objects.get(student=brother).lottery_id == first.lottery_id


def test_another_familys_student_is_not_found(bob_client, sofia, lincoln_4):
    url = reverse("enrollment_apply", args=[sofia.pk])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, choices(lincoln_4)).status_code == 404
    assert not Application.objects.exists()


def test_staff_cannot_apply_for_a_student(diana_client, sofia, lincoln_4):
    assert diana_client.get(reverse("enrollment_apply", args=[sofia.pk])).status_code == 404


# --- The application and its result ---------------------------------------------------


def test_the_application_page_shows_the_choices_and_each_claims_status(
    alice, alice_client, sofia, lincoln_4, roosevelt_4
):
    application = apply(
        sofia, [roosevelt_4, lincoln_4], alice, claims=[Claim(lincoln_4.school_id, "safety", "Report 2026-118")]
    )
    response = alice_client.get(reverse("enrollment_application", args=[application.pk]))
    assert response.status_code == 200
    page = text_of(response)
    assert "Received; waiting for the drawing" in page
    assert (
        "1 Roosevelt Elementary None 2 Lincoln Elementary Bullying or safety transfer (board policy): "
        "Waiting for verification" in page
    )
    assert "Only priorities the district verified are applied." in page
    assert "lottery number" not in page


def test_after_publication_the_family_sees_its_number_its_offer_and_its_waitlist_place(
    results, alice_client, bob_client, roosevelt_4, cycle
):
    placed, waiting = results
    response = client_of(waiting, alice_client, bob_client).get(reverse("enrollment_application", args=[waiting.pk]))
    page = text_of(response)
    number = waiting.placements.get().number
    assert " ".join(number[i : i + 8] for i in range(0, 64, 8)) in page
    assert f"Seat offered at Roosevelt Elementary: answer by {day(cycle.offer_deadline)}" in page
    assert "If you accept, the seat at Roosevelt Elementary is" in page
    assert "stays on the waitlists of the schools ranked above it only" in page
    assert "Accept the seat at Roosevelt Elementary" in page and "Decline the seat at Roosevelt Elementary" in page
    assert "Lincoln Elementary: number 1 in line" in page
    assert "by priority first, then by lottery number. The date you applied never counts." in page
    assert "must be answered within 5 days" in page
    assert "No priority" in page


def test_the_application_page_reads_a_bounded_number_of_queries(
    results, alice_client, bob_client, django_assert_max_num_queries
):
    _placed, waiting = results
    client = client_of(waiting, alice_client, bob_client)
    # The session and user (3), the result (placement, choices, offers and every
    # waitlist place in one query), claims, status words, freeze and window, the district.
    with django_assert_max_num_queries(14):
        assert client.get(reverse("enrollment_application", args=[waiting.pk])).status_code == 200


def test_another_familys_application_is_not_found(alice, sofia, lincoln_4, bob_client, diana_client):
    application = apply(sofia, [lincoln_4], alice)
    url = reverse("enrollment_application", args=[application.pk])
    assert bob_client.get(url).status_code == 404
    assert diana_client.get(url).status_code == 404


# --- Withdrawing -----------------------------------------------------------------------


def test_a_family_withdraws_its_application(alice, alice_client, sofia, lincoln_4):
    application = apply(sofia, [lincoln_4], alice)
    response = alice_client.post(reverse("enrollment_application_withdraw", args=[application.pk]), follow=True)
    application.refresh_from_db()
    assert application.is_withdrawn
    assert "The application for Sofia Garcia was withdrawn." in text_of(response)


def test_withdrawing_is_a_post_and_only_for_the_family(alice, alice_client, bob_client, diana_client, sofia, lincoln_4):
    application = apply(sofia, [lincoln_4], alice)
    url = reverse("enrollment_application_withdraw", args=[application.pk])
    assert alice_client.get(url).status_code == 405
    assert bob_client.post(url).status_code == 404
    assert diana_client.post(url).status_code == 404
    application.refresh_from_db()
    assert not application.is_withdrawn


def test_it_refuses_to_withdraw_after_the_freeze(alice, alice_client, sofia, lincoln_4, diana):
    application = apply(sofia, [lincoln_4], alice)
    committed(lincoln_4.cycle)
    services.freeze_applications(cycle_id=lincoln_4.cycle_id, by=diana, today=after_deadline(lincoln_4.cycle))
    response = alice_client.post(reverse("enrollment_application_withdraw", args=[application.pk]), follow=True)
    assert "The applications are frozen for the lottery; decline the offer instead." in text_of(response)
    application.refresh_from_db()
    assert not application.is_withdrawn


# --- Answering an offer -------------------------------------------------------------------


def test_a_family_accepts_its_offer(results, alice_client, bob_client, roosevelt_4):
    _placed, waiting = results
    offer = Offer.objects.get(application=waiting)
    client = client_of(waiting, alice_client, bob_client)

    response = client.post(reverse("enrollment_offer_accept", args=[offer.pk]), follow=True)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    page = text_of(response)
    assert f"You accepted the seat at Roosevelt Elementary for {waiting.student.full_name}." in page
    assert "Seat accepted at Roosevelt Elementary" in page
    assert "Lincoln Elementary: number 1 in line" in page  # still waiting for the higher choice


def test_a_family_declines_its_offer(results, alice_client, bob_client, django_capture_on_commit_callbacks):
    placed, waiting = results
    offer = Offer.objects.get(application=placed)
    client = client_of(placed, alice_client, bob_client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enrollment_offer_decline", args=[offer.pk]), follow=True)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert "You declined the seat at Lincoln Elementary" in text_of(response)
    # The seat went to the first in line.
    assert Offer.objects.get(program=offer.program, status=Offer.Status.OFFERED).application == waiting


def test_answering_is_a_post_and_only_for_the_family(results, alice_client, bob_client, diana_client):
    placed, _waiting = results
    offer = Offer.objects.get(application=placed)
    own, other = (
        (alice_client, bob_client)
        if client_of(placed, alice_client, bob_client) is alice_client
        else (
            bob_client,
            alice_client,
        )
    )
    for name in ("enrollment_offer_accept", "enrollment_offer_decline"):
        url = reverse(name, args=[offer.pk])
        assert own.get(url).status_code == 405
        assert other.post(url).status_code == 404
        assert diana_client.post(url).status_code == 404
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OFFERED


# --- The family dashboard ------------------------------------------------------------------


def test_the_dashboard_lists_each_students_application_and_offers_to_apply(alice, alice_client, sofia, lincoln_4):
    brother = StudentFactory(family=alice.family, legal_first_name="Mateo", legal_last_name="Garcia")
    application = apply(sofia, [lincoln_4], alice)

    response = alice_client.get(reverse("family_dashboard"))

    page = text_of(response)
    assert "Open enrollment for 2027-28" in page
    assert "Sofia Garcia: Received; waiting for the drawing · See the application" in page
    assert reverse("enrollment_application", args=[application.pk]) in response.text
    assert reverse("enrollment_apply", args=[brother.pk]) in response.text


def test_the_dashboard_card_reads_a_constant_number_of_queries(alice, alice_client, sofia, lincoln_4, results):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get(reverse("family_dashboard")).status_code == 200
        return len(queries)

    count()
    small = count()
    StudentFactory.create_batch(3, family=alice.family)
    assert count() == small


# Every family route of open enrollment with an id, and what the id names: another
# family's object is a 404 (tests/permits/test_views.py holds every id route to a table).
FAMILY_OBJECT_OF = {
    "enrollment_application": "application",
    "enrollment_application_withdraw": "application",
    "enrollment_offer_accept": "offer",
    "enrollment_offer_decline": "offer",
}
# Tours are public: any family may sign up (tested above), so no 404 to prove.
PUBLIC_OBJECT_OF = {"enrollment_session_signup": "session"}


@pytest.mark.parametrize("name", sorted(FAMILY_OBJECT_OF))
def test_another_familys_enrollment_object_is_a_404(name, alice, sofia, lincoln_4, diana, bob_client):
    application = apply(sofia, [lincoln_4], alice)
    drawn(lincoln_4.cycle, diana)
    objects = {"application": application.pk, "offer": Offer.objects.get(application=application).pk}
    url = reverse(name, args=[objects[FAMILY_OBJECT_OF[name]]])
    statuses = {bob_client.get(url).status_code, bob_client.post(url).status_code}
    assert 404 in statuses and statuses <= {404, 405}
    assert Offer.objects.get(application=application).status == Offer.Status.OFFERED
    assert Application.objects.get(pk=application.pk).withdrawn_at is None
