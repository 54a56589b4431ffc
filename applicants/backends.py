from django.contrib.auth.backends import AllowAllUsersModelBackend

from .models import normalize_email


class EmailBackend(AllowAllUsersModelBackend):
    """Lets an unconfirmed or disabled account reach the login form's checks, so the
    form can say *why* it cannot sign in, while sessions still only ever belong to
    active accounts: a deactivated account is signed out everywhere at once."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def lockout_username(request, credentials) -> str | None:
    """What django-axes counts failed sign-ins against (AXES_USERNAME_CALLABLE): the
    normalised address, so changing its case or padding it with spaces does not buy a
    fresh budget of attempts."""
    if credentials:
        typed = credentials.get("username")
    else:
        typed = getattr(request, "POST", {}).get("username")
    return normalize_email(typed) if typed else None
