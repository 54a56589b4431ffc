"""System checks of the district's configuration against the settings."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from .models import District


# A database check: `migrate` runs it at every deployment, as does `check --database default`.
@register(Tags.database)
def district_time_zone(app_configs, databases=None, **kwargs) -> list[Error]:
    """Every date the portal computes is a day in settings.TIME_ZONE (permits.clock):
    a district row that names another zone would make its deadlines wrong by a day."""
    errors = []
    for alias in databases or ():
        try:
            district = District.objects.using(alias).filter(pk=1).only("time_zone").first()
        except DatabaseError:
            continue  # no table yet (before the first migrate)
        if district is not None and district.time_zone != settings.TIME_ZONE:
            errors.append(_mismatch(district))
    return errors


def _mismatch(district: District) -> Error:
    return Error(
        f"The district's time zone is {district.time_zone} but TIME_ZONE is {settings.TIME_ZONE}.",
        hint="Set the district's time zone in /admin/ and TIME_ZONE (with CELERY_TIMEZONE) to the same zone.",
        obj=district,
        id="permits.E001",
    )
