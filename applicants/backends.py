from django.contrib.auth.backends import AllowAllUsersModelBackend


class EmailBackend(AllowAllUsersModelBackend):
    """Lets an unconfirmed or disabled account reach the login form's checks, so the
    form can say *why* it cannot sign in, while sessions still only ever belong to
    active accounts: a deactivated account is signed out everywhere at once."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
