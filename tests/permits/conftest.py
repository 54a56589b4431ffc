"""Boundary data for the family's side of attendance boundaries, built with the models
the way an import leaves them (boundaries.lookup.BoundaryIndex.load reads them)."""

import pytest
import shapely
from django.utils import timezone

from applicants.addresses import standardize
from applicants.models import Family, Grade, Residence
from applicants.services import record_residence
from boundaries.models import AddressPoint, AttendanceArea, BoundaryImport, StreetRange

# A street range holds it: Lincoln (school A).
ON_OAK = {"street": "120 Oak Avenue", "city": "Valle Verde", "postal_code": "90999"}
# Not in any street range; its address point lies in Roosevelt's (school B) attendance area.
ON_PINE = {"street": "500 Pine Road", "city": "Valle Verde", "postal_code": "90999"}
# Two street ranges hold it and name different schools: staff decide.
ON_MAPLE = {"street": "60 Maple Street", "city": "Valle Verde", "postal_code": "90999"}
# Outside the district: no range, no address point.
FAR_AWAY = {"street": "9 Far Away Lane", "city": "Mesa Grande", "postal_code": "90901"}


def make_boundaries(school_a, school_b, year: str = "2027-28") -> None:
    """Street ranges, one attendance area (grades TK-12) and its address points, in
    force from `year`."""
    ranges = BoundaryImport.objects.create(
        kind=BoundaryImport.Kind.STREET_RANGES, effective_year=year, source_name="locator.csv", sha256="a" * 64
    )
    common = {"source": ranges, "grade_low": Grade.TK, "grade_high": Grade.G12, "side": StreetRange.Side.BOTH}
    oak, maple = {"street_name": "OAK", "street_type": "AVE"}, {"street_name": "MAPLE", "street_type": "ST"}
    StreetRange.objects.create(line=2, low=100, high=198, postal_code="90999", school=school_a, **oak, **common)
    StreetRange.objects.create(line=3, low=1, high=99, school=school_a, **maple, **common)
    StreetRange.objects.create(line=4, low=50, high=99, school=school_b, **maple, **common)
    areas = BoundaryImport.objects.create(
        kind=BoundaryImport.Kind.AREAS,
        effective_year=year,
        grade_low=Grade.TK,
        grade_high=Grade.G12,
        source_name="areas.geojson",
        sha256="b" * 64,
    )
    AttendanceArea.objects.create(
        source=areas, feature=1, school=school_b, geometry=shapely.box(-118.01, 33.99, -117.99, 34.01).wkb
    )
    points = BoundaryImport.objects.create(
        kind=BoundaryImport.Kind.ADDRESS_POINTS, effective_year=year, source_name="points.csv", sha256="c" * 64
    )
    AddressPoint.objects.create(source=points, line=2, address_key="500 PINE RD 90999", longitude=-118.0, latitude=34.0)


def live_at(family: Family, address: dict, *, since=None, by=None) -> Residence:
    """Record that the family lives at `address` (as the profile page does)."""
    standard = standardize(address["street"], address.get("unit", ""), address["city"], "CA", address["postal_code"])
    return record_residence(
        family=family,
        address=standard,
        entered=", ".join(address[part] for part in ("street", "unit", "city", "postal_code") if address.get(part)),
        since=since or timezone.localdate(),
        by=by,
    )


@pytest.fixture
def boundary_data(district, school_year, school_a, school_b):
    """Lincoln (school A) serves 100-198 Oak Ave; Roosevelt (school B) the area around
    500 Pine Rd; 60 Maple St lies in both (review); Far Away Lane in neither."""
    make_boundaries(school_a, school_b, school_year.name)
