import re

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from applicants.models import Family, GuardianInvitation, Student, User
from outbox.models import OutboxEmail

from ..conftest import login
from ..factories import PASSWORD

SIGNUP = {
    "email": "Carmen@Example.com",
    "first_name": "Carmen",
    "last_name": "Lopez",
    "phone": "555-0100",
    "language": "es",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def link_in(email: OutboxEmail) -> str:
    return re.search(r"https?://\S+", email.body_text).group(0).replace("http://127.0.0.1:8000", "")


def test_sign_up_creates_an_inactive_family_account_and_emails_a_link(district):
    response = Client().post(reverse("signup"), SIGNUP)
    assert response.status_code == 200
    user = User.objects.get()
    assert user.email == "carmen@example.com"
    assert not user.is_active
    assert user.family.preferred_language == "es"
    assert identify_hasher(user.password).algorithm == "argon2"
    email = OutboxEmail.objects.get(template="verify_email")
    assert email.to == "carmen@example.com" and email.language == "es"


def test_the_emailed_link_confirms_the_address_and_signs_in(district):
    client = Client()
    client.post(reverse("signup"), SIGNUP)
    response = client.get(link_in(OutboxEmail.objects.get()))
    assert response["Location"] == reverse("family_dashboard")
    user = User.objects.get()
    assert user.is_active and user.email_verified_at
    # A link works once.
    assert Client().get(link_in(OutboxEmail.objects.get())).status_code == 400


def test_an_unconfirmed_account_is_told_to_confirm_and_gets_a_new_link(district):
    Client().post(reverse("signup"), SIGNUP)
    OutboxEmail.objects.update(key="sent-a-while-ago")
    response = Client().post(reverse("login"), {"username": "carmen@example.com", "password": PASSWORD})
    assert "confirm your email address first" in response.text
    assert OutboxEmail.objects.filter(template="verify_email").count() == 2
    assert "_auth_user_id" not in Client().session


def test_repeated_logins_of_an_unconfirmed_account_do_not_flood_its_inbox(district):
    Client().post(reverse("signup"), SIGNUP)
    for _ in range(3):
        Client().post(reverse("login"), {"username": "carmen@example.com", "password": PASSWORD})
    assert OutboxEmail.objects.filter(template="verify_email").count() <= 2


def test_sign_up_refuses_a_weak_password(alice):
    data = {**SIGNUP, "email": "ALICE@example.com", "password1": "password1234", "password2": "password1234"}
    response = Client().post(reverse("signup"), data)
    assert "This password is too common." in response.text
    assert User.objects.count() == 1 and not OutboxEmail.objects.exists()


def test_sign_up_refuses_a_short_password(district):
    data = {**SIGNUP, "password1": "Xy7-short", "password2": "Xy7-short"}
    response = Client().post(reverse("signup"), data)
    assert "at least 12 characters" in response.text
    assert not User.objects.exists()


def test_login_is_by_email_in_any_case(alice):
    client = Client()
    client.post(reverse("login"), {"username": "ALICE@EXAMPLE.COM", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_login_sets_the_familys_language(alice):
    alice.family.preferred_language = "es"
    alice.family.save()
    client = Client()
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.cookies["django_language"].value == "es"
    assert '<html lang="es">' in client.get(reverse("family_dashboard")).text


def test_failed_logins_are_throttled_for_the_account_from_that_address(alice):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": alice.email, "password": "wrong-password-123"})
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address can still sign in to the same account: an attacker alone
    # cannot lock a family out.
    other = Client(REMOTE_ADDR="10.1.2.3")
    other.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert other.session["_auth_user_id"] == str(alice.pk)


def test_password_reset_goes_through_the_outbox_in_the_familys_language(alice):
    alice.family.preferred_language = "es"
    alice.family.save()
    Client().post(reverse("password_reset"), {"email": alice.email})
    email = OutboxEmail.objects.get(template="password_reset")
    assert email.to == alice.email and email.language == "es"
    client = Client()
    form_url = client.get(link_in(email))["Location"]
    client.post(form_url, {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"})
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")


def test_password_reset_does_not_reveal_unknown_addresses(district):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert not OutboxEmail.objects.exists()


def test_a_second_guardian_joins_the_same_family(alice, alice_client):
    alice_client.post(reverse("invite_guardian"), {"email": "Sam@Example.com"})
    invitation = GuardianInvitation.objects.get()
    email = OutboxEmail.objects.get(template="guardian_invitation")
    client = Client()
    response = client.post(
        link_in(email),
        {
            "first_name": "Sam",
            "last_name": "Parent",
            "phone": "",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response["Location"] == reverse("family_dashboard")
    sam = User.objects.get(email="sam@example.com")
    assert sam.family == alice.family and sam.is_active
    invitation.refresh_from_db()
    assert invitation.accepted_at
    assert Family.objects.count() == 1
    # The link is spent.
    assert Client().get(link_in(email)).status_code == 404


def test_a_forged_invitation_token_is_a_404(district):
    assert Client().get(reverse("accept_invitation", args=["forged"])).status_code == 404


def test_the_profile_saves_address_and_language(alice, alice_client):
    response = alice_client.post(
        reverse("family_profile"),
        {
            "family-street": "12 Oak Ave",
            "family-unit": "",
            "family-city": "Valle Verde",
            "family-state": "CA",
            "family-postal_code": "90999",
            "family-preferred_language": "es",
            "me-first_name": "Alice",
            "me-last_name": "Nguyen",
            "me-phone": "",
        },
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"
    alice.family.refresh_from_db()
    # The street in USPS form (applicants.addresses), as the Residence records it.
    assert (alice.family.street, alice.family.preferred_language) == ("12 OAK AVE", "es")
    assert alice.family.residences.get().line1 == "12 OAK AVE"


def test_the_profile_refuses_a_bad_zip(alice, alice_client):
    response = alice_client.post(
        reverse("family_profile"),
        {
            "family-street": "12 Oak Ave",
            "family-city": "Valle Verde",
            "family-state": "CA",
            "family-postal_code": "ABCDE",
            "family-preferred_language": "en",
            "me-first_name": "Alice",
            "me-last_name": "N",
        },
    )
    assert response.status_code == 200
    assert "Enter a 5-digit ZIP code." in response.text


def test_a_guardian_adds_and_edits_a_student(alice, alice_client):
    data = {
        "legal_first_name": "Luz",
        "legal_middle_name": "",
        "legal_last_name": "Garcia",
        "date_of_birth": "2015-02-03",
        "grade": "5",
        "current_school": "Mesa",
        "current_district": "Mesa USD",
        "special_education": "on",
    }
    assert alice_client.post(reverse("student_create"), data).status_code == 302
    student = Student.objects.get()
    assert student.family == alice.family and student.special_education and student.grade == 5
    alice_client.post(reverse("student_edit", args=[student.pk]), {**data, "grade": "6"})
    student.refresh_from_db()
    assert student.grade == 6


def test_a_student_needs_a_plausible_birth_date(alice_client):
    response = alice_client.post(
        reverse("student_create"),
        {
            "legal_first_name": "Luz",
            "legal_last_name": "Garcia",
            "date_of_birth": "2099-01-01",
            "grade": "5",
        },
    )
    assert "real date of birth" in response.text
    assert not Student.objects.exists()


@pytest.mark.parametrize("url", ["/family/", "/family/profile/", "/family/students/new/", "/family/permits/new/"])
def test_staff_without_a_family_get_a_404_on_family_pages(url, district):
    from ..conftest import staff

    technician = staff("tech@district.example", "technician")
    assert login(technician).get(url).status_code == 404


@pytest.mark.parametrize("url", ["/", "/policy/", "/accounts/login/", "/accounts/signup/", "/healthz"])
def test_public_pages_need_no_login(url, district):
    assert Client().get(url).status_code == 200


def test_a_deactivated_guardian_is_signed_out(alice, alice_client):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = alice_client.get(reverse("family_dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_health_check_reports_database_and_redis(district):
    assert Client().get("/healthz").json() == {"database": "ok", "redis": "ok"}


def test_the_policy_page_shows_the_configured_rules(district):
    district.appeal_steps_en = "Write to the Director within 10 days."
    district.save()
    text = Client().get("/policy/").text
    assert "Write to the Director within 10 days." in text
    assert "Employer letter with the physical work address" in text
    assert "within 30 calendar days of receipt" in text
    assert "14 calendar days after the first day of instruction" in text
    assert "grade 11 or 12" in text
