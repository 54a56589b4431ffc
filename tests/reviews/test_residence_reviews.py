"""Addresses the boundary lookup cannot place: staff name the school of residence on the
addresses page, with who, when and why; the queue counts them; the review page shows
what the boundaries say for the packet's address."""

import hashlib
from datetime import date, timedelta

import pytest
import shapely
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applicants.addresses import standardize
from applicants.models import Grade
from applicants.services import record_residence
from boundaries.models import AddressPoint, AttendanceArea, BoundaryImport, ResidenceReview, StreetRange
from boundaries.services import decide_review, place_residence, school_of_residence
from permits import services as permit_services
from permits.models import Permit, PermitKind
from reviews import selectors

from ..conftest import login
from ..factories import GuardianFactory, SchoolFactory, StudentFactory

YEAR = "2027-28"
K, G5 = Grade.K, Grade.G5
WHY = "The parcel map puts the house north of the boundary line."
ADDRESSES = reverse("staff_addresses")


def decide_url(review: ResidenceReview) -> str:
    return reverse("staff_decide_address", args=[review.pk])


def decision(review: ResidenceReview, school, why: str = WHY) -> dict:
    return {f"review-{review.pk}-school": school.pk if school else "", f"review-{review.pk}-why": why}


def new_import(kind: str, name: str, low=None, high=None) -> BoundaryImport:
    return BoundaryImport.objects.create(
        kind=kind,
        effective_year=YEAR,
        grade_low=low,
        grade_high=high,
        source_name=name,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        imported_by_name="test",
    )


@pytest.fixture
def high(district):
    return SchoolFactory(name="Valle Verde High", code="VVH", lowest_grade=Grade.G9, highest_grade=Grade.G12)


@pytest.fixture
def boundaries(school_a, school_b, high):
    """The district's boundaries for 2027-28: a school locator (Main St is Lincoln's;
    two lines disagree on Oak Ave) and an attendance-area layer for K-5 (Lincoln's and
    Roosevelt's squares share an edge; Elm St's address point stands on it)."""
    school_a.lowest_grade, school_a.highest_grade = K, G5
    school_a.save()
    school_b.lowest_grade, school_b.highest_grade = K, G5
    school_b.save()
    ranges = new_import(BoundaryImport.Kind.STREET_RANGES, "ranges.csv")
    for line, (name, kind, low, high_number, grades, school) in enumerate(
        [
            ("MAIN", "ST", 100, 198, (K, G5), school_a),
            ("OAK", "AVE", 200, 298, (K, G5), school_a),
            ("OAK", "AVE", 200, 298, (K, G5), school_b),
            ("MAIN", "ST", 100, 198, (Grade.G9, Grade.G12), high),
        ],
        start=2,
    ):
        StreetRange.objects.create(
            source=ranges,
            line=line,
            street_name=name,
            street_type=kind,
            low=low,
            high=high_number,
            side=StreetRange.Side.BOTH,
            postal_code="90999",
            grade_low=grades[0],
            grade_high=grades[1],
            school=school,
        )
    areas = new_import(BoundaryImport.Kind.AREAS, "areas-k5.geojson", K, G5)
    for feature, (school, west) in enumerate([(school_a, -118.30), (school_b, -118.29)], start=1):
        square = shapely.box(west, 34.00, west + 0.01, 34.01)
        AttendanceArea.objects.create(source=areas, feature=feature, school=school, geometry=square.wkb)
    points = new_import(BoundaryImport.Kind.ADDRESS_POINTS, "points.csv")
    for line, (key, lon) in enumerate([("12 CEDAR LN 90999", -118.295), ("40 ELM ST 90999", -118.29)], start=2):
        AddressPoint.objects.create(source=points, line=line, address_key=key, longitude=lon, latitude=34.005)


def residence_of(family, street: str):
    address = standardize(street, "", "Valle Verde", "CA", "90999")
    return record_residence(
        family=family, address=address, entered=f"{street}, Valle Verde, CA 90999", since=date(2026, 6, 1), by=None
    )


def open_review(street: str, *, family=None, opened_days_ago: int = 0) -> ResidenceReview:
    """The address of a new family (or the one given), placed for grade 4: a review."""
    family = family or GuardianFactory().family
    residence = residence_of(family, street)
    assert place_residence(residence, Grade.G4, YEAR).needs_review
    review = ResidenceReview.objects.get(residence=residence)
    ResidenceReview.objects.filter(pk=review.pk).update(opened_at=timezone.now() - timedelta(days=opened_days_ago))
    return review


def submitted_from(permit: Permit, street: str) -> Permit:
    Permit.objects.filter(pk=permit.pk).update(residence=residence_of(permit.family, street))
    permit.refresh_from_db()
    return permit


@pytest.fixture
def on_the_line(boundaries, submitted_in):
    """Alice's packet was submitted from Oak Ave, where Lincoln and Roosevelt both claim
    grade 4: a review, with both as candidates."""
    submitted_from(submitted_in, "205 Oak Avenue")
    assert place_residence(submitted_in.residence, submitted_in.grade, YEAR).needs_review
    return ResidenceReview.objects.get(residence=submitted_in.residence)


# --- The page ------------------------------------------------------------------------------


def test_the_page_lists_open_reviews_oldest_first_with_their_packets(tina, on_the_line, submitted_in, high):
    nowhere = open_review("999 Nowhere Road", opened_days_ago=3)
    unparsed = open_review("Behind the old mill", opened_days_ago=1)
    response = login(tina).get(ADDRESSES)
    assert response.status_code == 200
    text = response.text
    assert text.index("999 NOWHERE RD") < text.index("BEHIND THE OLD MILL") < text.index("205 OAK AVE")
    assert "205 Oak Avenue, Valle Verde, CA 90999" in text  # as entered
    assert "205 OAK AVE, VALLE VERDE, CA 90999" in text  # in USPS form
    assert "The address lies in more than one school&#x27;s boundary" in text
    assert "Lincoln Elementary, Roosevelt Elementary" in text  # the candidates
    assert "No school&#x27;s boundary contains the address" in text
    assert "Could not be read in USPS form: kept as entered." in text
    assert f'<a href="{reverse("staff_permit", args=[submitted_in.pk])}">{submitted_in.reference}</a>' in text
    assert "grades K-5" in text
    # One form each, offering the schools that teach K-5, the candidates first.
    for review in (nowhere, unparsed, on_the_line):
        assert f'action="{decide_url(review)}"' in text
    assert '<optgroup label="Candidates named by the boundaries">' in text
    assert high.name not in text
    assert "No decision yet." in text


def test_deciding_records_who_when_and_why_and_the_lookup_answers_with_it(tina, on_the_line, submitted_in, school_a):
    residence = submitted_in.residence
    assert school_of_residence(residence, submitted_in.grade, YEAR).needs_review
    response = login(tina).post(decide_url(on_the_line), decision(on_the_line, school_a), follow=True)
    assert response.redirect_chain[-1][0] == ADDRESSES
    assert "205 OAK AVE, VALLE VERDE, CA 90999, grades K-5: Lincoln Elementary is the school of residence." in (
        response.text
    )
    on_the_line.refresh_from_db()
    assert (on_the_line.school, on_the_line.decided_by, on_the_line.why) == (school_a, tina, WHY)
    assert timezone.now() - on_the_line.decided_at < timedelta(minutes=1)
    finding = school_of_residence(residence, submitted_in.grade, YEAR)
    assert finding.decided_by_staff and finding.school == school_a
    assert WHY in finding.rule and "Tina" in finding.rule
    # Listed under the decisions, for the office's audit.
    assert "No address is waiting for a decision." in response.text
    assert WHY in response.text and "Tina" in response.text


def refused(client, review, data, message) -> None:
    response = client.post(decide_url(review), data, follow=True)
    assert response.status_code == 200
    assert message in response.text.replace("&#x27;", "'")


def test_a_decision_without_a_reason_is_refused(tina, on_the_line, school_a):
    refused(login(tina), on_the_line, decision(on_the_line, school_a, why="   "), "Say why this school")
    on_the_line.refresh_from_db()
    assert on_the_line.is_open and on_the_line.school is None


def test_a_second_decision_is_refused(tina, diana, on_the_line, school_a, school_b):
    decide_review(review_id=on_the_line.pk, school=school_a, by=diana, why=WHY)
    refused(
        login(tina), on_the_line, decision(on_the_line, school_b, "No, Roosevelt."), "This address was already decided."
    )
    on_the_line.refresh_from_db()
    assert (on_the_line.school, on_the_line.decided_by, on_the_line.why) == (school_a, diana, WHY)


def test_a_double_click_keeps_the_first_decision(tina, on_the_line, school_a):
    client = login(tina)
    first = client.post(decide_url(on_the_line), decision(on_the_line, school_a))
    assert first.status_code == 302
    refused(client, on_the_line, decision(on_the_line, school_a), "This address was already decided.")
    on_the_line.refresh_from_db()
    assert on_the_line.why == WHY


def test_a_school_that_does_not_teach_the_grades_is_refused(tina, on_the_line, high):
    refused(login(tina), on_the_line, decision(on_the_line, high), "Valle Verde High does not teach grades K-5.")
    on_the_line.refresh_from_db()
    assert on_the_line.is_open


def test_a_decision_without_a_school_is_refused(tina, on_the_line):
    refused(login(tina), on_the_line, decision(on_the_line, None), "This field is required.")
    on_the_line.refresh_from_db()
    assert on_the_line.is_open


def test_the_decision_refuses_get(tina, on_the_line):
    assert login(tina).get(decide_url(on_the_line)).status_code == 405


def test_the_director_decides_too(diana, on_the_line, school_b):
    client = login(diana)
    assert client.get(ADDRESSES).status_code == 200
    assert client.post(decide_url(on_the_line), decision(on_the_line, school_b)).status_code == 302
    on_the_line.refresh_from_db()
    assert on_the_line.school == school_b and on_the_line.decided_by == diana


# The views of this page that take an id, with what the id names: the access tests below
# cover them (tests/permits/test_views.py asks every such view to be in a table).
ADDRESS_OBJECT_OF = {"staff_decide_address": "address review"}


# --- Who may -----------------------------------------------------------------------------


def test_a_site_administrator_can_neither_see_nor_decide(sam, on_the_line, school_a):
    client = login(sam)
    assert client.get(ADDRESSES).status_code == 403
    assert client.post(decide_url(on_the_line), decision(on_the_line, school_a)).status_code == 403
    on_the_line.refresh_from_db()
    assert on_the_line.is_open


def test_a_district_administrator_is_refused_a_parent_gets_a_404_and_a_visitor_signs_in(
    dan, alice, on_the_line, school_a
):
    data = decision(on_the_line, school_a)
    assert login(dan).get(ADDRESSES).status_code == 403
    assert login(dan).post(decide_url(on_the_line), data).status_code == 403
    assert login(alice).get(ADDRESSES).status_code == 404
    assert login(alice).post(decide_url(on_the_line), data).status_code == 404
    for response in (Client().get(ADDRESSES), Client().post(decide_url(on_the_line), data)):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    on_the_line.refresh_from_db()
    assert on_the_line.is_open


def test_deciding_an_unknown_review_is_a_404(tina, on_the_line, school_a):
    url = reverse("staff_decide_address", args=[on_the_line.pk + 1000])
    assert login(tina).post(url, decision(on_the_line, school_a)).status_code == 404


# --- Pages and their queries -----------------------------------------------------------------


def test_the_page_runs_a_constant_number_of_queries(tina, on_the_line, school_a, school_b):
    client = login(tina)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(ADDRESSES).status_code == 200
        return len(ctx.captured_queries)

    decide_review(review_id=open_review("998 Nowhere Road").pk, school=school_b, by=tina, why=WHY)
    few = count()
    for n in range(4):
        open_review(f"9{n}0 Nowhere Road")
        decide_review(review_id=open_review(f"9{n}1 Nowhere Road").pk, school=school_a, by=tina, why=WHY)
    many = count()
    assert few == many


def test_the_pages_follow_one_another_oldest_first_and_decisions_newest_first(tina, boundaries, school_a):
    waiting = [open_review(f"9{n}0 Nowhere Road", opened_days_ago=10 - n) for n in range(5)]
    decided = [open_review(f"9{n}1 Nowhere Road") for n in range(5)]
    for review in decided:
        decide_review(review_id=review.pk, school=school_a, by=tina, why=WHY)

    def walk(decided_pages: bool) -> list[int]:
        seen, after = [], ""
        while True:
            page = selectors.residence_reviews(decided=decided_pages, after=after, size=2)
            seen += [review.pk for review in page.reviews]
            if not page.next_cursor:
                return seen
            after = page.next_cursor

    assert walk(False) == [review.pk for review in waiting]
    assert walk(True) == [review.pk for review in reversed(decided)]
    # The page's own link to the next page.
    response = login(tina).get(ADDRESSES, {"after": selectors.residence_reviews(decided=False, size=2).next_cursor})
    assert "900 NOWHERE RD" not in response.text and "920 NOWHERE RD" in response.text


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_says_how_many_addresses_need_a_school_in_one_query(tina, sam, on_the_line, school_a):
    client = login(tina)
    assert "1 address needs a school of residence" in client.get(reverse("staff_queue")).text
    open_review("999 Nowhere Road")
    decide_review(review_id=open_review("997 Nowhere Road").pk, school=school_a, by=tina, why=WHY)
    with CaptureQueriesContext(connection) as ctx:
        text = client.get(reverse("staff_queue")).text
    assert f'<a class="alert-link" href="{ADDRESSES}">2 addresses need a school of residence</a>' in text
    assert sum('"boundaries_residencereview"' in q["sql"] for q in ctx.captured_queries) == 1
    # Not for those who may not decide them.
    assert "need a school of residence" not in login(sam).get(reverse("staff_queue")).text


def test_the_queue_says_nothing_when_no_address_waits(tina, on_the_line, school_a):
    decide_review(review_id=on_the_line.pk, school=school_a, by=tina, why=WHY)
    assert "school of residence" not in login(tina).get(reverse("staff_queue")).text


# --- The review page ------------------------------------------------------------------------------


def review_page(user, permit: Permit) -> str:
    response = login(user).get(reverse("staff_permit", args=[permit.pk]))
    assert response.status_code == 200
    return response.text


def test_the_review_page_shows_the_school_and_the_rule_of_a_matched_address(tina, boundaries, submitted_in):
    submitted_from(submitted_in, "120 Main Street")
    text = review_page(tina, submitted_in)
    assert "120 MAIN ST, VALLE VERDE, CA 90999" in text
    assert "By the boundaries, grades K-5" in text
    assert "<strong>Lincoln Elementary</strong>" in text
    assert "Street range: 100–198, both sides, grades K-5 (line 2 of ranges.csv, in force from 2027-28)." in text
    assert "Needs review" not in text


def test_the_review_page_shows_the_attendance_area_of_an_address_point(tina, boundaries, submitted_in):
    submitted_from(submitted_in, "12 Cedar Lane")
    text = review_page(tina, submitted_in)
    assert "<strong>Lincoln Elementary</strong>" in text
    assert "Attendance area: feature 1 of areas-k5.geojson, grades K-5, in force from 2027-28" in text


def test_the_review_page_links_an_address_that_needs_review_to_the_addresses_page(
    tina, sam, school_a, boundaries, submitted_in
):
    submitted_from(submitted_in, "40 Elm Street")  # on the line between two areas
    text = review_page(tina, submitted_in)
    assert "Needs review" in text
    assert "The address point lies on or inside more than one attendance area." in text
    assert f'<a href="{ADDRESSES}">' in text
    # A site administrator reads it, without a link to a page they may not open.
    Permit.objects.filter(pk=submitted_in.pk).update(requested_school=school_a)
    text = review_page(sam, submitted_in)
    assert "Needs review" in text and f'href="{ADDRESSES}"' not in text


def test_an_incoming_packet_from_outside_the_boundaries_needs_no_review(tina, boundaries, submitted_in, intra):
    assert submitted_in.kind == PermitKind.INTER_IN
    submitted_from(submitted_in, "999 Nowhere Road")
    text = review_page(tina, submitted_in)
    assert "No school of the district: No street range holds this address" in text
    assert "Needs review" not in text and f'<a href="{ADDRESSES}">' not in text
    # The same address on an intra-district packet is a question for staff.
    text = review_page(tina, submitted_from(intra, "999 Nowhere Road"))
    assert "Needs review" in text and f'<a href="{ADDRESSES}">' in text


def test_the_review_page_shows_the_staff_decision_once_taken(tina, diana, on_the_line, submitted_in, school_b):
    decide_review(review_id=on_the_line.pk, school=school_b, by=diana, why=WHY)
    text = review_page(tina, submitted_in)
    assert "<strong>Roosevelt Elementary</strong> (named by staff)" in text
    assert WHY in text.replace("&#x27;", "'")
    assert "Needs review" not in text


def test_the_review_page_of_an_older_packet_says_no_address_was_recorded(tina, submitted_in):
    assert submitted_in.residence is None
    text = review_page(tina, submitted_in)
    assert "No address was recorded with this packet" in text.replace("&#x27;", "'")


@pytest.fixture
def intra(alice, sofia, school_year, boundaries, school_a, school_b):
    """Alice's intra-district packet, submitted from Main St (Lincoln's), asking for Roosevelt."""
    permit = permit_services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTRA, by=alice
    )
    Permit.objects.filter(pk=permit.pk).update(status=Permit.Status.SUBMITTED, requested_school=school_b)
    return submitted_from(permit, "120 Main Street")


MISMATCH = "The family gave Roosevelt Elementary as the school of residence; by the district's boundaries it is"


def test_an_intra_packet_naming_another_school_of_residence_is_flagged(tina, intra, school_b):
    Permit.objects.filter(pk=intra.pk).update(school_of_residence=school_b)
    text = review_page(tina, intra)
    assert f"{MISMATCH} Lincoln Elementary." in text
    assert 'href="#h-residence">Another school of residence by the boundaries</a>' in text


def test_an_intra_packet_naming_the_boundaries_school_is_not_flagged(tina, intra, school_a):
    Permit.objects.filter(pk=intra.pk).update(school_of_residence=school_a)
    text = review_page(tina, intra)
    assert "The family gave" not in text and "Another school of residence" not in text


def test_the_review_page_runs_the_same_queries_with_a_matched_or_an_unmatched_address(tina, boundaries, submitted_in):
    client = login(tina)
    url = reverse("staff_permit", args=[submitted_in.pk])

    def count(street: str) -> int:
        submitted_from(submitted_in, street)
        client.get(url)  # warm: the boundary data is read once per process
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    # The address, the imports in force, and the staff decision where one was needed.
    assert count("120 Main Street") + 1 == count("999 Nowhere Road")


def test_packets_of_other_families_at_the_same_address_are_listed_with_it(tina, on_the_line, submitted_in, school_year):
    # A second family at the same address is its own residence, and its own review.
    neighbour = GuardianFactory()
    student = StudentFactory(family=neighbour.family)
    permit = permit_services.start_permit(
        family=neighbour.family, student=student, school_year=school_year, kind=PermitKind.INTRA, by=neighbour
    )
    Permit.objects.filter(pk=permit.pk).update(status=Permit.Status.SUBMITTED)
    submitted_from(permit, "205 Oak Avenue")
    place_residence(permit.residence, permit.grade, YEAR)
    text = login(tina).get(ADDRESSES).text
    assert text.count("205 OAK AVE, VALLE VERDE, CA 90999 · grades K-5") == 2
    assert permit.reference in text and submitted_in.reference in text
