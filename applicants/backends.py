from django.contrib.auth.backends import AllowAllUsersModelBackend, ModelBackend


class EmailBackend(AllowAllUsersModelBackend):
    """Lets an unconfirmed or disabled account reach the login form's checks, so the
    form can say *why* it cannot sign in, while sessions still only ever belong to
    active accounts: a deactivated account is signed out everywhere at once."""

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)
