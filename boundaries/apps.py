from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoundariesConfig(AppConfig):
    name = "boundaries"
    verbose_name = _("Schools and attendance boundaries")

    def ready(self):
        from celery.signals import task_prerun
        from django.core.signals import request_started
        from django.db.models.signals import post_delete, post_save

        from .lookup import forget_imports_in_force
        from .models import BoundaryImport

        uid = "boundaries.forget_imports_in_force"
        request_started.connect(forget_imports_in_force, dispatch_uid=uid, weak=False)
        task_prerun.connect(forget_imports_in_force, dispatch_uid=uid, weak=False)
        post_save.connect(forget_imports_in_force, sender=BoundaryImport, dispatch_uid=uid, weak=False)
        post_delete.connect(forget_imports_in_force, sender=BoundaryImport, dispatch_uid=uid, weak=False)
