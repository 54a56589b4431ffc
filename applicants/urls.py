from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

public = login_not_required

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/<str:uidb64>/<str:token>/", views.verify_email, name="verify_email"),
    path("accounts/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("accounts/password/reset/", public(views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        public(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        public(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("accounts/2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("family/profile/", views.family_profile, name="family_profile"),
    path("family/guardians/invite/", views.invite_guardian, name="invite_guardian"),
    path("family/students/new/", views.student_create, name="student_create"),
    path("family/students/<int:pk>/", views.student_edit, name="student_edit"),
]
