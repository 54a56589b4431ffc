from django.urls import re_path

from . import record_views as views

# Mounted at /enrollment/ (config/urls.py): public, for anyone who wants to check the drawing.
YEAR = r"(?P<year>[0-9]{4}-[0-9]{2})"

urlpatterns = [
    re_path(rf"^{YEAR}/lottery/$", views.lottery_record, name="enrollment_lottery_record"),
    re_path(
        rf"^{YEAR}/lottery/(?P<number>[0-9]+)/export\.jsonl$", views.export_download, name="enrollment_lottery_export"
    ),
    re_path(
        rf"^{YEAR}/lottery/(?P<number>[0-9]+)/result\.jsonl$", views.result_download, name="enrollment_lottery_result"
    ),
]
