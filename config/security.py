"""What Django 5.2 does not do by itself: response headers, refusing control characters
in an address, and error reports without credentials."""

import logging
import re

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.urls import get_resolver
from django.utils import translation
from django.views.debug import SafeExceptionReporterFilter


def content_security_policy() -> str:
    # Scripts only from our own static files: no inline script, no eval, no CDN.
    files = f" {settings.PORTAL_FILES_ORIGIN}" if settings.PORTAL_FILES_ORIGIN else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data:{files}",
            "font-src 'self'",
            "connect-src 'self'",
            f"frame-src 'self'{files}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        # A view that serves a file sets its own, stricter policy.
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not settings.DEBUG:
            response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


# C0 control characters and DEL. PostgreSQL refuses NUL in a string, so a NUL reaching a
# query was a server error; the others have no place in a request and serve only to
# forge log lines. A tab is let through outside the path: a name pasted from a
# spreadsheet into a search box carries one, HTTP allows it in a header, and it is
# harmless (the database accepts it and the forms strip it).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTERS_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
security_log = logging.getLogger("django.security.ControlCharacters")


class ControlCharactersMiddleware:
    """A 400 for a request with a control character in its decoded path, a key or value
    of its query string, or a header: one check in front of every view, the admin's and
    the libraries' included (axes stores the User-Agent of a failed sign-in). Request
    bodies need none: every form CharField refuses NUL (ProhibitNullCharactersValidator).
    A cookie with one is dropped instead, as if the browser had not sent it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        texts = [text for key, values in request.GET.lists() for text in (key, *values)]
        texts += [value for name, value in request.META.items() if name.startswith("HTTP_") and name != "HTTP_COOKIE"]
        if CONTROL_CHARACTERS.search(request.path) or any(
            isinstance(text, str) and CONTROL_CHARACTERS_BUT_TAB.search(text) for text in texts
        ):
            # Not the request itself: it is what should stay out of the log.
            security_log.warning("Refused a request with a control character in its address or headers")
            exception = SuspiciousOperation("control character in the request")
            # Refused before LocaleMiddleware ran: answer in the visitor's language, not
            # in whichever one this worker thread served last.
            with translation.override(translation.get_language_from_request(request)):
                return get_resolver().resolve_error_handler(400)(request, exception)
        # A quoted cookie may spell a NUL as \000, and a neighbouring site can set one:
        # a 400 would shut that browser out until its cookies are cleared.
        for name, value in list(request.COOKIES.items()):
            if CONTROL_CHARACTERS_BUT_TAB.search(name + value):
                del request.COOKIES[name]
        return self.get_response(request)


# The variables of deploy/env.example that hold a secret (tests/test_security.py keeps
# the two in step). Hidden by name on error pages and in error emails, like any name
# Django finds sensitive (KEY, SECRET, PASS, TOKEN...).
SECRET_VARIABLES = frozenset({"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})

# The user information of a URL (scheme://user:password@host) as the URL parsers that
# read these settings see it: everything up to the last @ before the first /, ? or #.
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s/?#'\"<>]*)@", re.IGNORECASE)


def hide_url_credentials(text: str) -> str:
    """Every URL in the text with its password hidden; the user name and host stay, they
    are what one debugs (a user name alone, as some services take a token, is hidden)."""

    def hide(match: re.Match) -> str:
        user, colon, _password = match["userinfo"].partition(":")
        shown = f"{user}:" if colon else ""
        return f"{match['scheme']}{shown}{SafeExceptionReporterFilter.cleansed_substitute}@"

    return URL_CREDENTIALS.sub(hide, text)


class SecretsFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER: the debug page of `make run` and the error
    reports of production show no credentials. Besides Django's own rules, it hides
    SECRET_VARIABLES and the password of every URL (DATABASE_URL, REDIS_URL, EMAIL_URL,
    CELERY_BROKER_URL, CACHES' LOCATION...) in settings, request.META (which holds the
    whole environment under runserver), cookies and the variables of the traceback."""

    hidden_settings = re.compile(
        "|".join([SafeExceptionReporterFilter.hidden_settings.pattern, *(f"^{name}$" for name in SECRET_VARIABLES)]),
        flags=re.IGNORECASE,
    )

    def is_active(self, request):
        # Also with DEBUG on: a developer's own passwords are real passwords too, and
        # the views that mark a password sensitive (sign-in) keep it hidden there.
        return True

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return hide_url_credentials(cleansed) if isinstance(cleansed, str) else cleansed

    def cleanse_special_types(self, request, value):
        value = super().cleanse_special_types(request, value)
        # A local variable holding a URL, or a dict or list of them (exact types only:
        # a QueryDict keeps its own display).
        if type(value) in (str, dict, list, tuple):
            return self.cleanse_setting("", value)
        return value
