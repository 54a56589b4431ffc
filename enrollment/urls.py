from django.urls import path

from . import views

# Mounted at /enrollment/ (config/urls.py).
urlpatterns = [
    path("", views.cycle_detail, name="enrollment_cycle"),
    path("sessions/<int:pk>/signup/", views.session_signup, name="enrollment_session_signup"),
    path("students/<int:student_pk>/apply/", views.application_edit, name="enrollment_apply"),
    path("applications/<int:pk>/", views.application_detail, name="enrollment_application"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="enrollment_application_withdraw"),
    path("offers/<int:pk>/accept/", views.offer_accept, name="enrollment_offer_accept"),
    path("offers/<int:pk>/decline/", views.offer_decline, name="enrollment_offer_decline"),
]
