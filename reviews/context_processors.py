from django.http import Http404
from django.utils.functional import SimpleLazyObject

from applicants.two_factor import needs_second_factor

from .access import MenuEntry, menu_for, scope_of


def staff_menu(request) -> dict:
    """The staff menu of base.html: only the pages the user's roles may open, and none
    before the second factor (the sign-in's second step shows no staff link). Lazy: a
    page that shows no menu costs no query."""

    def entries() -> list[MenuEntry]:
        # A 400 for a malformed request is rendered before the authentication middleware.
        user = getattr(request, "user", None)
        if user is None or not needs_second_factor(user):
            return []
        verified = getattr(user, "is_verified", None)  # set by django_otp's middleware
        if verified is None or not verified():
            return []
        try:
            return menu_for(scope_of(user))
        except Http404:  # staff without a role: no staff page opens for them
            return []

    return {"staff_menu": SimpleLazyObject(entries)}
