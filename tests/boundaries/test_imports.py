"""Boundary imports: a good file is a new version the lookup answers from; a bad file is
refused whole, with every problem and where it is, and the version in force stays."""

import io
import json
import zipfile

import numpy as np
import pyproj
import pytest
import shapefile
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from shapely.geometry.polygon import orient

from applicants.addresses import standardize
from applicants.models import Grade
from boundaries.imports import ImportRefused, import_address_points, import_areas, import_street_ranges
from boundaries.lookup import find_school
from boundaries.models import AddressPoint, AttendanceArea, BoundaryImport, StreetRange

from ..conftest import login, staff
from ..factories import SchoolFactory

YEAR = "2027-28"
K5 = {"grade_low": Grade.K, "grade_high": Grade.G5}

HEADER = "street_name,pre_direction,street_type,post_direction,low,high,side,zip,K-5,6-8,9-12"
STREETS = f"""{HEADER}
Main,North,Street,,100,198,both,90999,LIN,ADA,HHS
Main,North,Street,,200,298,even,90999,ROO,ADA,HHS
Main,North,Street,,201,299,odd,90999,LIN,ADA,
"""

# Lincoln's area and Roosevelt's, side by side; Oak Ave is in the first, Elm St in the second.
LINCOLN = shapely.box(-118.30, 34.00, -118.20, 34.10)
ROOSEVELT = shapely.box(-118.20, 34.00, -118.10, 34.10)
POINTS = """address,zip,longitude,latitude
500 Oak Ave,90999,-118.25,34.05
700 Elm Street,90999,-118.15,34.05
"""

# What the lookup answers for an address and grade: the school's code and the rule.
PROBES = [
    ("150 N Main St", Grade.G3),
    ("220 North Main Street", Grade.G4),
    ("221 N Main St", Grade.K),
    ("221 N Main St", Grade.G7),
    ("150 N Main St", Grade.G10),
    ("500 Oak Avenue", Grade.G3),
    ("700 Elm St", Grade.G5),
]


@pytest.fixture
def schools(db):
    return {
        "LIN": SchoolFactory(name="Lincoln Elementary", code="LIN", lowest_grade=Grade.TK, highest_grade=Grade.G5),
        "ROO": SchoolFactory(name="Roosevelt Elementary", code="ROO", lowest_grade=Grade.K, highest_grade=Grade.G5),
        "ADA": SchoolFactory(name="Adams Middle", code="ADA", lowest_grade=Grade.G6, highest_grade=Grade.G8),
        "HHS": SchoolFactory(name="Hill High", code="HHS", lowest_grade=Grade.G9, highest_grade=Grade.G12),
    }


def answer(street: str, grade: int, zip5: str = "90999") -> tuple[str | None, str]:
    finding = find_school(standardize(street, "", "Valle Verde", "CA", zip5), grade, YEAR)
    return (finding.school.code if finding.school else None), finding.rule


def answers() -> list[tuple[str | None, str]]:
    return [answer(street, grade) for street, grade in PROBES]


def geojson(*features, crs: str | None = None) -> bytes:
    """A FeatureCollection of (school code, geometry) pairs; a geometry may be a GeoJSON dict."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"school_code": code} if code is not None else {"name": "no code"},
                "geometry": geometry if isinstance(geometry, dict | None) else json.loads(shapely.to_geojson(geometry)),
            }
            for code, geometry in features
        ],
    }
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(collection).encode()


def shapefile_zip(*features, prj: str | None = "", field: str = "SCHOOL", shape_type=shapefile.POLYGON) -> bytes:
    """A zipped shapefile of (school code, shapely polygon) pairs; `prj` "" means WGS 84."""
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shape_type) as writer:
        writer.field(field, "C", 10)
        for code, geometry in features:
            if shape_type == shapefile.POINT:
                writer.point(geometry.x, geometry.y)
            else:
                # Shapefile outer rings run clockwise.
                writer.poly([list(orient(geometry, sign=-1.0).exterior.coords)])
            writer.record(code)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("areas.shp", shp.getvalue())
        archive.writestr("areas.shx", shx.getvalue())
        archive.writestr("areas.dbf", dbf.getvalue())
        if prj is not None:
            archive.writestr("areas.prj", prj or pyproj.CRS("EPSG:4326").to_wkt(version="WKT1_ESRI"))
    return out.getvalue()


def in_feet(geometry: shapely.Geometry) -> shapely.Geometry:
    """The geometry in California State Plane zone 5 (US feet), EPSG:2229."""
    to_feet = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2229", always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(to_feet.transform(xy[:, 0], xy[:, 1])))


def wheres(refused: pytest.ExceptionInfo) -> list[str]:
    return [problem.where for problem in refused.value.problems]


def whys(refused: pytest.ExceptionInfo) -> str:
    return "\n".join(problem.why for problem in refused.value.problems)


@pytest.fixture
def in_force(schools):
    """A good version of each kind (K-5 areas only), and what the lookup answers from them."""
    import_street_ranges(STREETS.encode(), name="streets.csv", effective_year=YEAR)
    import_address_points(POINTS.encode(), name="points.csv", effective_year=YEAR)
    import_areas(geojson(("LIN", LINCOLN), ("ROO", ROOSEVELT)), name="k5.geojson", effective_year=YEAR, **K5)
    before = answers()
    assert [code for code, _rule in before] == ["LIN", "ROO", "LIN", "ADA", "HHS", "LIN", "ROO"]
    return before


def assert_unchanged(in_force: list) -> None:
    assert answers() == in_force
    assert BoundaryImport.objects.count() == 3


# --- Street ranges ---------------------------------------------------------------


def test_street_ranges_round_trip_through_the_lookup(schools):
    source = import_street_ranges(("\ufeff" + STREETS).encode(), name="streets.csv", effective_year=YEAR, by_name="x")
    assert (source.kind, source.row_count, source.street_ranges.count()) == ("street_ranges", 3, 8)
    assert source.imported_by_name == "x" and len(source.sha256) == 64
    code, rule = answer("150 N Main St", Grade.G3)
    assert code == "LIN"
    assert rule == "Street range: 100–198, both sides, grades K-5 (line 2 of streets.csv, in force from 2027-28)."
    assert answer("220 N Main St", Grade.G4)[0] == "ROO"
    # An empty cell is no school for that span: the address needs review.
    assert answer("221 N Main St", Grade.G10)[0] is None
    ranges = StreetRange.objects.filter(source=source, line=2).values_list(
        "pre_direction", "street_name", "street_type", "postal_code", "side"
    )
    assert set(ranges) == {("N", "MAIN", "ST", "90999", "both")}


def test_a_new_version_takes_over_and_the_old_one_stays_on_record(schools):
    import_street_ranges(STREETS.encode(), name="old.csv", effective_year="2026-27")
    moved = STREETS.replace("100,198,both,90999,LIN", "100,198,both,90999,ROO")
    import_street_ranges(moved.encode(), name="new.csv", effective_year=YEAR)
    assert answer("150 N Main St", Grade.G3)[0] == "ROO"
    assert (
        find_school(standardize("150 N Main St", "", "Valle Verde", "CA", "90999"), 3, "2026-27").school.code == "LIN"
    )
    assert BoundaryImport.objects.count() == 2


def test_odd_and_even_sides_and_touching_blocks_are_not_overlaps(schools):
    data = f"""{HEADER}
Oak,,Ave,,100,198,even,90999,LIN,,
Oak,,Ave,,101,199,odd,90999,ROO,,
Oak,,Ave,,200,298,both,90999,LIN,,
Oak,,Ave,,100,198,both,90998,ROO,,
Oak,,Ave,,300,398,odd,90999,LIN,,
Oak,,Ave,,300,398,even,90999,ROO,,
Oak,,Ave,,198,198,odd,90999,LIN,,
"""
    source = import_street_ranges(data.encode(), name="oak.csv", effective_year=YEAR)
    assert source.street_ranges.count() == 7


BAD_STREETS = {
    "a missing cell": (f"{HEADER}\nMain,N,St,,100,198,both,90999,LIN,ADA\n", {"line 2": "Expected 11 cells, found 10"}),
    "an extra cell": (f"{HEADER}\n\nMain,N,St,,100,198,both,90999,LIN,ADA,HHS,X\n", {"line 3": "found 12"}),
    "a number that is not one": (f"{HEADER}\nMain,N,St,,1OO,198,both,90999,LIN,,\n", {"line 2": "low: 1OO"}),
    "low above high": (f"{HEADER}\nMain,N,St,,300,198,both,90999,LIN,,\n", {"line 2": "300 is above the high"}),
    "a bad side": (f"{HEADER}\nMain,N,St,,100,198,left,90999,LIN,,\n", {"line 2": "side: left"}),
    "a short ZIP": (f"{HEADER}\nMain,N,St,,100,198,both,9099,LIN,,\n", {"line 2": "zip: 9099"}),
    "a bad direction": (f"{HEADER}\nMain,Up,St,,100,198,both,90999,LIN,,\n", {"line 2": "Up is not a direction"}),
    "an unknown school": (
        f"{HEADER}\nMain,N,St,,100,198,both,90999,XYZ,,\n",
        {"line 2": "Column K-5: No school has the code XYZ."},
    ),
    "a school outside its grades": (
        f"{HEADER}\nMain,N,St,,100,198,both,90999,LIN,HHS,\n",
        {"line 2": "Column 6-8: Hill High teaches grades 9-12, not 6-8"},
    ),
    "overlapping both sides": (
        f"{HEADER}\nMain,N,St,,100,198,both,90999,LIN,,\nElm,,St,,1,99,both,90999,LIN,,\n"
        "Main,North,Street,,150,250,both,90999,ROO,,\n",
        {"line 4": "Overlaps line 2: house numbers 150–198 of N MAIN ST, ZIP 90999, are given twice for grades K-5"},
    ),
    "overlapping odd and both": (
        f"{HEADER}\nMain,N,St,,101,199,odd,90999,LIN,ADA,\nMain,N,St,,199,301,both,90999,LIN,ADA,\n",
        {
            "line 3": "Overlaps line 2: house numbers 199–199 of N MAIN ST, ZIP 90999, "
            "are given twice for grades K-5, 6-8"
        },
    ),
    "overlapping odd and odd": (
        f"{HEADER}\nMain,N,St,,301,399,odd,90999,,ADA,\nMain,N,St,,101,199,odd,90999,,ADA,\n"
        "Main,N,St,,151,161,odd,90999,,ADA,\n",
        {"line 4": "Overlaps line 3: house numbers 151–161"},
    ),
    "an empty file": ("\ufeff\n\n", {"file": "The file is empty"}),
    "a header alone": (f"{HEADER}\n", {"file": "no rows"}),
    "no span column": ("street_name,low,high,side,zip\nMain,1,99,both,90999\n", {"line 1": "No grade-span column"}),
    "an unknown column": (f"{HEADER},K5\nMain,N,St,,1,99,both,90999,LIN,,,\n", {"line 1": "Unknown column k5"}),
    "a missing column": (
        "street_name,low,high,side,K-5\nMain,1,99,both,LIN\n",
        {"line 1": "Missing columns: zip"},
    ),
    "overlapping span columns": (f"{HEADER},3-4\nMain,N,St,,1,99,both,90999,,,,\n", {"line 1": "K-5 and 3-4"}),
    "text that is not UTF-8": (f"{HEADER}\nMain,N,St,,1,99,both,90999,LIN,,\nPe\xf1a,,St,,1,9,both,90999,LIN,,\n", {}),
}


@pytest.mark.parametrize("data, expected", BAD_STREETS.values(), ids=BAD_STREETS.keys())
def test_a_bad_street_table_is_refused_and_the_version_in_force_stays(in_force, data, expected):
    payload = data.encode("latin-1") if "\xf1" in data else data.encode()
    if not expected:
        expected = {"line 3": "not UTF-8"}
    with pytest.raises(ImportRefused) as refused:
        import_street_ranges(payload, name="bad.csv", effective_year="2028-29")
    assert wheres(refused) == list(expected)
    for problem in refused.value.problems:
        assert expected[problem.where] in problem.why
    assert_unchanged(in_force)
    assert StreetRange.objects.count() == 8


def test_every_bad_row_is_reported_not_only_the_first(in_force):
    data = f"""{HEADER}
Main,N,St,,100,198,both,90999,LIN,ADA,HHS
Main,N,St,,x,198,both,90999,LIN,ADA,HHS
Main,N,St,,200,298,sideways,9099,LIN,ADA,HHS
Main,N,St,,300,398,both,90999,ZZZ,ADA,ROO
Main,N,St,,300,398,both,90999,LIN,ADA,HHS
Main,N,St,,396,500,both,90999,LIN,ADA,HHS
"""
    with pytest.raises(ImportRefused) as refused:
        import_street_ranges(data.encode(), name="bad.csv", effective_year="2026")
    assert wheres(refused) == ["year", "line 3", "line 4", "line 4", "line 5", "line 5", "line 7"]
    assert "2026 is not a school year" in whys(refused)
    assert "Overlaps line 6: house numbers 396–398" in whys(refused)
    assert "Column 9-12: Roosevelt Elementary teaches grades K-5, not 9-12" in whys(refused)
    assert_unchanged(in_force)


def test_twenty_thousand_rows_are_written_in_a_few_queries(schools, django_assert_max_num_queries):
    rows = [HEADER] + [
        f"Street {s},,Ave,,{b * 100},{b * 100 + 98},both,90999,LIN,ADA,HHS" for s in range(2000) for b in range(10)
    ]
    with django_assert_max_num_queries(20):
        source = import_street_ranges("\n".join(rows).encode(), name="county.csv", effective_year=YEAR)
    assert source.row_count == 20_000
    assert StreetRange.objects.filter(source=source).count() == 60_000


# --- Attendance areas --------------------------------------------------------------


def test_geojson_areas_round_trip_through_the_lookup(in_force):
    code, rule = answer("500 Oak Ave", Grade.G3)
    assert code == "LIN"
    assert rule.startswith("Attendance area: feature 1 of k5.geojson, grades K-5, in force from 2027-28")
    source = BoundaryImport.objects.get(kind="areas")
    assert (source.grade_span, source.row_count) == ("K-5", 2)
    assert shapely.from_wkb(bytes(AttendanceArea.objects.get(source=source, feature=2).geometry)).equals(ROOSEVELT)


def test_a_wgs84_shapefile_round_trips_through_the_lookup(schools):
    import_address_points(POINTS.encode(), name="points.csv", effective_year=YEAR)
    data = shapefile_zip(("ROO", LINCOLN), ("LIN", ROOSEVELT))
    source = import_areas(data, name="k5.zip", effective_year=YEAR, school_field="school", **K5)
    assert source.row_count == 2
    assert answer("500 Oak Ave", Grade.G3)[0] == "ROO"
    assert answer("700 Elm St", Grade.G3)[0] == "LIN"


def test_a_projected_shapefile_lands_where_it_is(schools):
    import_address_points(POINTS.encode(), name="points.csv", effective_year=YEAR)
    prj = pyproj.CRS("EPSG:2229").to_wkt(version="WKT1_ESRI")
    feet = in_feet(LINCOLN)
    assert feet.bounds[0] > 1_000_000  # really in feet
    data = shapefile_zip(("LIN", feet), prj=prj)
    source = import_areas(data, name="k5.zip", effective_year=YEAR, school_field="SCHOOL", **K5)
    stored = shapely.from_wkb(bytes(source.areas.get().geometry))
    assert stored.bounds == pytest.approx(LINCOLN.bounds, abs=1e-7)
    assert answer("500 Oak Ave", Grade.G3)[0] == "LIN"
    assert answer("700 Elm St", Grade.G3)[0] is None


@pytest.mark.parametrize("crs", ["EPSG:2229", "urn:ogc:def:crs:EPSG::2229"])
def test_a_geojson_with_a_legacy_crs_is_reprojected(schools, crs):
    source = import_areas(geojson(("LIN", in_feet(LINCOLN)), crs=crs), name="k5.json", effective_year=YEAR, **K5)
    stored = shapely.from_wkb(bytes(source.areas.get().geometry))
    assert stored.bounds == pytest.approx(LINCOLN.bounds, abs=1e-7)


BOWTIE = shapely.Polygon([(-118.3, 34.0), (-118.2, 34.1), (-118.2, 34.0), (-118.3, 34.1)])
BAD_AREAS = {
    "an invalid polygon": (geojson(("LIN", LINCOLN), ("ROO", BOWTIE)), {"feature 2": "invalid: Self-intersection"}),
    "a point": (geojson(("LIN", shapely.Point(-118.25, 34.05))), {"feature 1": "is a Point: only Polygon"}),
    "a line": (
        geojson(("LIN", LINCOLN), ("LIN", LINCOLN), ("ROO", LINCOLN.exterior)),
        {"feature 3": "is a LineString"},
    ),
    "no geometry": (geojson(("LIN", None), ("LIN", LINCOLN)), {"feature 1": "no geometry"}),
    "a ring that cannot be read": (
        geojson(("LIN", {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]})),
        {"feature 1": "cannot be read"},
    ),
    "a missing code": (geojson(("LIN", LINCOLN), (None, ROOSEVELT)), {"feature 2": "school_code is empty"}),
    "no code at all": (geojson((None, LINCOLN)), {"file": "No feature has the property school_code"}),
    "an unknown school": (geojson(("XYZ", LINCOLN)), {"feature 1": "No school has the code XYZ"}),
    "a school outside the span": (geojson(("ADA", LINCOLN)), {"feature 1": "Adams Middle teaches grades 6-8, not K-5"}),
    "projected coordinates with no crs": (
        geojson(("LIN", LINCOLN), ("ROO", in_feet(ROOSEVELT))),
        {"feature 2": "outside longitude -180 to 180"},
    ),
    "an unknown projection": (geojson(("LIN", LINCOLN), crs="EPSG:999999"), {"file": "Unknown projection EPSG:999999"}),
    "a shapefile without .prj": (shapefile_zip(("LIN", LINCOLN), prj=None), {"file": "no .prj file"}),
    "a shapefile with a .prj nobody reads": (
        shapefile_zip(("LIN", LINCOLN), prj='PROJCS["Mystery",NONSENSE]'),
        {"file": "Unknown projection"},
    ),
    "a shapefile of points": (
        shapefile_zip(("LIN", shapely.Point(-118.25, 34.05)), shape_type=shapefile.POINT),
        {"feature 1": "is a POINT"},
    ),
    "neither GeoJSON nor a shapefile": (b"street_name,low\n", {"file": "neither GeoJSON nor a zipped shapefile"}),
    "a lone feature": (b'{"type": "Feature"}', {"file": "a Feature, not a FeatureCollection"}),
    "an empty collection": (b'{"type": "FeatureCollection", "features": []}', {"file": "no features"}),
}


@pytest.mark.parametrize("data, expected", BAD_AREAS.values(), ids=BAD_AREAS.keys())
def test_a_bad_area_layer_is_refused_and_the_version_in_force_stays(in_force, data, expected):
    field = {"school_field": "school"} if data.startswith(b"PK") else {}
    with pytest.raises(ImportRefused) as refused:
        import_areas(data, name="bad", effective_year="2028-29", **K5, **field)
    assert wheres(refused) == list(expected)
    for problem in refused.value.problems:
        assert expected[problem.where] in problem.why
    assert_unchanged(in_force)
    assert AttendanceArea.objects.count() == 2


def test_every_bad_feature_is_reported_and_a_bad_span_too(in_force):
    data = geojson(("LIN", BOWTIE), ("XYZ", LINCOLN), ("LIN", shapely.Point(0, 0)))
    with pytest.raises(ImportRefused) as refused:
        import_areas(data, name="bad.json", effective_year=YEAR, grade_low=Grade.G5, grade_high=Grade.K)
    assert wheres(refused) == ["grades", "feature 1", "feature 2", "feature 3"]
    assert_unchanged(in_force)


# --- Address points ----------------------------------------------------------------


def test_address_points_are_stored_by_their_usps_key(schools):
    data = """ADDRESS,City,ZIP,X,Y,APN
"500 Oak Avenue, Apt 4",Valle Verde,90999-1234,-118.25,34.05,1
500 OAK AVE,Valle Verde,90999,-118.25,34.05,2
120 North Main Street,,90999,-118.26,34.06,3
"""
    source = import_address_points(data.encode(), name="county.csv", effective_year=YEAR)
    assert source.row_count == 3
    points = AddressPoint.objects.filter(source=source).values_list("line", "address_key", "longitude", "latitude")
    assert list(points) == [
        (2, "500 OAK AVE 90999", -118.25, 34.05),
        (3, "500 OAK AVE 90999", -118.25, 34.05),
        (4, "120 N MAIN ST 90999", -118.26, 34.06),
    ]


BAD_POINTS = {
    "an address that does not parse": ("hello world,90999,-118.2,34.0", {"line 3": "cannot be read in USPS form"}),
    "a post office box": ("PO Box 12,90999,-118.2,34.0", {"line 3": "post office box"}),
    "a bad ZIP": ("12 Pine St,ABCDE,-118.2,34.0", {"line 3": "zip: ABCDE"}),
    "a longitude that is not a number": ("12 Pine St,90999,west,34.0", {"line 3": "longitude: west is not a number"}),
    "a latitude out of range": ("12 Pine St,90999,-118.2,95", {"line 3": "latitude: 95 is outside -90 to 90"}),
    "a missing cell": ("12 Pine St,90999,-118.2", {"line 3": "Expected 4 cells, found 3"}),
    "one address at two places": (
        "12 Pine Street,90999,-118.2,34.0\n14 Pine St,90999,-118.2,34.0\n12 PINE ST,90999,-118.3,34.0",
        {"line 5": "12 PINE ST 90999 is also on line 2, at other coordinates"},
    ),
}


@pytest.mark.parametrize("rows, expected", BAD_POINTS.values(), ids=BAD_POINTS.keys())
def test_a_bad_point_file_is_refused_and_the_version_in_force_stays(in_force, rows, expected):
    data = f"address,zip,longitude,latitude\n12 Pine St,90999,-118.2,34.0\n{rows}\n"
    with pytest.raises(ImportRefused) as refused:
        import_address_points(data.encode(), name="bad.csv", effective_year="2028-29")
    assert wheres(refused) == list(expected)
    for problem in refused.value.problems:
        assert expected[problem.where] in problem.why
    assert_unchanged(in_force)
    assert AddressPoint.objects.count() == 2


def test_a_point_file_without_coordinates_is_refused(in_force):
    with pytest.raises(ImportRefused) as refused:
        import_address_points(b"address,zip,easting\n12 Pine St,90999,1\n", name="bad.csv", effective_year=YEAR)
    assert wheres(refused) == ["line 1"]
    assert "Missing columns: longitude, latitude" in whys(refused)
    assert_unchanged(in_force)


# --- The management command --------------------------------------------------------


def test_the_command_imports_a_street_table(schools, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text(STREETS)
    out = io.StringIO()
    call_command("import_boundaries", "street_ranges", str(path), "--year", YEAR, stdout=out)
    source = BoundaryImport.objects.get()
    assert "Imported streets.csv: 3 row(s) as 8 street range(s), in force from 2027-28" in out.getvalue()
    assert source.imported_by is None and " on " in source.imported_by_name
    assert answer("150 N Main St", Grade.G3)[0] == "LIN"


def test_the_command_imports_an_area_layer_for_its_grades(schools, tmp_path):
    path = tmp_path / "k5.zip"
    path.write_bytes(shapefile_zip(("LIN", LINCOLN)))
    out = io.StringIO()
    call_command(
        "import_boundaries",
        "areas",
        str(path),
        "--year",
        YEAR,
        "--grades",
        "K-5",
        "--school-field",
        "school",
        stdout=out,
    )
    assert "1 area(s) for grades K-5" in out.getvalue()
    assert BoundaryImport.objects.get().grade_span == "K-5"


def test_the_command_needs_the_grades_of_an_area_layer(schools, tmp_path):
    path = tmp_path / "k5.json"
    path.write_bytes(geojson(("LIN", LINCOLN)))
    with pytest.raises(CommandError, match="--grades"):
        call_command("import_boundaries", "areas", str(path), "--year", YEAR)
    assert not BoundaryImport.objects.exists()


def test_the_command_prints_every_problem_and_imports_nothing(in_force, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("address,zip,lon,lat\nhello world,90999,-118.2,34.0\n12 Pine St,90999,x,34.0\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="refused with 2 problem"):
        call_command("import_boundaries", "address_points", str(path), "--year", YEAR, stderr=err)
    assert err.getvalue().splitlines() == [
        "Line 2: The address hello world cannot be read in USPS form.",
        "Line 3: lon: x is not a number.",
    ]
    assert_unchanged(in_force)


# --- The admin -------------------------------------------------------------------

ADD = "/admin/boundaries/boundaryimport/add/"


@pytest.fixture
def root_client(schools):
    root = staff("root@district.example", "district_admin")
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    return login(root)


def upload(name: str, data: bytes, **fields) -> dict:
    return {"school_field": "school_code", **fields, "file": SimpleUploadedFile(name, data)}


def test_the_admin_imports_an_uploaded_file(root_client):
    assert root_client.get(ADD).status_code == 200
    response = root_client.post(ADD, upload("streets.csv", STREETS.encode(), kind="street_ranges", effective_year=YEAR))
    source = BoundaryImport.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/boundaries/boundaryimport/{source.pk}/change/"
    assert source.imported_by.email == "root@district.example"
    assert answer("150 N Main St", Grade.G3)[0] == "LIN"
    page = root_client.get(response.url)
    assert page.status_code == 200 and "streets.csv" in page.text
    listing = root_client.get("/admin/boundaries/boundaryimport/")
    assert listing.status_code == 200 and "streets.csv" in listing.text and ADD in listing.text
    assert root_client.get(f"/admin/boundaries/boundaryimport/{source.pk}/delete/").status_code == 403


def test_the_admin_imports_an_area_layer_for_its_grades(root_client):
    data = upload("k5.zip", shapefile_zip(("LIN", LINCOLN)), kind="areas", effective_year=YEAR, grades="K-5")
    data["school_field"] = "school"
    assert root_client.post(ADD, data).status_code == 302
    assert BoundaryImport.objects.get().grade_span == "K-5"


def test_the_admin_shows_every_problem_of_a_refused_file_and_saves_nothing(root_client):
    bad = f"{HEADER}\nMain,N,St,,x,198,both,90999,LIN,,\nMain,N,St,,1,9,both,90999,ZZZ,,\n"
    response = root_client.post(ADD, upload("bad.csv", bad.encode(), kind="street_ranges", effective_year=YEAR))
    assert response.status_code == 200
    assert "refused because of 2 problems" in response.text
    assert "Line 2: low: x is not a house number." in response.text
    assert "Line 3: Column K-5: No school has the code ZZZ." in response.text
    assert not BoundaryImport.objects.exists()


def test_the_admin_asks_for_the_grades_of_an_area_layer(root_client):
    response = root_client.post(ADD, upload("k5.json", geojson(("LIN", LINCOLN)), kind="areas", effective_year=YEAR))
    assert response.status_code == 200
    assert "An attendance-area layer is for one grade span" in response.text
    assert not BoundaryImport.objects.exists()


def test_the_residence_reviews_are_listed_read_only(root_client):
    assert root_client.get("/admin/boundaries/residencereview/").status_code == 200
    assert root_client.get("/admin/boundaries/residencereview/add/").status_code == 403
