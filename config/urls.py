from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from .health import healthz

admin.site.site_header = "Permit portal administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("applicants.urls")),
    path("", include("permits.urls")),
    path("", include("reviews.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("enrollment/", include("enrollment.record_urls")),
    path("staff/enrollment/", include("enrollment.staff_urls")),
]
