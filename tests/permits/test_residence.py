"""The family's side of attendance boundaries: the school of residence on the dashboard
and in the packet, the requests the lookup makes needless, the address a packet keeps,
and the public "Find my school" page."""

import logging
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from boundaries.models import ResidenceReview
from boundaries.services import decide_review, place_residence
from permits import services
from permits.models import Permit, PermitKind
from permits.views import FIND_SCHOOL_LIMIT_PER_MINUTE

from ..conftest import required_types
from ..factories import StudentFactory, pdf_upload
from .conftest import FAR_AWAY, ON_MAPLE, ON_OAK, ON_PINE, live_at

OFFICE_WILL_CONFIRM = "the district office will confirm it for your address."
NO_PERMIT_NEEDED = "Lincoln Elementary is already your school of residence for Grade 4; no permit is needed."
IN_THE_DISTRICT = "Your home address is in the district, in the attendance area of Lincoln Elementary"


def start(client: Client, student, school_year, kind: str):
    return client.post(reverse("permit_start"), {"student": student.pk, "school_year": school_year.pk, "kind": kind})


def complete_intra(alice, sofia, school_year, requested, residence_school) -> Permit:
    """Alice's intra-district packet for Sofia with every document, ready to submit."""
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTRA, by=alice
    )
    Permit.objects.filter(pk=permit.pk).update(requested_school=requested, school_of_residence=residence_school)
    for document_type in required_types(PermitKind.INTRA):
        services.add_document(permit_id=permit.pk, document_type=document_type, upload=pdf_upload(), by=alice)
    return permit


# --- The dashboard ------------------------------------------------------------------


def test_the_dashboard_shows_each_students_school_of_residence(alice, alice_client, sofia, boundary_data):
    page = alice_client.get(reverse("family_dashboard")).text
    assert "Enter your home address to see the school of residence" in page
    assert f'href="{reverse("family_profile")}#id_family-street"' in page

    live_at(alice.family, ON_OAK)
    StudentFactory(family=alice.family, legal_first_name="Tomas", grade=7)
    page = alice_client.get(reverse("family_dashboard")).text
    assert page.count("School of residence in 2027-28: Lincoln Elementary") == 2
    assert "Enter your home address to see the school of residence" not in page


def test_the_dashboard_says_plainly_that_the_office_will_confirm_an_address_it_cannot_place(
    alice, alice_client, sofia, boundary_data
):
    live_at(alice.family, ON_MAPLE)
    response = alice_client.get(reverse("family_dashboard"))
    assert response.status_code == 200
    assert f"School of residence in 2027-28: {OFFICE_WILL_CONFIRM}" in response.text
    assert "Lincoln Elementary" not in response.text and "Roosevelt Elementary" not in response.text


def test_the_dashboard_queries_do_not_grow_with_the_students_of_a_grade(
    alice, alice_client, sofia, school_year, boundary_data
):
    live_at(alice.family, ON_MAPLE)  # needs review: the lookup reads the staff's decisions too
    services.start_permit(family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTRA, by=alice)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert alice_client.get(reverse("family_dashboard")).status_code == 200
        return len(ctx.captured_queries)

    count_queries()  # the boundary index is loaded once per process
    small = count_queries()
    for _ in range(4):
        student = StudentFactory(family=alice.family, grade=sofia.grade)
        services.start_permit(
            family=alice.family, student=student, school_year=school_year, kind=PermitKind.INTRA, by=alice
        )
    assert alice_client.get(reverse("family_dashboard")).text.count(OFFICE_WILL_CONFIRM) == 5
    assert count_queries() == small


# --- The packet -----------------------------------------------------------------------


def test_an_intra_packet_is_prefilled_with_the_school_of_residence(
    alice, alice_client, sofia, school_year, school_a, boundary_data
):
    live_at(alice.family, ON_OAK)
    response = start(alice_client, sofia, school_year, PermitKind.INTRA)
    permit = Permit.objects.get()
    assert response["Location"] == reverse("permit_details", args=[permit.pk])
    page = alice_client.get(response["Location"]).text
    assert f'<option value="{school_a.pk}" selected>Lincoln Elementary</option>' in page


def test_without_an_address_the_intra_packet_prefills_nothing(alice, alice_client, sofia, school_year, boundary_data):
    start(alice_client, sofia, school_year, PermitKind.INTRA)
    page = alice_client.get(reverse("permit_details", args=[Permit.objects.get().pk])).text
    select = page.split('name="school_of_residence"')[1].split("</select>")[0]
    assert 'value="" selected' in select and select.count("selected") == 1


def test_an_intra_request_for_ones_own_school_of_residence_is_refused(
    alice, alice_client, sofia, school_year, school_a, school_b, boundary_data
):
    live_at(alice.family, ON_OAK)
    start(alice_client, sofia, school_year, PermitKind.INTRA)
    permit = Permit.objects.get()
    url = reverse("permit_details", args=[permit.pk])
    # Whatever school the family names as its school of residence.
    for named in (school_a, school_b):
        response = alice_client.post(url, {"school_of_residence": named.pk, "requested_school": school_a.pk})
        assert response.status_code == 200
        assert NO_PERMIT_NEEDED in response.text
    permit.refresh_from_db()
    assert permit.requested_school is None
    response = alice_client.post(url, {"school_of_residence": school_a.pk, "requested_school": school_b.pk})
    assert response["Location"] == reverse("permit_documents", args=[permit.pk])


def test_an_incoming_request_from_inside_the_district_is_pointed_to_the_intra_form(
    alice, alice_client, sofia, school_year, boundary_data
):
    live_at(alice.family, ON_OAK)
    response = start(alice_client, sofia, school_year, PermitKind.INTER_IN)
    assert response.status_code == 200
    assert IN_THE_DISTRICT in response.text
    intra = f"{reverse('permit_start')}?student={sofia.pk}&amp;school_year={school_year.pk}&amp;kind=intra"
    assert f'<a href="{intra}">Start an intra-district request instead</a>' in response.text
    assert not Permit.objects.exists()
    # The link opens the start form with the intra-district request chosen.
    page = alice_client.get(intra.replace("&amp;", "&")).text
    assert re.search(r'value="intra"\s+id="id_kind_\d" required checked', page)


def test_an_incoming_draft_of_a_family_that_moved_into_the_district_is_refused_at_its_details(
    alice, alice_client, draft_in, school_b, boundary_data
):
    live_at(alice.family, ON_OAK)
    url = reverse("permit_details", args=[draft_in.pk])
    response = alice_client.post(url, {"requested_school": school_b.pk, "home_district": "Mesa Grande Unified"})
    assert response.status_code == 200
    assert IN_THE_DISTRICT in response.text
    assert "Start an intra-district request instead" in response.text


def test_an_incoming_request_from_outside_the_district_opens_no_review(
    alice, alice_client, sofia, draft_in, school_year, boundary_data
):
    residence = live_at(alice.family, FAR_AWAY)
    other = StudentFactory(family=alice.family)
    assert start(alice_client, other, school_year, PermitKind.INTER_IN).status_code == 302
    permit = services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert permit.residence == residence
    assert not ResidenceReview.objects.exists()


def test_an_address_the_lookup_cannot_place_refuses_nothing_and_opens_one_review_on_submit(
    alice, alice_client, sofia, draft_in, school_year, school_a, school_b, boundary_data
):
    residence = live_at(alice.family, ON_MAPLE)
    other = StudentFactory(family=alice.family)
    assert start(alice_client, other, school_year, PermitKind.INTER_IN).status_code == 302
    start(alice_client, sofia, school_year, PermitKind.INTRA)
    permit = Permit.objects.get(student=sofia, kind=PermitKind.INTRA)
    url = reverse("permit_details", args=[permit.pk])
    assert "selected>Lincoln Elementary" not in alice_client.get(url).text  # nothing guessed
    response = alice_client.post(url, {"school_of_residence": school_b.pk, "requested_school": school_a.pk})
    assert response["Location"] == reverse("permit_documents", args=[permit.pk])
    for document_type in required_types(PermitKind.INTRA):
        services.add_document(permit_id=permit.pk, document_type=document_type, upload=pdf_upload(), by=alice)

    services.submit_permit(permit_id=permit.pk, by=alice)
    with pytest.raises(services.TransitionNotAllowed):
        services.submit_permit(permit_id=permit.pk, by=alice)
    # The incoming packet of the same address and grades: it lies inside, so it is reviewed, once.
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    review = ResidenceReview.objects.get()
    assert (review.residence, review.reason, review.is_open) == (residence, ResidenceReview.Reason.SEVERAL, True)
    assert set(review.candidates.all()) == {school_a, school_b}
    permit.refresh_from_db()
    assert permit.status == Permit.Status.SUBMITTED and permit.residence == residence


def test_once_staff_decide_the_address_the_family_sees_the_school_and_the_refusal_applies(
    alice, alice_client, sofia, school_year, school_a, school_b, tina, boundary_data
):
    residence = live_at(alice.family, ON_MAPLE)
    finding = place_residence(residence, sofia.grade, school_year.name)
    decide_review(ResidenceReview.objects.get().pk, school_b, tina, "The lot faces Maple on Roosevelt's side.")
    assert finding.needs_review
    assert "School of residence in 2027-28: Roosevelt Elementary" in alice_client.get(reverse("family_dashboard")).text
    start(alice_client, sofia, school_year, PermitKind.INTRA)
    url = reverse("permit_details", args=[Permit.objects.get().pk])
    response = alice_client.post(url, {"school_of_residence": school_a.pk, "requested_school": school_b.pk})
    assert "Roosevelt Elementary is already your school of residence for Grade 4; no permit is needed." in response.text


def test_a_move_makes_a_second_residence_and_the_submitted_packet_keeps_the_first(
    alice, alice_client, sofia, school_year, school_a, school_b, boundary_data
):
    first = live_at(alice.family, ON_OAK)
    permit = complete_intra(alice, sofia, school_year, requested=school_b, residence_school=school_a)
    services.submit_permit(permit_id=permit.pk, by=alice)
    response = alice_client.post(
        reverse("family_profile"),
        {
            **{f"family-{name}": value for name, value in ON_PINE.items()},
            "family-state": "CA",
            "family-preferred_language": "en",
            "me-first_name": "Alice",
            "me-last_name": "Nguyen",
        },
    )
    assert response.status_code == 302
    assert alice.family.residences.count() == 2 and alice.family.residences.first().line1 == "500 PINE RD"
    permit.refresh_from_db()
    assert permit.residence == first
    page = alice_client.get(reverse("permit_detail", args=[permit.pk])).text
    assert "Home address when submitted" in page and "120 OAK AVE" in page and "500 PINE RD" not in page
    assert 'School of residence at this address</dt><dd class="col-sm-7">Lincoln Elementary' in page
    # The dashboard speaks of the new address: Roosevelt's attendance area.
    assert "School of residence in 2027-28: Roosevelt Elementary" in alice_client.get(reverse("family_dashboard")).text


# --- Find my school -------------------------------------------------------------------


@pytest.fixture
def anyone():
    """A visitor with an address of its own (RFC 5737), so that its budget is its own."""
    address = "192.0.2.61"
    cache.delete(f"find-school-rate:{address}")
    yield Client(REMOTE_ADDR=address)
    cache.delete(f"find-school-rate:{address}")


def find(client: Client, address: dict, grade: int = 4, unit: str = ""):
    return client.post(reverse("find_my_school"), {**address, "unit": unit, "grade": grade})


def test_the_home_page_links_to_find_my_school(district, anyone):
    assert f'href="{reverse("find_my_school")}"' in anyone.get(reverse("home")).text
    assert anyone.get(reverse("find_my_school")).status_code == 200


def test_find_my_school_answers_from_an_address_and_a_grade(anyone, boundary_data):
    assert "School of residence in 2027-28: Lincoln Elementary" in find(anyone, ON_OAK).text
    assert "School of residence in 2027-28: Roosevelt Elementary" in find(anyone, ON_PINE).text
    for unplaced in (ON_MAPLE, FAR_AWAY):
        page = find(anyone, unplaced).text
        assert "the district office will confirm it." in page
        assert "Call (555) 010-2000 or write to permits@district.example." in page
    unread = find(anyone, {**ON_OAK, "street": "Rancho El Sauce"}).text
    assert "We could not read this address in the usual postal form." in unread
    box = find(anyone, {**ON_OAK, "street": "P.O. Box 7"})
    assert box.status_code == 400 and "A post office box cannot be a home address." in box.text
    assert "School of residence in" not in box.text


def test_find_my_school_writes_no_row_and_logs_no_address(anyone, boundary_data, caplog):
    tables = [*apps.get_app_config("applicants").get_models(), *apps.get_app_config("boundaries").get_models()]

    def rows():
        return {model._meta.db_table: model.objects.count() for model in tables}

    before = rows()
    with caplog.at_level(logging.DEBUG):
        for address in (ON_OAK, ON_MAPLE, FAR_AWAY):
            response = find(anyone, address)
            assert response.status_code == 200
            assert "no-store" in response["Cache-Control"]
    assert rows() == before
    for address in (ON_OAK, ON_MAPLE, FAR_AWAY):
        assert address["street"].split()[1].upper() not in caplog.text.upper()


def test_find_my_school_is_rate_limited_per_client(anyone, boundary_data):
    statuses = [find(anyone, ON_OAK).status_code for _ in range(FIND_SCHOOL_LIMIT_PER_MINUTE + 2)]
    assert statuses == [200] * FIND_SCHOOL_LIMIT_PER_MINUTE + [429, 429]
    assert "Too many searches from your address." in find(anyone, ON_OAK).text
    neighbour = Client(REMOTE_ADDR="192.0.2.62")
    cache.delete("find-school-rate:192.0.2.62")
    assert find(neighbour, ON_OAK).status_code == 200
    cache.delete("find-school-rate:192.0.2.62")


def test_the_verification_budget_is_not_the_school_finders(anyone, district):
    cache.delete("verify-rate:192.0.2.61")
    for _ in range(FIND_SCHOOL_LIMIT_PER_MINUTE + 1):
        find(anyone, FAR_AWAY)
    assert anyone.get(reverse("verify_letter", args=["ABCDEFGHJK"])).status_code == 404
    cache.delete("verify-rate:192.0.2.61")
