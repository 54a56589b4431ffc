"""The client's address behind nginx (config/clients.py): every client its own budget at
/verify/, its own sign-in throttle and its own line in the access log, and no way to
pick another by writing X-Forwarded-For itself."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from config.clients import client_address
from permits.views import VERIFY_LIMIT_PER_MINUTE
from reviews.models import RecordAccess

from .conftest import login
from .factories import PASSWORD

NGINX = "172.18.0.5"
# Documentation ranges (RFC 5737): no test elsewhere uses them, so their rate-limit keys
# in the shared Redis are this module's alone.
CLIENT_A, CLIENT_B, MADE_UP = "203.0.113.10", "203.0.113.20", "198.51.100.7"
ADDRESSES = [NGINX, CLIENT_A, CLIENT_B, MADE_UP]


@pytest.fixture(autouse=True)
def _fresh_budgets():
    cache.delete_many([f"verify-rate:{address}" for address in ADDRESSES])
    yield
    cache.delete_many([f"verify-rate:{address}" for address in ADDRESSES])


@pytest.fixture
def behind_nginx(settings):
    settings.PROXY_COUNT = 1


def through_nginx(forwarded_for: str) -> Client:
    """A client whose requests reach Django through nginx: nginx appends the address it
    saw to whatever X-Forwarded-For the client sent ($proxy_add_x_forwarded_for)."""
    return Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded_for)


def verify(client: Client) -> int:
    return client.get(reverse("verify_letter", args=["ABCDEFGHJK"])).status_code


def test_behind_one_proxy_each_client_has_its_own_budget(district, behind_nginx):
    a, b = through_nginx(CLIENT_A), through_nginx(CLIENT_B)
    assert [verify(a) for _ in range(VERIFY_LIMIT_PER_MINUTE)] == [404] * VERIFY_LIMIT_PER_MINUTE
    assert verify(a) == 429
    assert verify(b) == 404


def test_prepending_made_up_addresses_does_not_escape_the_budget(district, behind_nginx):
    for _ in range(VERIFY_LIMIT_PER_MINUTE):
        verify(through_nginx(CLIENT_A))
    # The client sends "X-Forwarded-For: <anything>"; nginx appends the real address.
    assert verify(through_nginx(f"{MADE_UP}, {CLIENT_A}")) == 429
    assert verify(through_nginx(f"{CLIENT_B}, {MADE_UP}, {CLIENT_A}")) == 429


def test_without_a_proxy_the_header_is_ignored(district, settings):
    settings.PROXY_COUNT = 0
    for _ in range(VERIFY_LIMIT_PER_MINUTE):
        verify(through_nginx(CLIENT_A))
    # Every request came from NGINX's address, whatever the header says.
    assert verify(through_nginx(CLIENT_B)) == 429
    assert not cache.get(f"verify-rate:{CLIENT_A}")


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.10", "10.0.0.1"),
        (1, NGINX, "203.0.113.10", "203.0.113.10"),
        (1, NGINX, "198.51.100.7, 203.0.113.10", "203.0.113.10"),
        (1, NGINX, " 203.0.113.10 ", "203.0.113.10"),
        # Two proxies (a TLS terminator, then nginx): the second entry from the right.
        (2, NGINX, "198.51.100.7, 203.0.113.10, 10.0.0.2", "203.0.113.10"),
        # Fewer entries than proxies: not through them all, REMOTE_ADDR is the client.
        (2, "10.0.0.1", "203.0.113.10", "10.0.0.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, NGINX, "2001:0db8::0001", "2001:db8::1"),
        # Not an address: none (the access log stores NULL, the rate limit one bucket).
        (1, NGINX, "unknown", None),
        (0, "", "", None),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_the_access_log_records_the_client_not_the_proxy(submitted_in, tina, behind_nginx):
    client = login(tina)
    document = submitted_in.documents.first()
    client.get(reverse("staff_document", args=[document.pk]), REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=CLIENT_A)
    assert RecordAccess.objects.get(document=document).address == CLIENT_A


def test_failed_sign_ins_lock_out_one_client_not_everyone_behind_nginx(alice, behind_nginx, settings):
    attacker, family = through_nginx(CLIENT_A), through_nginx(CLIENT_B)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("login"), {"username": alice.email, "password": "wrong"})
    attacker.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert "_auth_user_id" not in attacker.session
    family.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert "_auth_user_id" in family.session
