"""A site administrator is kept to their own schools on every staff route.

The routes are read from the URL configuration, not listed here: a staff route added
later is tested the day it is added, and a route whose object this file cannot build
fails `test_every_route_with_an_id_has_an_object_here` until it is given one.

The district has two schools. Sam administers school A (Lincoln) only. Everything at
school B (Roosevelt) belongs to students named Zubiri, and its references, note and
site review are "secrets" Sam must never be shown: one of them is Sofia, whose brother
Mateo has a permit at school A.
"""

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.base import ContentFile
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from applicants.models import Residence
from boundaries.models import ResidenceReview
from demo.samples import sample_pdf
from notifications.letters import issue_letter
from permits import services as permits
from permits.models import Document, Letter, Permit, PermitKind, SeatAllocation
from reviews import services as desk

from ..conftest import login, required_types
from ..factories import GuardianFactory, StudentFactory, pdf_upload


@dataclass(frozen=True)
class Route:
    path: str  # the whole route, e.g. "staff/permits/<int:pk>/approve/"
    name: str

    @property
    def takes_id(self) -> bool:
        return "<int:pk>" in self.path

    def url(self, pk: int | None = None) -> str:
        return reverse(self.name, args=[pk] if self.takes_id else [])


def routes(patterns=None, prefix: str = ""):
    """Every route of the portal outside the Django admin (tested on its own below)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield Route(prefix + str(pattern.pattern), pattern.name)


ALL_ROUTES = list(routes())
STAFF_ROUTES = [r for r in ALL_ROUTES if r.path.startswith("staff/")]
STAFF_ID_ROUTES = [r for r in STAFF_ROUTES if r.takes_id]
STAFF_LIST_ROUTES = [r for r in STAFF_ROUTES if not r.takes_id]
FAMILY_ROUTES = [r for r in ALL_ROUTES if r.path.startswith("family/")]

# Which object a route's id names, by the start of its path (the longest match wins).
OBJECT_UNDER = {
    "staff/permits/<int:pk>/": "permit",
    "staff/documents/<int:pk>/": "document",
    "staff/letters/<int:pk>/": "letter",
    "staff/letters/batches/<int:pk>/": "batch",
    "staff/addresses/<int:pk>/": "residence_review",
    "family/permits/<int:pk>/": "permit",
    "family/documents/<int:pk>/": "document",
    "family/letters/<int:pk>/": "letter",
    "family/students/<int:pk>/": "student",
    # Open enrollment's objects are district-wide: a site administrator is refused (403)
    # before any lookup, for any id (world() names none).
    "staff/enrollment/cycles/<int:pk>/": "enrollment",
    "staff/enrollment/rounds/<int:pk>/": "enrollment",
    "staff/enrollment/claims/<int:pk>/": "enrollment",
    "enrollment/sessions/<int:pk>/": "session",
    "enrollment/applications/<int:pk>/": "application",
    "enrollment/offers/<int:pk>/": "offer",
}
MISSING = 999_999  # an id no object has


def object_of(route: Route) -> str | None:
    prefixes = [prefix for prefix in OBJECT_UNDER if route.path.startswith(prefix)]
    return OBJECT_UNDER[max(prefixes, key=len)] if prefixes else None


def packet(guardian, student, school, school_year) -> Permit:
    """A submitted inter_in packet asking for `school`, every document verified."""
    permit = permits.start_permit(
        family=guardian.family, student=student, school_year=school_year, kind=PermitKind.INTER_IN, by=guardian
    )
    Permit.objects.filter(pk=permit.pk).update(requested_school=school, home_district="Mesa Grande Unified")
    for document_type in required_types(PermitKind.INTER_IN):
        permits.add_document(permit_id=permit.pk, document_type=document_type, upload=pdf_upload(), by=guardian)
    permits.submit_permit(permit_id=permit.pk, by=guardian)
    Document.objects.filter(permit=permit).update(review=Document.Review.VERIFIED)
    permit.refresh_from_db()
    return permit


def approve(permit: Permit, by) -> Letter:
    """Approve the packet and issue its acceptance letter as the worker leaves it (a
    stored PDF stands in for WeasyPrint's, which takes a second per letter)."""
    permits.approve_permit(permit_id=permit.pk, by=by)
    letter = issue_letter(event=permit.events.get(new_status=Permit.Status.APPROVED), kind=Letter.Kind.ACCEPTANCE)
    letter.pdf.save(f"letters/{permit.pk}.pdf", ContentFile(sample_pdf(f"Acceptance {permit.pk}")), save=False)
    letter.rendered_at = timezone.now()
    letter.save(update_fields=["pdf", "rendered_at"])
    return letter


@pytest.fixture
def world(alice, bob, sam, tina, diana, school_a, school_b, school_year):
    for school in (school_a, school_b):
        SeatAllocation.objects.create(school=school, school_year=school_year, grade=4, capacity=5)
    sofia = StudentFactory(family=alice.family, legal_first_name="Sofia", legal_last_name="Zubiri")
    mateo = StudentFactory(family=alice.family, legal_first_name="Mateo", legal_last_name="Lopez")
    ana = StudentFactory(family=bob.family, legal_first_name="Ana", legal_last_name="Zubiri")
    carla = GuardianFactory(first_name="Carla")
    bruno = StudentFactory(family=carla.family, legal_first_name="Bruno", legal_last_name="Zubiri")
    dora = GuardianFactory(first_name="Dora")
    lena = StudentFactory(family=dora.family, legal_first_name="Lena", legal_last_name="Ortiz")

    # School B: Sofia's approved permit (letter, note, site review), Ana's open packet,
    # Bruno's denial under internal appeal.
    b_approved = packet(alice, sofia, school_b, school_year)
    b_letter = approve(b_approved, tina)
    desk.add_note(permit_id=b_approved.pk, by=tina, text="B-ONLY note: the family moved")
    desk.record_site_review(permit_id=b_approved.pk, by=diana, recommend_revocation=False, reason="B-ONLY review")
    b_open = packet(bob, ana, school_b, school_year)
    b_denied = packet(carla, bruno, school_b, school_year)
    permits.deny_permit(permit_id=b_denied.pk, by=diana, reasons=["no_space"], final=True)
    permits.file_internal_appeal(permit_id=b_denied.pk, by=carla, statement="Please reconsider.")
    # School A: Mateo's approved permit (Sofia's brother), Lena's open packet.
    a_approved = packet(alice, mateo, school_a, school_year)
    a_letter = approve(a_approved, tina)
    a_open = packet(dora, lena, school_a, school_year)

    def objects(permit, letter):
        batch = desk.start_batch(letters=[letter], by=diana, description=f"letters of {permit.reference}")
        # An address of the family that the boundaries could not place.
        residence = Residence.objects.create(
            family_id=permit.family_id,
            entered=f"{permit.pk} Nowhere Rd",
            line1=f"{permit.pk} NOWHERE RD",
            city="VALLE VERDE",
            state="CA",
            postal_code="90999",
            since=date(2026, 6, 1),
        )
        review = ResidenceReview.objects.create(
            residence=residence, grade_low=4, grade_high=4, reason=ResidenceReview.Reason.NO_MATCH
        )
        return {
            "residence_review": review.pk,
            "permit": permit.pk,
            "document": permit.documents.first().pk,
            "letter": letter.pk,
            "batch": batch.pk,
            "student": permit.student_id,
            "enrollment": MISSING,
        }

    return SimpleNamespace(
        a=objects(a_approved, a_letter),
        b=objects(b_approved, b_letter),
        a_references={"a_approved": a_approved.reference, "a_open": a_open.reference},
        secrets=["Zubiri", "B-ONLY", b_approved.reference, b_open.reference, b_denied.reference],
        # What every action is sent: enough for the actions a site administrator may take.
        payload={"note-text": "Seen by the site", "reason": "Attends every day", "permits": [b_open.pk, b_approved.pk]},
        searches=[
            {"q": "Zubiri"},
            {"q": b_open.reference},
            {"school": school_b.pk},
            {"status": Permit.Status.APPROVED},
            {"status": Permit.Status.DENIED},
            {"reference": b_approved.reference},
            {"format": "csv"},
        ],
    )


@pytest.fixture
def sam_client(sam):
    return login(sam)


def snapshot() -> dict:
    """Every row of the portal's own apps."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in ("applicants", "permits", "reviews", "notifications", "outbox")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def leaked(response, secrets) -> list[str]:
    """The secrets a page shows, leaving out what it repeats of the request itself (the
    search box, the language switch's way back): searching for "Zubiri" is no leak."""
    if response.status_code != 200:
        return []
    request = response.wsgi_request
    text = body(response).replace(escape(request.get_full_path()), "")
    for value in request.GET.values():
        text = text.replace(f'value="{escape(value)}"', "")
    return [secret for secret in secrets if secret in text]


def assert_signed_in(response):
    # A lost session would answer every route with a redirect to sign in: no test.
    if response.status_code == 302:
        assert not response["Location"].startswith(reverse("login")), response["Location"]
        assert not response["Location"].startswith(reverse("two_factor_verify")), response["Location"]


def get_and_post(client, url: str, payload: dict) -> dict:
    """The answers to both methods; the one a view does not take is a 405 before any lookup."""
    answers = {"GET": client.get(url), "POST": client.post(url, payload)}
    for response in answers.values():
        assert_signed_in(response)
    return answers


def statuses(answers: dict) -> dict[str, int]:
    return {method: response.status_code for method, response in answers.items()}


def test_every_route_with_an_id_has_an_object_here():
    unknown = [r.path for r in ALL_ROUTES if r.takes_id and object_of(r) is None]
    assert not unknown, f"add the object these routes take to OBJECT_UNDER and to world(): {unknown}"
    assert len(STAFF_ID_ROUTES) > 20 and len(STAFF_LIST_ROUTES) > 5  # the walk found the staff desk


@pytest.mark.parametrize("route", STAFF_ID_ROUTES, ids=lambda r: r.name)
def test_a_site_administrator_reaches_their_school_and_nothing_of_another(route, world, sam_client):
    kind = object_of(route)
    before = snapshot()
    other = get_and_post(sam_client, route.url(world.b[kind]), world.payload)
    # Nothing was written: no event, note, review, record of access or batch.
    assert snapshot() == before
    missing = get_and_post(sam_client, route.url(MISSING), world.payload)
    own = get_and_post(sam_client, route.url(world.a[kind]), world.payload)

    # School B's object answers exactly as an object that does not exist.
    assert statuses(other) == statuses(missing)
    taken = {status for status in statuses(other).values() if status != 405}
    assert taken, "neither GET nor POST is taken"
    if taken == {403}:
        # Closed to the role before any lookup (batch printing is the director's): the
        # same 403 for their own school's object, so it tells nothing about school B.
        assert statuses(own) == statuses(other)
    else:
        assert taken == {404}, statuses(other)
    # The same route opens for school A's object: a page, the action done (a redirect
    # back to the packet), or a 403 for an action that is not a site administrator's.
    assert 404 not in statuses(own).values(), statuses(own)
    assert set(statuses(own).values()) <= {200, 302, 403, 405}, statuses(own)
    for response in (*other.values(), *own.values()):
        assert not leaked(response, world.secrets)


@pytest.mark.parametrize("route", STAFF_LIST_ROUTES, ids=lambda r: r.name)
def test_a_staff_page_without_an_id_shows_nothing_of_another_school(route, world, sam_client):
    before = snapshot()
    plain = sam_client.get(route.url())
    answers = [plain, *(sam_client.get(route.url(), query) for query in world.searches)]
    answers.append(sam_client.post(route.url(), world.payload))
    assert snapshot() == before
    for response in answers:
        assert_signed_in(response)
        assert response.status_code in {200, 302, 403, 404, 405}, response.status_code
        assert not leaked(response, world.secrets), response.request
    if plain.status_code == 200:
        # An open list shows school A's packets: the page is not empty by accident.
        assert any(reference in body(plain) for reference in world.a_references.values()), route.name


@pytest.mark.parametrize(
    "route, shows",
    [
        ("staff_queue", "a_open"),
        ("staff_periodic_review", "a_approved"),
    ],
)
def test_the_site_administrators_lists_are_open_to_them(route, shows, world, sam_client):
    response = sam_client.get(reverse(route))
    assert response.status_code == 200
    assert world.a_references[shows] in response.text


def test_the_review_page_lists_only_the_siblings_packets_at_their_own_school(world, sam_client, diana):
    page = reverse("staff_permit", args=[world.a["permit"]])
    # The director sees the sister's packet at school B beside Mateo's...
    assert "Zubiri" in login(diana).get(page).text
    # ...Sam, of school A only, does not.
    response = sam_client.get(page)
    assert response.status_code == 200 and "Zubiri" not in response.text


def test_family_pages_are_a_404_to_a_site_administrator(world, sam_client):
    before = snapshot()
    for route in FAMILY_ROUTES:
        answers = get_and_post(sam_client, route.url(world.b[object_of(route)] if route.takes_id else None), {})
        assert set(statuses(answers).values()) <= {404, 405} and 404 in statuses(answers).values(), route.name
    assert snapshot() == before


def test_the_admin_shows_a_site_administrator_nothing_of_another_school(world, sam_client):
    assert not leaked(sam_client.get(reverse("admin:index")), world.secrets)
    for model in admin.site._registry:
        opts = model._meta
        response = sam_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": "Zubiri"})
        assert_signed_in(response)
        assert response.status_code == 403 or not leaked(response, world.secrets), opts.label
    change = reverse("admin:permits_permit_change", args=[world.b["permit"]])
    assert sam_client.get(change).status_code == 403
