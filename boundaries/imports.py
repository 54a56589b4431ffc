"""Importing boundary data: street ranges (CSV), attendance areas (GeoJSON or a zipped
shapefile) and county address points (CSV).

Every import is a new `BoundaryImport` version, never an edit of an earlier one. A file
is taken whole or not at all: every row or feature is checked before anything is
written, a bad file is refused with every problem found (`ImportRefused`), and the
version in force stays in force. The rows of a good file are written in one
transaction.
"""

import csv
import hashlib
import io
import json
import math
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyproj
import shapefile
import shapely
import shapely.errors
import shapely.geometry
from django.db import connection, transaction
from django.utils.translation import gettext as _

from applicants.addresses import DIRECTIONS, STREET_TYPES, NotAResidence, standardize, street_part
from applicants.models import Grade

from .models import SCHOOL_YEAR_NAME, AddressPoint, AttendanceArea, BoundaryImport, School, StreetRange
from .models import grade_span_label as span_label

BATCH_SIZE = 1000
# A zipped shapefile is unpacked in memory: a district layer is a few megabytes.
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024

_GRADE = r"(TK|K|\d{1,2})"
_SPAN = re.compile(rf"^{_GRADE}(?:\s*-\s*{_GRADE})?$", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"^\d{1,9}$")
_ZIP = re.compile(r"^\d{5}$")
_WGS84 = pyproj.CRS("EPSG:4326")
# scourgify reads an address only with a city; the city changes nothing in line 1 (the
# key is line 1 and the ZIP), so a file without a city column is read with this one.
_ANY_CITY = "ANYTOWN"


@dataclass(frozen=True)
class Problem:
    """Why a file was refused, and where: "line 12", "feature 3", "file" (or "year" and
    "grades" for the arguments). `str()` gives both, translated, for a person to read."""

    where: str
    why: str

    def __str__(self):
        kind, _sep, number = self.where.partition(" ")
        if kind == "line" and number.isdigit():
            where = _("Line %(number)s") % {"number": number}
        elif kind == "feature" and number.isdigit():
            where = _("Feature %(number)s") % {"number": number}
        elif self.where == "file":
            where = _("File")
        elif self.where == "year":
            where = _("School year")
        elif self.where == "grades":
            where = _("Grades")
        else:
            where = self.where
        return f"{where}: {self.why}"


class ImportRefused(Exception):
    """The file was refused whole: nothing was written. `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("; ".join(f"{p.where}: {p.why}" for p in self.problems))


def _problem_order(problem: Problem) -> tuple:
    kind, _sep, number = problem.where.partition(" ")
    return (1, kind, int(number)) if number.isdigit() else (0, problem.where, 0)


def parse_grade_span(text: str) -> tuple[int, int] | None:
    """(low, high) for a span named as in boundary files ("K-5", "TK-8", "9-12", "K"), else None."""
    match = _SPAN.match((text or "").strip())
    if not match:
        return None
    grades = [_grade(token) for token in match.groups() if token is not None]
    low, high = grades[0], grades[-1]
    if None in (low, high) or low > high:
        return None
    return low, high


def _grade(token: str) -> int | None:
    token = token.upper()
    if token in ("TK", "K"):
        return int(Grade.TK if token == "TK" else Grade.K)
    return int(token) if 1 <= int(token) <= 12 else None


# --- Shared checks and the write ---------------------------------------------------


def _year_problems(effective_year: str) -> list[Problem]:
    match = SCHOOL_YEAR_NAME.match(effective_year or "")
    if match and (int(match[1]) + 1) % 100 == int(match[2]):
        return []
    why = _("%(year)s is not a school year such as 2027-28.") % {"year": effective_year or "–"}
    return [Problem("year", why)]


@dataclass(frozen=True)
class _School:
    pk: int
    name: str
    low: int
    high: int


def _schools() -> dict[str, _School]:
    """Schools by code, upper-cased: files spell codes in either case."""
    rows = School.objects.values_list("pk", "code", "name", "lowest_grade", "highest_grade")
    return {code.strip().upper(): _School(pk, name, low, high) for pk, code, name, low, high in rows}


def _school_problem(school: _School | None, code: str, span: tuple[int, int]) -> str:
    """Why this code cannot serve this span ("" when it can)."""
    if school is None:
        return _("No school has the code %(code)s.") % {"code": code}
    if not (school.low <= span[0] and span[1] <= school.high):
        return _("%(school)s teaches grades %(school_span)s, not %(span)s.") % {
            "school": school.name,
            "school_span": span_label(school.low, school.high),
            "span": span_label(*span),
        }
    return ""


def _save(kind: str, model, rows: list[dict], *, data: bytes, name: str, effective_year: str, by, by_name: str,
          row_count: int, grades: tuple[int, int] | tuple[None, None] = (None, None)) -> BoundaryImport:  # fmt: skip
    with transaction.atomic():
        source = BoundaryImport.objects.create(
            kind=kind,
            effective_year=effective_year,
            grade_low=grades[0],
            grade_high=grades[1],
            source_name=name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            row_count=row_count,
            imported_by=by,
            imported_by_name=(by_name or "")[:200],
        )
        for row in rows:
            row["source_id"] = source.pk
        if model is AttendanceArea:  # a few dozen polygons
            model.objects.bulk_create((model(**row) for row in rows), batch_size=BATCH_SIZE)
        else:
            _copy(model, rows)
    return source


def _copy(model, rows: list[dict]) -> None:
    """Write checked rows with PostgreSQL's COPY.

    bulk_create prepares each of a county table's values one by one: 60,000 street
    ranges (780,000 values) cost it about 4 s of CPU and 10 s in all on a busy server,
    against a second for COPY, and an import must stay well under 5 s."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    buffer = io.StringIO()
    # Strings quoted, numbers bare: a quoted "" is an empty string, not NULL.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows([row[field.attname] for field in fields] for row in rows)
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


# --- CSV files ---------------------------------------------------------------------


def _read_csv(data: bytes, problems: list[Problem]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header (its line number and lower-cased names) and the rows with their line
    numbers; blank lines skipped. Raises ImportRefused, with the `problems` found so far,
    for a file that is not UTF-8 CSV or has no rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        why = _("The file is not UTF-8 text. Save it as CSV UTF-8 and import it again.")
        raise ImportRefused([*problems, Problem(f"line {line}", why)]) from None
    if "\x00" in text:  # PostgreSQL stores no NUL character: a binary file, not CSV
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRefused([*problems, Problem(f"line {line}", _("The file is not text: it holds a NUL byte."))])
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    first = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((first, cells))
            first = reader.line_num + 1
    except csv.Error as error:
        why = _("The file cannot be read as CSV: %(error)s") % {"error": error}
        raise ImportRefused([*problems, Problem(f"line {first}", why)]) from None
    if not rows:
        raise ImportRefused([*problems, Problem("file", _("The file is empty: a header row and rows are needed."))])
    (header_line, header), rows = rows[0], rows[1:]
    header = [cell.strip().lower() for cell in header]
    if not rows:
        raise ImportRefused([*problems, Problem("file", _("The file has a header row but no rows."))])
    return header_line, header, rows


def _header_problems(header: list[str], line: int, required: list[str]) -> list[Problem]:
    problems = []
    seen = set()
    for column in header:
        if column in seen:
            problems.append(Problem(f"line {line}", _("Column %(column)s appears twice.") % {"column": column}))
        seen.add(column)
    missing = [column for column in required if column not in seen]
    if missing:
        why = _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}
        problems.append(Problem(f"line {line}", why))
    return problems


def _cell_count_problem(cells: list[str], header: list[str]) -> str:
    if len(cells) == len(header):
        return ""
    return _("Expected %(expected)s cells, found %(found)s.") % {"expected": len(header), "found": len(cells)}


# --- Street ranges -----------------------------------------------------------------

_STREET_COLUMNS = ["street_name", "pre_direction", "street_type", "post_direction", "low", "high", "side", "zip"]
_REQUIRED_STREET_COLUMNS = ["street_name", "low", "high", "side", "zip"]
_SIDES = {side.value: side.value for side in StreetRange.Side}
# Which house-number parities a side covers: 1 odd, 0 even.
_PARITIES = {"odd": (1,), "even": (0,), "both": (1, 0)}


def import_street_ranges(data: bytes, *, name: str, effective_year: str, by=None, by_name: str = "") -> BoundaryImport:
    """Import a school-locator table: one CSV row per block face, one column per grade span.

    Columns (any case): street_name, pre_direction, street_type, post_direction, low,
    high, side (odd, even or both), zip, and one column per grade span named like K-5,
    TK-5, 6-8 or 9-12 that holds a school code (empty: no school for that span). Each
    row becomes one StreetRange per school it names, with the street in USPS form.
    `row_count` is the number of rows of the file.

    Raises ImportRefused, listing every problem, for a malformed row, an unknown school
    or one that does not teach the span, or two ranges that give the same house numbers
    of a street and ZIP twice for a span."""
    problems = _year_problems(effective_year)
    header_line, header, rows = _read_csv(data, problems)
    header_problems = _header_problems(header, header_line, _REQUIRED_STREET_COLUMNS)
    spans: dict[int, tuple[int, int]] = {}
    for position, column in enumerate(header):
        span = parse_grade_span(column)
        if span is not None:
            spans[position] = span
        elif column not in _STREET_COLUMNS:
            why = _("Unknown column %(column)s: a column is a street part or a grade span such as K-5.")
            header_problems.append(Problem(f"line {header_line}", why % {"column": column or "–"}))
    if not spans:
        why = _("No grade-span column: name one column per grade span, such as K-5, 6-8 or 9-12.")
        header_problems.append(Problem(f"line {header_line}", why))
    ordered = sorted(set(spans.values()))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if second[0] <= first[1]:
                why = _("Columns %(first)s and %(second)s name the same grades.") % {
                    "first": span_label(*first),
                    "second": span_label(*second),
                }
                header_problems.append(Problem(f"line {header_line}", why))
    # The rows are read only under a header that says what their cells are.
    if header_problems:
        raise ImportRefused(problems + header_problems)

    schools = _schools()
    position = {column: header.index(column) for column in _STREET_COLUMNS if column in header}
    ranges: list[dict] = []
    parts: dict[tuple[str, str], str] = {}  # street_part is asked once per spelling

    def part(kind: str, text: str) -> str:
        if (kind, text) not in parts:
            parts[kind, text] = street_part(kind, text)
        return parts[kind, text]

    for line, cells in rows:
        wrong = _cell_count_problem(cells, header)
        if wrong:
            problems.append(Problem(f"line {line}", wrong))
            continue
        cell = {column: cells[i].strip() for column, i in position.items()}
        row_problems = []
        street = {
            "pre_direction": part("direction", cell.get("pre_direction", "")),
            "street_name": part("name", cell["street_name"]),
            "street_type": part("type", cell.get("street_type", "")),
            "post_direction": part("direction", cell.get("post_direction", "")),
        }
        if not street["street_name"]:
            row_problems.append(_("The street name is empty."))
        elif len(street["street_name"]) > 100:
            row_problems.append(_("The street name is longer than 100 characters."))
        for column in ("pre_direction", "post_direction"):
            if street[column] and street[column] not in DIRECTIONS:
                why = _("%(column)s: %(value)s is not a direction (N, S, E, W, NE, NW, SE, SW).")
                row_problems.append(why % {"column": column, "value": cell[column]})
        if street["street_type"] and street["street_type"] not in STREET_TYPES:
            why = _("street_type: %(value)s is not a USPS street type (such as ST, AVE, BLVD).")
            row_problems.append(why % {"value": cell["street_type"]})
        for column in ("low", "high"):
            if not _HOUSE_NUMBER.match(cell[column]):
                why = _("%(column)s: %(value)s is not a house number.")
                row_problems.append(why % {"column": column, "value": cell[column] or "–"})
        if not row_problems and int(cell["low"]) > int(cell["high"]):
            why = _("The low number %(low)s is above the high number %(high)s.")
            row_problems.append(why % {"low": cell["low"], "high": cell["high"]})
        side = _SIDES.get(cell["side"].lower())
        if side is None:
            row_problems.append(_("side: %(value)s is not odd, even or both.") % {"value": cell["side"] or "–"})
        if not _ZIP.match(cell["zip"]):
            row_problems.append(_("zip: %(value)s is not a 5-digit ZIP code.") % {"value": cell["zip"] or "–"})
        served = []
        for i, span in spans.items():
            code = cells[i].strip()
            if not code:
                continue
            school = schools.get(code.upper())
            why = _school_problem(school, code, span)
            if why:
                row_problems.append(_("Column %(column)s: %(why)s") % {"column": span_label(*span), "why": why})
            else:
                served.append((span, school.pk))
        if row_problems:
            problems += [Problem(f"line {line}", why) for why in row_problems]
            continue
        for (grade_low, grade_high), school_id in served:
            ranges.append(
                {
                    **street,
                    "line": line,
                    "low": int(cell["low"]),
                    "high": int(cell["high"]),
                    "side": side,
                    "postal_code": cell["zip"],
                    "grade_low": grade_low,
                    "grade_high": grade_high,
                    "school_id": school_id,
                }
            )
    problems += _overlaps(ranges)
    if problems:
        raise ImportRefused(problems)
    return _save(BoundaryImport.Kind.STREET_RANGES, StreetRange, ranges, data=data, name=name,
                 effective_year=effective_year, by=by, by_name=by_name, row_count=len(rows))  # fmt: skip


def _overlaps(ranges: list[dict]) -> list[Problem]:
    """Two ranges that give one house number of a street and ZIP to a grade span twice.

    Odd and even numbers are checked apart (a "both" range is in each), each range cut
    to the numbers of that parity it holds: odd 101-199 and even 100-198 share nothing.
    Sorted by first number, a range overlaps another exactly when it starts at or before
    the furthest end reached so far: n log n for a county's table."""
    groups = defaultdict(list)
    for r in ranges:
        key = (r["pre_direction"], r["street_name"], r["street_type"], r["post_direction"], r["postal_code"],
               r["grade_low"], r["grade_high"])  # fmt: skip
        for parity in _PARITIES[r["side"]]:
            low = r["low"] if r["low"] % 2 == parity else r["low"] + 1
            high = r["high"] if r["high"] % 2 == parity else r["high"] - 1
            if low <= high:
                groups[key, parity].append((low, high, r["line"], r))
    found: dict[tuple[int, int], dict] = {}
    for (key, _parity), items in groups.items():
        items.sort(key=lambda item: item[:3])
        reach, reaching = -1, None
        for low, high, line, r in items:
            if low <= reach:
                pair = (min(line, reaching["line"]), max(line, reaching["line"]))
                # The numbers the two share, whatever their sides: e.g. 199-199 of odd 101-199 and 199-301.
                shared = {"low": max(r["low"], reaching["low"]), "high": min(r["high"], reaching["high"])}
                seen = found.setdefault(pair, {"key": key, **shared, "spans": []})
                span = span_label(key[5], key[6])
                if span not in seen["spans"]:
                    seen["spans"].append(span)
            if high > reach:
                reach, reaching = high, r
    problems = []
    for (first, second), seen in found.items():
        pre, street_name, street_type, post, zip5, *_grades = seen["key"]
        why = _(
            "Overlaps line %(other)s: house numbers %(low)s–%(high)s of %(street)s, ZIP %(zip)s, "
            "are given twice for grades %(spans)s."
        ) % {
            "other": first,
            "low": seen["low"],
            "high": seen["high"],
            "street": " ".join(p for p in (pre, street_name, street_type, post) if p),
            "zip": zip5,
            "spans": ", ".join(seen["spans"]),
        }
        problems.append(Problem(f"line {second}", why))
    return problems


# --- Attendance areas --------------------------------------------------------------


@dataclass
class _Feature:
    number: int
    properties: dict
    geometry: shapely.Geometry | None = None
    problem: str = ""  # why the geometry could not be read


def import_areas(data: bytes, *, name: str, effective_year: str, grade_low: int, grade_high: int,
                 school_field: str = "school_code", by=None, by_name: str = "") -> BoundaryImport:  # fmt: skip
    """Import one attendance-area layer: the polygons of one grade span, each naming its school.

    The file is GeoJSON (a FeatureCollection, in WGS 84 unless it carries a legacy "crs"
    member) or a zipped ESRI shapefile (its .prj gives the projection); which one is read
    from the content. Polygons are stored reprojected to WGS 84, numbered by their
    position in the file (from 1). `row_count` is the number of features.

    Raises ImportRefused, listing every problem, for a file that is neither, an unknown
    projection (or a shapefile without .prj), a geometry that is not a valid polygon or
    lies outside longitude/latitude once reprojected, and a school code that is missing,
    unknown or of a school that does not teach the span."""
    problems = _year_problems(effective_year)
    span = (grade_low, grade_high)
    span_ok = all(isinstance(g, int) and Grade.TK <= g <= Grade.G12 for g in span) and grade_low <= grade_high
    if not span_ok:
        why = _("Grades %(low)s to %(high)s are not a grade span.") % {"low": grade_low, "high": grade_high}
        problems.append(Problem("grades", why))
    try:
        read = _read_shapefile if zipfile.is_zipfile(io.BytesIO(data)) else _read_geojson
        features, crs, field_names = read(data)
    except ImportRefused as refused:
        raise ImportRefused(problems + refused.problems) from None
    transformer = None
    if not crs.equals(_WGS84, ignore_axis_order=True):
        try:
            transformer = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)
        except pyproj.exceptions.ProjError as error:  # e.g. a vertical or local engineering CRS
            why = _("Unknown projection %(crs)s: %(error)s") % {"crs": crs.name, "error": error}
            raise ImportRefused([*problems, Problem("file", why)]) from None

    field = _field_named(school_field, field_names)
    if field is None:
        why = _("No feature has the property %(field)s; the properties are: %(fields)s.") % {
            "field": school_field,
            "fields": ", ".join(sorted(field_names)) or "–",
        }
        problems.append(Problem("file", why))
    schools = _schools()
    areas = []
    for feature in features:
        where = f"feature {feature.number}"
        geometry, why = _area_geometry(feature, transformer)
        if why:
            problems.append(Problem(where, why))
        if field is None:
            continue
        code = _code_text(feature.properties.get(field))
        if not code:
            problems.append(Problem(where, _("The property %(field)s is empty.") % {"field": field}))
            continue
        school = schools.get(code.upper())
        why = _school_problem(school, code, span) if span_ok or school is None else ""
        if why:
            problems.append(Problem(where, why))
        elif geometry is not None:
            areas.append({"feature": feature.number, "school_id": school.pk, "geometry": shapely.to_wkb(geometry)})
    if problems:
        raise ImportRefused(problems)
    return _save(BoundaryImport.Kind.AREAS, AttendanceArea, areas, data=data, name=name, grades=span,
                 effective_year=effective_year, by=by, by_name=by_name, row_count=len(features))  # fmt: skip


def _field_named(wanted: str, names: set[str]) -> str | None:
    """The property called `wanted`, in any case (shapefile fields are often upper-case)."""
    if wanted in names:
        return wanted
    return next((name for name in sorted(names) if name.lower() == wanted.lower()), None)


def _code_text(value) -> str:
    # A dBase numeric field reads as a float: 101.0 is the code "101".
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _crs(text: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as error:
        why = _("Unknown projection %(crs)s: %(error)s") % {"crs": text.strip()[:80] or "–", "error": error}
        raise ImportRefused([Problem("file", why)]) from None


def _read_geojson(data: bytes) -> tuple[list[_Feature], pyproj.CRS, set[str]]:
    try:
        collection = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        why = _("The file is neither GeoJSON nor a zipped shapefile (.zip with .shp, .shx, .dbf and .prj).")
        raise ImportRefused([Problem("file", why)]) from None
    kind = collection.get("type") if isinstance(collection, dict) else type(collection).__name__
    if kind != "FeatureCollection" or not isinstance(collection.get("features"), list):
        why = _("The GeoJSON is a %(type)s, not a FeatureCollection.") % {"type": kind or "–"}
        raise ImportRefused([Problem("file", why)])
    crs = _WGS84
    member = collection.get("crs")
    if member is not None:
        properties = member.get("properties") if isinstance(member, dict) else None
        crs_name = properties.get("name") if isinstance(properties, dict) else None
        crs = _crs(crs_name if isinstance(crs_name, str) else json.dumps(member))
    features, names = [], set()
    for number, item in enumerate(collection["features"], start=1):
        item = item if isinstance(item, dict) else {}
        properties = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        names.update(properties)
        feature = _Feature(number, properties)
        geometry = item.get("geometry")
        if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
            try:
                feature.geometry = shapely.geometry.shape(geometry)
            except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError) as e:
                feature.problem = _("The geometry cannot be read: %(error)s") % {"error": e}
        elif isinstance(geometry, dict) and geometry.get("type"):
            feature.problem = _not_a_polygon(str(geometry["type"]))
        features.append(feature)
    if not features:
        raise ImportRefused([Problem("file", _("The file holds no features."))])
    return features, crs, names


def _read_shapefile(data: bytes) -> tuple[list[_Feature], pyproj.CRS, set[str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportRefused([Problem("file", _("The zip file cannot be read: %(error)s") % {"error": error})]) from None
    layers = [m for m in members if m.filename.lower().endswith(".shp")]
    if len(layers) != 1:
        why = (
            _("The zip file holds no shapefile (.shp).")
            if not layers
            else _("The zip file holds %(count)s shapefiles: one file is one layer.") % {"count": len(layers)}
        )
        raise ImportRefused([Problem("file", why)])
    stem = layers[0].filename[:-4].lower()
    parts = {m.filename[len(stem) :].lower(): m for m in members if m.filename.lower().startswith(stem + ".")}
    problems = []
    if ".dbf" not in parts:
        problems.append(Problem("file", _("The shapefile has no .dbf file: its attributes are missing.")))
    if ".prj" not in parts:
        why = _("The shapefile has no .prj file, so its projection is unknown. Export it again with its .prj.")
        problems.append(Problem("file", why))
    if sum(m.file_size for m in parts.values()) > MAX_UNZIPPED_BYTES:
        problems.append(Problem("file", _("The zip file is too large once unpacked.")))
    if problems:
        raise ImportRefused(problems)
    try:
        read = {ext: io.BytesIO(archive.read(member)) for ext, member in parts.items()}
    except (zipfile.BadZipFile, OSError, ValueError) as error:  # a damaged member
        raise ImportRefused([Problem("file", _("The zip file cannot be read: %(error)s") % {"error": error})]) from None
    crs = _crs(read[".prj"].getvalue().decode("utf-8", errors="replace"))
    features = []
    try:
        reader = shapefile.Reader(
            shp=read[".shp"], shx=read.get(".shx"), dbf=read[".dbf"], cpg=read.get(".cpg"), encodingErrors="replace"
        )
        names = {f.name for f in reader.fields[1:]}  # the first is dBase's deletion flag
        for number, item in enumerate(reader.iterShapeRecords(), start=1):
            feature = _Feature(number, item.record.as_dict())
            shape_type = item.shape.shapeType
            if shape_type in (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM):
                try:
                    feature.geometry = shapely.geometry.shape(item.shape.__geo_interface__)
                except (ValueError, TypeError, IndexError, KeyError, shapely.errors.ShapelyError) as error:
                    feature.problem = _("The geometry cannot be read: %(error)s") % {"error": error}
            elif shape_type != shapefile.NULL:
                feature.problem = _not_a_polygon(shapefile.SHAPETYPE_LOOKUP.get(shape_type, str(shape_type)))
            features.append(feature)
    except Exception as error:  # noqa: BLE001 -- pyshp raises plain exceptions for a damaged file
        why = _("The shapefile cannot be read: %(error)s") % {"error": error}
        raise ImportRefused([Problem("file", why)]) from None
    if not features:
        raise ImportRefused([Problem("file", _("The file holds no features."))])
    return features, crs, names


def _not_a_polygon(kind: str) -> str:
    return _("The geometry is a %(type)s: only Polygon and MultiPolygon are accepted.") % {"type": kind}


def _area_geometry(feature: _Feature, transformer) -> tuple[shapely.Geometry | None, str]:
    """The feature's polygon in WGS 84, or why it cannot be one."""
    if feature.problem:
        return None, feature.problem
    geometry = feature.geometry
    if geometry is None:
        return None, _("The feature has no geometry.")
    if geometry.is_empty:
        return None, _("The geometry is empty.")
    geometry = shapely.force_2d(geometry)
    if not shapely.is_valid(geometry):
        return None, _("The geometry is invalid: %(reason)s.") % {"reason": shapely.is_valid_reason(geometry)}
    if transformer is not None:
        geometry = shapely.transform(
            geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1], errcheck=False))
        )
    coordinates = shapely.get_coordinates(geometry)
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    if not (np.isfinite(coordinates).all() and (abs(lon) <= 180).all() and (abs(lat) <= 90).all()):
        why = _(
            "Coordinates fall outside longitude -180 to 180 and latitude -90 to 90 (%(bounds)s): "
            "is the file in a projection it does not name?"
        )
        return None, why % {"bounds": ", ".join(f"{v:.6g}" for v in shapely.bounds(geometry))}
    if transformer is not None and not shapely.is_valid(geometry):
        why = _("The geometry is invalid once reprojected to WGS 84: %(reason)s.")
        return None, why % {"reason": shapely.is_valid_reason(geometry)}
    return geometry, ""


# --- Address points ----------------------------------------------------------------

_LONGITUDE_COLUMNS = ("longitude", "lon", "x")
_LATITUDE_COLUMNS = ("latitude", "lat", "y")


def import_address_points(data: bytes, *, name: str, effective_year: str, by=None,
                          by_name: str = "") -> BoundaryImport:  # fmt: skip
    """Import a county address-point file: where each address stands.

    Columns (any case): address, zip, longitude and latitude (or lon/lat, or x/y, in
    WGS 84 degrees), and city when the file has one; other columns are ignored. Each
    address is stored by its key in USPS form (`StandardAddress.key`), which is how
    the lookup finds a family's address. `row_count` is the number of rows of the file.

    Raises ImportRefused, listing every problem, for an address that does not read in
    USPS form, a coordinate that is not a number or out of range, and one address given
    twice at different coordinates."""
    problems = _year_problems(effective_year)
    header_line, header, rows = _read_csv(data, problems)
    lon_column = next((c for c in _LONGITUDE_COLUMNS if c in header), "longitude")
    lat_column = next((c for c in _LATITUDE_COLUMNS if c in header), "latitude")
    header_problems = _header_problems(header, header_line, ["address", "zip", lon_column, lat_column])
    if header_problems:
        raise ImportRefused(problems + header_problems)
    position = {column: header.index(column) for column in ("address", "zip", "city", lon_column, lat_column)
                if column in header}  # fmt: skip
    points = []
    first_seen: dict[str, tuple[int, float, float]] = {}
    for line, cells in rows:
        wrong = _cell_count_problem(cells, header)
        if wrong:
            problems.append(Problem(f"line {line}", wrong))
            continue
        cell = {column: cells[i].strip() for column, i in position.items()}
        row_problems = []
        zip5 = cell["zip"][:5] if re.match(r"^\d{5}(-?\d{4})?$", cell["zip"]) else ""
        address = None
        try:
            # Without a ZIP there is no key, and scourgify reads no address.
            if zip5:
                address = standardize(cell["address"], "", cell.get("city") or _ANY_CITY, "CA", zip5)
            else:
                why = _("zip: %(value)s is not a 5-digit ZIP code.") % {"value": cell["zip"] or "–"}
                row_problems.append(why)
        except NotAResidence:
            row_problems.append(_("%(address)s is a post office box, not a place.") % {"address": cell["address"]})
        if address is not None and not address.standardized:
            why = _("The address %(address)s cannot be read in USPS form.") % {"address": cell["address"] or "–"}
            row_problems.append(why)
        elif address is not None and len(address.key) > AddressPoint._meta.get_field("address_key").max_length:
            row_problems.append(_("The address is longer than 200 characters."))
        longitude = _coordinate(cell[lon_column], lon_column, 180, row_problems)
        latitude = _coordinate(cell[lat_column], lat_column, 90, row_problems)
        if row_problems:
            problems += [Problem(f"line {line}", why) for why in row_problems]
            continue
        key = address.key
        earlier = first_seen.setdefault(key, (line, longitude, latitude))
        # Two points of one address a few centimetres apart are the same point.
        if earlier[0] != line and (abs(earlier[1] - longitude) > 1e-7 or abs(earlier[2] - latitude) > 1e-7):
            why = _("%(address)s is also on line %(other)s, at other coordinates.") % {
                "address": key,
                "other": earlier[0],
            }
            problems.append(Problem(f"line {line}", why))
            continue
        points.append({"line": line, "address_key": key, "longitude": longitude, "latitude": latitude})
    if problems:
        raise ImportRefused(problems)
    return _save(BoundaryImport.Kind.ADDRESS_POINTS, AddressPoint, points, data=data, name=name,
                 effective_year=effective_year, by=by, by_name=by_name, row_count=len(rows))  # fmt: skip


def _coordinate(text: str, column: str, limit: int, problems: list[str]) -> float:
    try:
        value = float(text)
    except ValueError:
        problems.append(_("%(column)s: %(value)s is not a number.") % {"column": column, "value": text or "–"})
        return 0.0
    if not (math.isfinite(value) and -limit <= value <= limit):
        why = _("%(column)s: %(value)s is outside -%(limit)s to %(limit)s degrees.")
        problems.append(why % {"column": column, "value": text, "limit": limit})
    return value


def import_file(kind: str, data: bytes, *, name: str, effective_year: str, grades: tuple[int, int] | None = None,
                school_field: str = "school_code", by=None, by_name: str = "") -> BoundaryImport:  # fmt: skip
    """Import a file of one BoundaryImport.Kind (the admin's upload and the management
    command both come here); an attendance-area layer needs its grade span."""
    common = {"name": name, "effective_year": effective_year, "by": by, "by_name": by_name}
    if kind == BoundaryImport.Kind.AREAS:
        if grades is None:
            raise ImportRefused([Problem("grades", _("An attendance-area layer is for one grade span: name it."))])
        return import_areas(data, grade_low=grades[0], grade_high=grades[1], school_field=school_field, **common)
    if kind == BoundaryImport.Kind.STREET_RANGES:
        return import_street_ranges(data, **common)
    return import_address_points(data, **common)
