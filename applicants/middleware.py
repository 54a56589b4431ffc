"""Staff sessions: a second factor before any staff page, and time limits."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .two_factor import needs_second_factor

# The last request is recorded at most once a minute: writing the session row on every
# staff request was the busiest write of the load test, and the idle limit (30 minutes)
# needs no finer clock than that.
SEEN_EVERY_SECONDS = 60
# Pages a staff member may reach before the second factor.
OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/i18n/", "/healthz")


class StaffSessionMiddleware:
    """Ends a staff session after STAFF_IDLE_SECONDS without a request or
    STAFF_SESSION_SECONDS in all, and holds every staff page until the second factor
    is given. Runs after django_otp's OTPMiddleware (request.user.is_verified)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if needs_second_factor(user):
            now = int(time.time())
            started = request.session.setdefault("staff_started", now)
            seen = request.session.get("staff_seen", now)
            if now - seen > settings.STAFF_IDLE_SECONDS or now - started > settings.STAFF_SESSION_SECONDS:
                logout(request)
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect(f"{reverse('login')}?next={request.path}")
            if "staff_seen" not in request.session or now - seen >= SEEN_EVERY_SECONDS:
                request.session["staff_seen"] = now
            if not user.is_verified() and not request.path.startswith(OPEN_PREFIXES):
                return redirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
        return self.get_response(request)
