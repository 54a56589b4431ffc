import pytest
from django.test import Client
from django.urls import reverse

from permits.models import Permit

from ..conftest import login
from ..factories import PASSWORD

STAFF_OBJECT_OF = {
    "staff_permit": "permit",
    "staff_claim": "permit",
    "staff_assign": "permit",
    "staff_add_note": "permit",
    "staff_request_info": "permit",
    "staff_approve": "permit",
    "staff_deny": "permit",
    "staff_confirm_denial": "permit",
    "staff_void": "permit",
    "staff_record_release": "permit",
    "staff_revoke": "permit",
    "staff_site_review": "permit",
    "staff_decide_appeal": "permit",
    "staff_county_appeal": "permit",
    "staff_county_decision": "permit",
    "staff_start_provisional": "permit",
    "staff_end_provisional": "permit",
    "staff_document": "document",
    "staff_verify_document": "document",
    "staff_reject_document": "document",
}
GET_VIEWS = {"staff_permit", "staff_document"}
# The one action each role may not take (a 403 on a packet it can see).
FORBIDDEN_FOR_TECHNICIAN = [
    "staff_void",
    "staff_confirm_denial",
    "staff_revoke",
    "staff_decide_appeal",
    "staff_county_appeal",
    "staff_county_decision",
    "staff_site_review",
]
FORBIDDEN_FOR_SITE_ADMIN = [
    "staff_claim",
    "staff_assign",
    "staff_request_info",
    "staff_approve",
    "staff_deny",
    "staff_void",
    "staff_record_release",
    "staff_revoke",
    "staff_confirm_denial",
    "staff_verify_document",
    "staff_reject_document",
    "staff_decide_appeal",
    "staff_start_provisional",
    "staff_end_provisional",
]


@pytest.fixture
def objects(submitted_in):
    return {"permit": submitted_in.pk, "document": submitted_in.documents.first().pk}


def url(name, objects):
    return reverse(name, args=[objects[STAFF_OBJECT_OF[name]]])


def call(client, name, objects):
    return client.get(url(name, objects)) if name in GET_VIEWS else client.post(url(name, objects))


@pytest.mark.parametrize("name", sorted(STAFF_OBJECT_OF))
def test_a_parent_never_reaches_staff_pages_even_for_their_own_packet(name, objects, alice_client):
    assert call(alice_client, name, objects).status_code == 404


@pytest.mark.parametrize("name", sorted(STAFF_OBJECT_OF))
def test_a_site_administrator_of_another_school_gets_a_404(name, objects, sam):
    # The packet asks for school B; Sam administers school A only.
    assert call(login(sam), name, objects).status_code == 404


@pytest.mark.parametrize("name", sorted(STAFF_OBJECT_OF))
def test_anonymous_visitors_are_sent_to_sign_in(name, objects):
    response = call(Client(), name, objects)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(set(STAFF_OBJECT_OF) - GET_VIEWS))
def test_actions_refuse_get(name, objects, tina):
    assert login(tina).get(url(name, objects)).status_code == 405


@pytest.mark.parametrize("name", FORBIDDEN_FOR_TECHNICIAN)
def test_a_technician_may_read_but_not_take_director_actions(name, objects, tina):
    client = login(tina)
    assert client.get(reverse("staff_permit", args=[objects["permit"]])).status_code == 200
    assert client.post(url(name, objects)).status_code == 403


@pytest.mark.parametrize("name", FORBIDDEN_FOR_SITE_ADMIN)
def test_a_site_administrator_reads_their_school_but_does_not_decide(name, objects, sam, school_a):
    Permit.objects.filter(pk=objects["permit"]).update(requested_school=school_a)
    client = login(sam)
    assert client.get(reverse("staff_permit", args=[objects["permit"]])).status_code == 200
    assert client.post(url(name, objects)).status_code == 403
    assert Permit.objects.get(pk=objects["permit"]).status == "submitted"


def test_staff_without_a_role_get_a_404(objects, district):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applicants.models import User

    nobody = User.objects.create_user(email="norole@district.example", password=PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=nobody, name="authenticator", confirmed=True)
    assert login(nobody).get(reverse("staff_queue")).status_code == 404


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/staff/reports/", {"diana", "dan"}),
        ("/staff/periodic-review/", {"sam"}),
        ("/staff/", {"tina", "diana", "sam", "dan"}),
    ],
)
def test_list_pages_by_role(path, allowed, tina, diana, sam, dan, alice):
    people = {"tina": tina, "diana": diana, "sam": sam, "dan": dan}
    for name, user in people.items():
        assert login(user).get(path).status_code == (200 if name in allowed else 403), name
    assert login(alice).get(path).status_code == 404


def test_bulk_approval_ignores_packets_outside_the_scope(objects, verified_in, sam):
    response = login(sam).post(reverse("staff_bulk_approve"), {"permits": [objects["permit"]]})
    assert response.status_code == 403
