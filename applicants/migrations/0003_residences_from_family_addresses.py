# Families who entered an address before residences were recorded: their address becomes
# their first Residence, in USPS form where it parses (kept as typed otherwise).

from django.db import migrations


def record_first_residences(apps, schema_editor):
    from applicants.addresses import NotAResidence, standardize

    Family = apps.get_model("applicants", "Family")
    Residence = apps.get_model("applicants", "Residence")
    for family in Family.objects.filter(residences__isnull=True).exclude(street="").iterator():
        entered = ", ".join(
            p for p in (family.street, family.unit, family.city, f"{family.state} {family.postal_code}") if p.strip()
        )
        try:
            address = standardize(family.street, family.unit, family.city, family.state, family.postal_code)
            standardized = address.standardized
            parts = (address.line1, address.line2, address.city, address.state, address.postal_code)
        except NotAResidence:
            # Kept as typed; the lookup sends it to review and the family is asked to correct it.
            standardized = False
            parts = (family.street, family.unit, family.city, family.state, family.postal_code)
        line1, line2, city, state, postal_code = parts
        Residence.objects.create(
            family=family,
            entered=entered,
            line1=line1,
            line2=line2,
            city=city,
            state=state,
            postal_code=postal_code,
            standardized=standardized,
            since=family.created_at.date(),
        )


class Migration(migrations.Migration):
    dependencies = [("applicants", "0002_residence")]

    operations = [migrations.RunPython(record_first_residences, migrations.RunPython.noop)]
