from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    name = "permits"
    verbose_name = _("Permits")

    def ready(self):
        from celery.signals import task_prerun
        from django.core.signals import request_started

        from . import checks  # noqa: F401  (registers the system checks)
        from .models import District

        def forget_district(**kwargs) -> None:
            District.forget_current()

        # District.current() reads the row once per request and once per task.
        request_started.connect(forget_district, dispatch_uid="permits.forget_district", weak=False)
        task_prerun.connect(forget_district, dispatch_uid="permits.forget_district", weak=False)
