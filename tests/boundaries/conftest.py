import pytest
from django.db import transaction

from boundaries.models import School
from demo.boundaries import import_demo_boundaries
from demo.management.commands.seed_demo import SCHOOLS

DEMO_YEAR = "2027-28"


@pytest.fixture(scope="module")
def demo_boundaries(django_db_setup, django_db_blocker):
    """seed_demo's schools and the demo boundary files, imported once for a test module.

    They live in a transaction rolled back after the module's last test, so no other
    module sees them; each test's own transaction (`db`) nests inside it as a savepoint.
    Returns the school year the data is in force from."""
    with django_db_blocker.unblock(), transaction.atomic():
        School.objects.bulk_create(
            School(name=name, code=code, lowest_grade=low, highest_grade=high) for name, code, low, high in SCHOOLS
        )
        import_demo_boundaries(effective_year=DEMO_YEAR, by_name="tests")
        yield DEMO_YEAR
        transaction.set_rollback(True)
