from django.urls import path

from . import staff_views as views

# Mounted at /staff/enrollment/ (config/urls.py).
urlpatterns = [
    path("", views.overview, name="staff_enrollment"),
    path("cycles/<int:pk>/commitment/", views.commit, name="staff_enrollment_commit"),
    path("cycles/<int:pk>/freeze/", views.freeze, name="staff_enrollment_freeze"),
    path("rounds/<int:pk>/frozen/", views.freeze_record, name="staff_enrollment_freeze_record"),
    path("rounds/<int:pk>/simulate/", views.simulate, name="staff_enrollment_simulate"),
    path("rounds/<int:pk>/run/", views.run, name="staff_enrollment_run"),
    path("rounds/<int:pk>/publish/", views.publish, name="staff_enrollment_publish"),
    path("claims/", views.claims, name="staff_enrollment_claims"),
    path("claims/<int:pk>/decide/", views.decide_claim, name="staff_enrollment_decide_claim"),
    path("reports/", views.report, name="staff_enrollment_reports"),
]
