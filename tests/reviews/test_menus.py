"""The staff menu shows each role the pages it may open, and only after the second
factor; the portal's own error pages; the batch print page in words."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest
from django.template import loader
from django.test import Client
from django.urls import path, reverse
from django.utils import translation

from config.urls import urlpatterns as portal_urls
from enrollment import staff_views as enrollment_views
from reviews import access, views
from reviews.access import STAFF_MENU, menu_for, scope_of
from reviews.batches import describe
from reviews.forms import LetterFilterForm
from reviews.models import LetterBatch, StaffRole

from ..conftest import login
from ..factories import PASSWORD

# What each role's menu holds, by label.
MENUS = {
    "tina": ["Queue", "Addresses", "Open enrollment"],
    "diana": ["Queue", "Addresses", "Open enrollment", "Deadlines", "Reports", "Letters", "Disclosures"],
    "sam": ["Queue", "Periodic review"],
    "dan": ["Queue", "Open enrollment", "Deadlines", "Reports"],
}


class Links(HTMLParser):
    """The links of a page, or of its header (the main navigation) only, as (href, text)."""

    def __init__(self, navbar_only: bool):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.depth = 0 if navbar_only else 1
        self.href: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "header":
            self.depth += 1
        elif tag == "a" and self.depth:
            self.href, self.text = attrs["href"], ""

    def handle_endtag(self, tag):
        if tag == "header" and self.depth:
            self.depth -= 1
        elif tag == "a" and self.href is not None:
            self.links.append((self.href, " ".join(self.text.split())))
            self.href = None

    def handle_data(self, data):
        if self.href is not None:
            self.text += data


def links(response, navbar_only: bool = False) -> list[tuple[str, str]]:
    parser = Links(navbar_only)
    parser.feed(response.content.decode())
    return parser.links


def navbar_links(response) -> list[tuple[str, str]]:
    found = links(response, navbar_only=True)
    assert found, "no navigation on the page"
    return found


def staff_links(response) -> list[str]:
    return [text for href, text in navbar_links(response) if href.startswith("/staff/")]


# --- The menu ---------------------------------------------------------------------


@pytest.mark.parametrize("who", MENUS)
def test_every_link_of_a_roles_menu_opens(who, request):
    client = login(request.getfixturevalue(who))
    queue = client.get(reverse("staff_queue"))
    assert queue.status_code == 200
    assert staff_links(queue) == MENUS[who]
    for href, text in navbar_links(queue):
        assert client.get(href).status_code == 200, (who, text, href)


@pytest.mark.parametrize("who", MENUS)
def test_every_staff_page_left_out_of_a_roles_menu_is_refused(who, request):
    user = request.getfixturevalue(who)
    client = login(user)
    for entry in STAFF_MENU:
        if entry not in menu_for(scope_of(user)):
            assert client.get(reverse(entry.url_name)).status_code == 403, (who, entry.url_name)


def test_each_menu_page_requires_the_action_of_its_menu_entry(monkeypatch, diana, school_a):
    # One person with every role opens every page; the view names the action it needs.
    for role in ["technician", "site_admin", "district_admin"]:
        StaffRole.objects.create(user=diana, role=role).schools.set([school_a])
    required: list[str] = []

    def spy(user, action):
        required.append(action)
        return access.require(user, action)

    monkeypatch.setattr(views, "require", spy)
    # Open enrollment's desk sits above the staff desk and uses the same helper.
    monkeypatch.setattr(enrollment_views, "require", spy)
    client = login(diana)
    for entry in STAFF_MENU:
        assert entry.action is None or entry.action in access.ACTIONS, entry
        required.clear()
        assert client.get(reverse(entry.url_name)).status_code == 200, entry.url_name
        assert required == ([entry.action] if entry.action else []), entry.url_name


def test_the_menu_marks_the_page_it_is_on(diana):
    response = login(diana).get(reverse("staff_reports"))
    assert '<a class="nav-link" href="/staff/reports/" aria-current="page">' in response.text


def test_a_parent_sees_no_staff_menu(alice_client):
    assert staff_links(alice_client.get(reverse("family_dashboard"))) == []


# --- The second factor ----------------------------------------------------------------


def password_only(user) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session and "otp_device_id" not in client.session
    return client


def test_the_second_step_of_sign_in_shows_no_staff_link(diana):
    response = password_only(diana).get(reverse("two_factor_verify"))
    assert response.status_code == 200
    assert staff_links(response) == []
    assert 'href="/staff/' not in response.text
    assert "Sign out" in response.text


def test_setting_up_the_authenticator_shows_no_staff_link(diana):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=diana).delete()
    response = password_only(diana).get(reverse("two_factor_setup"))
    assert response.status_code == 200
    assert 'href="/staff/' not in response.text


def test_the_menu_appears_once_the_second_factor_is_given(diana):
    assert staff_links(login(diana).get(reverse("home"))) == MENUS["diana"]


# --- Error pages ------------------------------------------------------------------------


@login_not_required
def boom(request: HttpRequest):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *portal_urls]


def gettext_in(language: str, msgid: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


def visitor_in(language: str) -> Client:
    client = Client()
    client.cookies["django_language"] = language
    return client


def link_to(response, href: str, text: str) -> bool:
    return (href, text) in links(response)


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_unknown_address_is_the_portals_404_with_a_way_to_sign_in(language, district):
    response = visitor_in(language).get("/no-such-page/")
    assert response.status_code == 404
    assert f'<html lang="{language}">' in response.text
    assert f"<h1>{gettext_in(language, 'Page not found')}</h1>" in response.text
    assert link_to(response, reverse("login"), gettext_in(language, "Sign in"))
    assert link_to(response, reverse("home"), gettext_in(language, "Go to the home page"))
    assert district.name in response.text  # the portal's own header


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_staff_page_is_a_404_for_a_parent_with_the_way_back_to_the_familys_requests(language, alice):
    alice.family.preferred_language = language
    alice.family.save(update_fields=["preferred_language"])
    response = login(alice).get(reverse("staff_queue"))  # signing in sets the family's language
    assert response.status_code == 404
    assert f'<html lang="{language}">' in response.text
    assert link_to(response, reverse("family_dashboard"), gettext_in(language, "Go to my family's requests"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_forbidden_page_is_the_portals_403_with_the_way_back_to_the_queue(language, tina):
    client = login(tina)
    client.cookies["django_language"] = language
    response = client.get(reverse("staff_reports"))
    assert response.status_code == 403
    assert f'<html lang="{language}">' in response.text
    assert f"<h1>{gettext_in(language, 'Not allowed')}</h1>" in response.text
    back = gettext_in(language, "Back to the queue")
    assert language == "en" or back != "Back to the queue"
    assert link_to(response, reverse("staff_queue"), back)
    assert staff_links(response) == [gettext_in(language, label) for label in MENUS["tina"]]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_server_error_is_the_portals_500_page(language, district):
    client = visitor_in(language)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert f'<html lang="{language}">' in response.text
    assert f"<h1>{gettext_in(language, 'Something went wrong')}</h1>" in response.text
    assert link_to(response, "/", gettext_in(language, "Go to the home page"))


def test_the_500_page_needs_no_database_and_no_request():
    # No `db` fixture: a query here would fail the test.
    with translation.override("es"):
        html = loader.get_template("500.html").render()
    assert '<html lang="es">' in html


def test_a_malformed_request_is_the_portals_400_page(district):
    response = Client().get("/?%00=1")
    assert response.status_code == 400
    assert "<h1>The request could not be read</h1>" in response.text
    assert link_to(response, reverse("home"), "Go to the home page")


# --- The batch print page -----------------------------------------------------------------


@pytest.fixture
def denial_batch(diana):
    form = LetterFilterForm({"day": "2026-11-30", "kind": "denial", "school_year": ""})
    return LetterBatch.objects.create(requested_by=diana, description=form.describe(), total=3)


@pytest.mark.parametrize(
    "language, words",
    [
        ("en", "Denial letters of November 30, 2026"),
        ("es", "30 de noviembre de 2026"),
    ],
)
def test_the_batch_print_page_says_which_letters_in_words(language, words, diana, denial_batch):
    client = login(diana)
    client.cookies["django_language"] = language
    for url in [reverse("letter_batch", args=[denial_batch.pk]), reverse("letter_list")]:
        response = client.get(url)
        assert response.status_code == 200
        assert words in response.text, url
        assert "day=" not in response.text and "kind=" not in response.text, url


@translation.override("en")
def test_a_batch_description_reads_as_words():
    assert describe("all letters") == "All letters"
    assert describe("kind=revocation") == "Revocation letters"
    assert describe("day=2026-11-30") == "Letters of November 30, 2026"
    assert describe("day=2026-11-30, kind=denial, school_year=2027-28") == (
        "Denial letters of November 30, 2026, school year 2027-28"
    )
    # Anything else is shown as it was written.
    assert describe("letters of P-2027-0001") == "letters of P-2027-0001"
    assert describe("day=someday") == "day=someday"
    assert describe("kind=unknown") == "kind=unknown"


def test_a_malformed_request_is_answered_in_the_visitors_language(district):
    with translation.override("es"):  # what the worker thread served last
        english = Client().get("/?%00=1")
    visitor = Client()
    visitor.cookies["django_language"] = "es"
    spanish = visitor.get("/?%00=1")
    assert "<h1>The request could not be read</h1>" in english.text
    assert "<h1>No se pudo procesar lo que envió</h1>" in spanish.text
