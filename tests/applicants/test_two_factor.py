import re
import time

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applicants.models import User
from reviews.models import StaffRole

from ..conftest import login, recovery_code
from ..factories import PASSWORD


def password_only(user) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    return client


def new_technician() -> User:
    user = User.objects.create_user(email="newtech@district.example", password=PASSWORD, is_staff=True)
    StaffRole.objects.create(user=user, role="technician")
    return user


def test_a_new_staff_member_sets_up_an_authenticator_and_gets_recovery_codes(district):
    user = new_technician()
    client = password_only(user)
    assert client.get(reverse("staff_queue"))["Location"].startswith(reverse("two_factor_verify"))
    assert client.get(reverse("two_factor_verify"))["Location"] == reverse("two_factor_setup")
    page = client.get(reverse("two_factor_setup"))
    assert 'src="data:image/svg+xml' in page.text
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert "This code is not valid" in wrong.text
    time.sleep(1.1)  # a wrong code throttles the device for a second (django-otp)
    done = client.post(reverse("two_factor_setup"), {"code": f"{totp(device.bin_key):06d}"})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", done.text)
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("staff_queue")).status_code == 200


def test_a_staff_member_needs_the_code_after_the_password(tina):
    client = password_only(tina)
    response = client.get(reverse("staff_queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))
    assert "This code is not valid" in client.post(reverse("two_factor_verify"), {"code": "123456"}).text
    device = TOTPDevice.objects.get(user=tina)
    # Right after a wrong code, even the right one is refused: guessing is throttled.
    assert (
        "This code is not valid"
        in client.post(reverse("two_factor_verify"), {"code": f"{totp(device.bin_key):06d}"}).text
    )
    time.sleep(1.1)
    response = client.post(
        f"{reverse('two_factor_verify')}?next=/staff/reports/", {"code": f"{totp(device.bin_key):06d}"}
    )
    assert response["Location"] == "/staff/reports/"
    assert client.get(reverse("staff_queue")).status_code == 200


def test_a_recovery_code_works_once(tina):
    code = recovery_code(tina)
    first = password_only(tina)
    first.post(reverse("two_factor_verify"), {"code": code})
    assert first.get(reverse("staff_queue")).status_code == 200
    second = password_only(tina)
    assert "This code is not valid" in second.post(reverse("two_factor_verify"), {"code": code}).text


def test_the_next_parameter_cannot_leave_the_site(tina):
    client = password_only(tina)
    response = client.post(f"{reverse('two_factor_verify')}?next=https://evil.example/", {"code": recovery_code(tina)})
    assert response["Location"] == reverse("staff_queue")


def test_parents_sign_in_with_their_password_only(alice):
    assert password_only(alice).get(reverse("family_dashboard")).status_code == 200
    assert password_only(alice).get(reverse("two_factor_verify")).status_code == 404


def _age_session(client, **fields):
    session = client.session
    session.update(fields)
    session.save()


def test_a_staff_session_ends_after_30_minutes_idle(tina):
    client = login(tina)
    _age_session(client, staff_seen=int(time.time()) - 29 * 60)
    assert client.get(reverse("staff_queue")).status_code == 200
    _age_session(client, staff_seen=int(time.time()) - 31 * 60)
    response = client.get(reverse("staff_queue"))
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_after_12_hours_in_all(tina):
    client = login(tina)
    _age_session(client, staff_started=int(time.time()) - 12 * 3600 - 60)
    assert client.get(reverse("staff_queue"))["Location"].startswith(reverse("login"))


def test_a_parents_session_is_not_cut_after_30_minutes(alice):
    client = login(alice)
    _age_session(client, staff_seen=int(time.time()) - 3600)
    assert client.get(reverse("family_dashboard")).status_code == 200


def test_deactivating_a_staff_member_ends_every_session(tina):
    clients = [login(tina), login(tina)]
    User.objects.filter(pk=tina.pk).update(is_active=False)
    for client in clients:
        assert client.get(reverse("staff_queue"))["Location"].startswith(reverse("login"))
