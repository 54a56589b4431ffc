"""What someone probing the sign-in, sign-up and invitation forms can learn or win:
nothing about who is registered, and no extra guesses by re-spelling an address."""

import re
import statistics
import time

import pytest
from django.test import Client
from django.urls import reverse

from applicants.models import GuardianInvitation, User
from outbox.models import OutboxEmail

from ..conftest import recovery_code
from ..factories import PASSWORD

SPELLINGS = ["alice@example.com", "ALICE@example.com", "alice@EXAMPLE.com", " alice@example.com", "alice@example.com "]


def wrong_password(client: Client, username: str):
    return client.post(reverse("login"), {"username": username, "password": "not-the-password-123"})


def test_every_spelling_of_an_address_counts_against_one_budget(alice):
    client = Client()
    for spelling in SPELLINGS:  # five failures, each spelled differently
        wrong_password(client, spelling)
    for spelling in SPELLINGS:
        response = client.post(reverse("login"), {"username": spelling, "password": PASSWORD})
        assert response.status_code == 429, spelling
        assert "_auth_user_id" not in client.session


def test_a_respelled_address_still_signs_in_before_the_budget_is_spent(alice):
    client = Client()
    for spelling in SPELLINGS[:4]:
        wrong_password(client, spelling)
    client.post(reverse("login"), {"username": " Alice@Example.COM ", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_second_factor_throttles_the_account_however_the_address_was_spelled(tina):
    code = recovery_code(tina)
    first = Client()
    first.post(reverse("login"), {"username": "TINA@district.example", "password": PASSWORD})
    for _ in range(3):
        first.post(reverse("two_factor_verify"), {"code": "000000"})
    # Signing in again with another spelling does not reset the device's throttle: even
    # a right code waits.
    second = Client()
    second.post(reverse("login"), {"username": " tina@DISTRICT.example", "password": PASSWORD})
    response = second.post(reverse("two_factor_verify"), {"code": code})
    assert response.status_code == 200 and "not valid" in response.text
    assert reverse("staff_queue") not in response.get("Location", "")


def test_password_reset_mails_one_link_a_minute_however_the_address_is_spelled(alice):
    for spelling in SPELLINGS:
        response = Client().post(reverse("password_reset"), {"email": spelling})
        assert response["Location"] == reverse("password_reset_done")
    assert OutboxEmail.objects.filter(template="password_reset", to="alice@example.com").count() == 1


def _page_text(response) -> str:
    """The page as a visitor reads it, without the per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.text)


def _sign_up(email: str):
    data = {
        "email": email,
        "first_name": "Carmen",
        "last_name": "Lopez",
        "phone": "",
        "language": "en",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    started = time.perf_counter()
    response = Client().post(reverse("signup"), data)
    return response, time.perf_counter() - started


def test_sign_up_answers_a_registered_address_exactly_as_a_new_one(alice):
    registered, _ = _sign_up("ALICE@example.com ")
    new, _ = _sign_up("alice@example.com".replace("alice", "carmen"))
    assert registered.status_code == new.status_code == 200
    assert _page_text(registered).replace("alice@example.com", "X") == _page_text(new).replace(
        "carmen@example.com", "X"
    )
    assert registered.cookies.keys() == new.cookies.keys()
    # Alice's account is untouched and she is told, by email, how to get in.
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD) and alice.first_name == "Alice"
    assert User.objects.filter(email="alice@example.com").count() == 1
    notice = OutboxEmail.objects.get(to="alice@example.com")
    assert notice.template == "account_exists"
    assert reverse("login") in notice.body_text and reverse("password_reset") in notice.body_text
    assert OutboxEmail.objects.get(to="carmen@example.com").template == "verify_email"


def test_sign_up_takes_as_long_for_a_registered_address(alice):
    """The password is hashed on both paths (Argon2 dominates the time); without that a
    registered address would answer several times faster."""
    registered, new = [], []
    for attempt in range(5):
        registered.append(_sign_up("alice@example.com")[1])
        new.append(_sign_up(f"new{attempt}@example.com")[1])
    ratio = statistics.median(registered) / statistics.median(new)
    assert 0.6 < ratio < 1.6, (registered, new)


def test_the_account_exists_notice_is_in_the_owners_language(alice):
    alice.family.preferred_language = "es"
    alice.family.save()
    _sign_up("alice@example.com")
    notice = OutboxEmail.objects.get(template="account_exists")
    assert notice.language == "es"
    assert "Ya tiene una cuenta" in notice.subject


def test_the_notice_is_sent_once_a_minute_at_most(alice):
    for _ in range(3):
        _sign_up("alice@example.com")
    assert OutboxEmail.objects.filter(template="account_exists").count() == 1


@pytest.mark.parametrize("address", ["bob@example.com", "nobody@example.com"])
def test_inviting_a_guardian_answers_the_same_for_registered_and_new_addresses(alice, alice_client, bob, address):
    response = alice_client.post(reverse("invite_guardian"), {"email": address.upper()}, follow=True)
    assert f"Invitation sent to {address}." in response.text
    assert "already" not in response.text
    # The pending invitation is listed either way, so the profile page tells nothing.
    assert GuardianInvitation.objects.get().email == address
    assert address in response.text
    email = OutboxEmail.objects.get(to=address)
    if address == bob.email:
        # Bob keeps his own account; he is told why he cannot join with it, with no
        # link that would create a second one.
        assert email.template == "guardian_invitation_existing"
        assert "/accounts/invitation/" not in email.body_text
    else:
        assert email.template == "guardian_invitation"
        assert "/accounts/invitation/" in email.body_text


def test_inviting_someone_already_in_the_family_says_so(alice, alice_client):
    response = alice_client.post(reverse("invite_guardian"), {"email": "Alice@Example.com"}, follow=True)
    assert "already a guardian in your family" in response.text
    assert not GuardianInvitation.objects.exists() and not OutboxEmail.objects.exists()
