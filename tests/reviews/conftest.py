import pytest

from permits import services as permit_services
from permits.models import Document, SeatAllocation


@pytest.fixture
def seats_b(school_b, school_year):
    """Five permit seats in grade 4 at school B for the year."""
    return SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)


@pytest.fixture
def submitted_in(draft_in, alice):
    return permit_services.submit_permit(permit_id=draft_in.pk, by=alice)


@pytest.fixture
def verified_in(submitted_in, seats_b):
    """A submitted inter_in packet with every document verified and a seat free."""
    Document.objects.filter(permit=submitted_in).update(review=Document.Review.VERIFIED)
    submitted_in.refresh_from_db()
    return submitted_in
