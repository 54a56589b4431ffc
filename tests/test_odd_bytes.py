"""Odd bytes in a request: NUL and the other control characters, anywhere a visitor can
put them, are a 4xx answer, never a server error. PostgreSQL refuses NUL in a string, so
one reaching a query was a 500 (`/verify/%00/`)."""

from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils.regex_helper import normalize

from permits.models import unambiguous_code
from permits.views import VERIFICATION_CODE

from .conftest import login

MIDDLEWARE = "config.security.ControlCharactersMiddleware"

# Path parameters, percent-encoded as a client sends them.
ODD_VALUES = [
    "%00",
    "AB%00CD",
    "ABCDE%00GHJK",  # a verification code's length, with a NUL in it
    "%01%1F%7F",
    "%0D%0ASet-Cookie:%20a=b",
    "%09",
    "%C0%80",  # an overlong NUL: not UTF-8, so Django keeps it percent-encoded
]
# Query strings of a page reached with good parameters: NUL in keys and values, under
# the names the portal's filters, pages and redirects read.
ODD_QUERIES = [
    "q=%00",
    "%00=1&next=%00",
    "q=AB%00CD&page=%00&after=%01&status=%0D%0A&school=%1B&next=/%00/&language=%7F",
]


def every_route(patterns=None, prefix="", converters=None):
    """(URL with %(name)s placeholders, parameter names, converters) of every pattern,
    the admin's and the unnamed ones included."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
        found = {**(converters or {}), **entry.pattern.converters}
        if isinstance(entry, URLResolver):
            yield from every_route(entry.url_patterns, regex, found)
        else:
            for template, params in normalize(regex):
                yield "/" + template, params, found


def plain_value(template, param, converters, objects) -> str:
    """A well-formed value: the id of a real object for an id, else a likely code."""
    if isinstance(converters.get(param), IntConverter):
        kind = next((kind for kind in ("document", "student") if f"/{kind}s/" in template), "permit")
        return str(objects[kind])
    return "ABCDEFGHJK"


def odd_urls(objects) -> list[str]:
    urls = []
    for template, params, converters in every_route():
        plain = {param: plain_value(template, param, converters, objects) for param in params}
        for param in params:
            if not isinstance(converters.get(param), IntConverter):
                urls += [template % {**plain, param: value} for value in ODD_VALUES]
        urls += [f"{template % plain}?{query}" for query in ODD_QUERIES]
    return urls


@pytest.fixture
def visitors(submitted_in, alice, diana):
    """Anonymous, a director and a parent, each from an address of its own (the
    verification page's rate limit is per address). The director comes before the
    parent, whose forms include withdrawing the packet."""
    clients = {"anonymous": Client(), "director": login(diana), "parent": login(alice)}
    for number, client in enumerate(clients.values(), start=1):
        client.defaults["REMOTE_ADDR"] = f"192.0.2.{number}"
        # A 500 is an answer to count here, not an exception to stop at.
        client.raise_request_exception = False
    return clients


@pytest.fixture
def objects(submitted_in):
    return {
        "permit": submitted_in.pk,
        "document": submitted_in.documents.first().pk,
        "student": submitted_in.student_id,
    }


def server_errors(clients, urls, method="get"):
    return [
        (who, url, response.status_code)
        for who, client in clients.items()
        for url in urls
        if (response := getattr(client, method)(url)).status_code >= 500
    ]


def test_no_url_of_the_portal_answers_a_server_error_to_odd_bytes(visitors, objects):
    """Every route (the portal's, the admin's, the unnamed ones), every parameter, as
    anonymous, a director and a parent."""
    urls = odd_urls(objects)
    assert len(urls) > 1000
    assert server_errors(visitors, urls) == []
    assert server_errors(visitors, [url for url in urls if "?" not in url], method="post") == []


def test_a_control_character_in_the_path_query_string_or_a_header_is_a_400(district, alice_client):
    urls = ["/verify/%00/", "/verify/AB%01CD/", "/policy/%09/", "/staff/?q=%00", "/?%00=1", "/?next=%7F"]
    for url in urls:
        assert Client().get(url).status_code == 400, url
        assert alice_client.post(url).status_code == 400, url
    # axes records the User-Agent of a failed sign-in: a NUL there was a 500.
    response = Client().post(
        reverse("login"), {"username": "alice@example.com", "password": "x"}, HTTP_USER_AGENT="a\x00b"
    )
    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()


def test_a_tab_in_a_search_is_not_refused(district, diana):
    # Pasted from a spreadsheet, a name often carries a tab: harmless, and not an attack.
    assert login(diana).get("/staff/?q=Garcia%09Sofia").status_code == 200


def test_a_cookie_with_a_nul_is_as_if_it_were_not_sent(district):
    # A quoted cookie spells NUL as \000 (and a neighbouring site may set one): the
    # session lookup in PostgreSQL was a 500 on every page, for good.
    tossed = 'sessionid="' + "\\000" * 10 + '"'
    response = Client().get(reverse("family_dashboard"), HTTP_COOKIE=tossed)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Client().get(reverse("home"), HTTP_COOKIE=tossed).status_code == 200


def test_every_verification_code_the_portal_issues_is_well_formed():
    assert all(VERIFICATION_CODE.fullmatch(unambiguous_code(10)) for _ in range(500))


def test_a_malformed_verification_code_is_unknown_without_a_query(district, settings):
    # The view on its own, without the central defence in front of it.
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]
    client = Client(REMOTE_ADDR="192.0.2.9")
    for code in ["%00", "AB%00CD", "ABCDE%00GHJK", "abc", "ABCDEFGHJKLMN", "ABCDEFGHI0", "%C0%80"]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/verify/{code}/")
        assert response.status_code == 404 and "Unknown" in response.text, code
        assert not [q for q in queries.captured_queries if "permits_letter" in q["sql"]], code
    # Well-formed: looked up (and unknown), in either case and with spaces around it.
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/verify/%20abcdefghjk%20/")
    assert response.status_code == 404
    assert [q for q in queries.captured_queries if "permits_letter" in q["sql"]]


def test_signing_in_with_nul_in_the_name_or_password_is_a_form_error(alice):
    client = Client(raise_request_exception=False)
    for username, password in [("\x00", "x"), ("alice@example.com\x00", "x"), ("alice@example.com", "pw\x00")]:
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 200, (username, password)
        assert "_auth_user_id" not in client.session


def test_nul_in_the_fields_of_the_public_forms_is_a_form_error(district):
    client = Client(raise_request_exception=False)
    odd = "A\x00B"
    signup = {"email": f"x{odd}@example.com", "first_name": odd, "last_name": odd, "password1": odd, "password2": odd}
    assert client.post(reverse("signup"), signup).status_code == 200
    assert client.post(reverse("password_reset"), {"email": f"{odd}@example.com"}).status_code == 200


class Forms(HTMLParser):
    """The forms of a page: action, method and the names of their fields."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", (attrs.get("method") or "get").lower(), set()))
        elif tag in ("input", "select", "textarea") and self.forms and attrs.get("name"):
            if attrs.get("type") != "file" and attrs["name"] != "csrfmiddlewaretoken":
                self.forms[-1][2].add(attrs["name"])


def test_every_form_the_portal_shows_survives_nul_in_every_field(visitors, objects):
    """Each page reached with good parameters; each of its forms sent back with NUL in
    every field. A GET form's query string meets the central check (a 400); a body does
    not, and the forms refuse NUL themselves (ProhibitNullCharactersValidator)."""
    pages = {
        template % {p: plain_value(template, p, c, objects) for p in params} for template, params, c in every_route()
    }
    errors, sent = [], 0
    for who, client in visitors.items():
        forms = set()
        for page in sorted(pages):
            if page.startswith(("/admin/", "/accounts/logout/")):
                continue
            response = client.get(page)
            if response.status_code >= 500:
                errors.append((who, "GET", page, response.status_code))
            elif response.status_code == 200 and "html" in response.get("Content-Type", ""):
                parser = Forms()
                parser.feed(response.content.decode(errors="replace"))
                forms |= {(action or page, method, frozenset(fields)) for action, method, fields in parser.forms}
        for action, method, fields in sorted(forms):
            if action.startswith("/accounts/logout/"):
                continue
            response = getattr(client, method)(action, dict.fromkeys(fields, "A\x00B"))
            sent += 1
            if response.status_code >= 500:
                errors.append((who, method, action, sorted(fields), response.status_code))
    assert errors == []
    assert sent > 30  # the sign-in, sign-up, family, review and queue forms among them
