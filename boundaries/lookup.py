"""From an address to its school of residence: street ranges first, then attendance areas.

Exactly one school for the grade is the school of residence, with the rule that matched.
No school, or more than one (an address on a boundary line, a new street, a typo), is
never guessed: the finding says it needs review, and staff decide (boundaries.services).

The boundary data in force is read once per process into a `BoundaryIndex` and kept
while no new import arrives; a lookup itself touches no database.
"""

from dataclasses import dataclass, field
from threading import Lock

import shapely
from asgiref.local import Local
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from applicants.addresses import StandardAddress, parse_line1

from .models import AddressPoint, AttendanceArea, BoundaryImport, ResidenceReview, School, StreetRange, grade_span_label

Reason = ResidenceReview.Reason

# What a finding says to staff; translated when read (Finding.rule).
STREET_RANGE_RULE = gettext_noop(
    "Street range: %(low)s–%(high)s, %(side)s, grades %(span)s (line %(line)s of %(file)s, in force from %(year)s)."
)
AREA_RULE = gettext_noop(
    "Attendance area: feature %(feature)s of %(file)s, grades %(span)s, in force from %(year)s; "
    "address point at %(lat).6f, %(lon).6f."
)
UNPARSED_RULE = gettext_noop("The address could not be read in USPS form.")
UNKNOWN_RULE = gettext_noop("No street range holds this address, and it is not among the address points.")
RANGES_DISAGREE_RULE = gettext_noop("Street ranges on lines %(lines)s name different schools.")
OUTSIDE_RULE = gettext_noop("The address point lies in no attendance area for this grade.")
ON_A_LINE_RULE = gettext_noop("The address point lies on or inside more than one attendance area.")


@dataclass(frozen=True)
class Finding:
    """What the lookup says for one address and grade."""

    grade_low: int
    grade_high: int
    school: School | None
    # For staff: the rule that matched ("Street range ..."), or why none could: a message
    # (translated when read, so that a lookup costs no translation) and its facts.
    how: str
    facts: dict = field(default_factory=dict)
    candidates: tuple[School, ...] = ()
    # A ResidenceReview.Reason when no single school was found.
    reason: str = ""
    decided_by_staff: bool = False

    @property
    def rule(self) -> str:
        facts = dict(self.facts)
        # Labels are made here, when someone reads the rule, not on every lookup.
        if "side" in facts:
            facts["side"] = StreetRange.Side(facts["side"]).label
        if "grades" in facts:
            facts["span"] = grade_span_label(*facts.pop("grades"))
        return _(self.how) % facts

    @property
    def needs_review(self) -> bool:
        return self.school is None

    @property
    def grade_span(self) -> str:
        return grade_span_label(self.grade_low, self.grade_high)


@dataclass(frozen=True)
class _Range:
    low: int
    high: int
    odd: bool | None  # None: both sides of the street
    postal_code: str
    grade_low: int
    grade_high: int
    school_id: int
    line: int

    def holds(self, number: int, zip5: str) -> bool:
        if not self.low <= number <= self.high:
            return False
        if self.postal_code and self.postal_code != zip5:
            return False
        return self.odd is None or (number % 2 == 1) == self.odd

    @property
    def side(self) -> str:
        return (
            StreetRange.Side.BOTH if self.odd is None else StreetRange.Side.ODD if self.odd else StreetRange.Side.EVEN
        )


@dataclass
class _Layer:
    source: BoundaryImport
    tree: shapely.STRtree
    # Prepared (shapely.prepare): a point-in-polygon test then costs far less than
    # walking the polygon's edges.
    geometries: list
    school_ids: list[int]
    features: list[int]


@dataclass
class BoundaryIndex:
    """The boundary data in force for one school year, in memory."""

    street_source: BoundaryImport | None = None
    point_source: BoundaryImport | None = None
    # (pre-direction, name, type, post-direction, grade) -> the ranges of that street
    # teaching that grade: a lookup reads only the few blocks that can hold it.
    ranges: dict[tuple[str, str, str, str, int], list[_Range]] = field(default_factory=dict)
    points: dict[str, shapely.Point] = field(default_factory=dict)
    layers: list[_Layer] = field(default_factory=list)
    schools: dict[int, School] = field(default_factory=dict)
    spans: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def load(cls, sources: list[BoundaryImport]) -> "BoundaryIndex":
        index = cls(schools={school.pk: school for school in School.objects.all()})
        for source in sources:
            if source.kind == BoundaryImport.Kind.STREET_RANGES:
                index.street_source = source
                rows = StreetRange.objects.filter(source=source).values_list(
                    "pre_direction", "street_name", "street_type", "post_direction",
                    "low", "high", "side", "postal_code", "grade_low", "grade_high", "school_id", "line",
                )  # fmt: skip
                odd = {StreetRange.Side.BOTH: None, StreetRange.Side.ODD: True, StreetRange.Side.EVEN: False}
                for pre, name, kind, post, low, high, side, *rest in rows.iterator(chunk_size=5000):
                    street_range = _Range(low, high, odd[side], *rest)
                    for grade in range(street_range.grade_low, street_range.grade_high + 1):
                        index.ranges.setdefault((pre, name, kind, post, grade), []).append(street_range)
                    index.spans.add((rest[1], rest[2]))
            elif source.kind == BoundaryImport.Kind.ADDRESS_POINTS:
                index.point_source = source
                rows = AddressPoint.objects.filter(source=source).values_list("address_key", "longitude", "latitude")
                keys, lons, lats = zip(*rows.iterator(chunk_size=5000), strict=True) if rows.exists() else ((), (), ())
                # Made once here, in bulk: a lookup then only queries the trees.
                index.points = dict(zip(keys, shapely.points(lons, lats), strict=True))
            else:
                areas = list(
                    AttendanceArea.objects.filter(source=source).values_list("feature", "school_id", "geometry")
                )
                geometries = shapely.from_wkb([bytes(wkb) for _f, _s, wkb in areas])
                shapely.prepare(geometries)
                index.layers.append(
                    _Layer(
                        source,
                        shapely.STRtree(geometries),
                        list(geometries),
                        [s for _f, s, _g in areas],
                        [f for f, _s, _g in areas],
                    )
                )
                index.spans.add((source.grade_low, source.grade_high))
        return index

    def span_for(self, grade: int) -> tuple[int, int]:
        """The narrowest grade span of the data that holds this grade (the grade alone if none)."""
        holding = [span for span in self.spans if span[0] <= grade <= span[1]]
        return min(holding, key=lambda span: span[1] - span[0]) if holding else (grade, grade)

    def find(self, address: StandardAddress, grade: int) -> Finding:
        if not address.standardized:
            return self._review(grade, Reason.UNPARSED, UNPARSED_RULE)
        parts = parse_line1(address.line1)
        if parts:
            key = (parts["pre_direction"], parts["street_name"], parts["street_type"], parts["post_direction"], grade)
            number, zip5 = int(parts["number"]), address.zip5
            matched = [r for r in self.ranges.get(key, ()) if r.holds(number, zip5)]
            if matched:
                return self._from_ranges(matched, grade)
        point = self.points.get(address.key)
        if point is None:
            return self._review(grade, Reason.NO_MATCH, UNKNOWN_RULE)
        return self._from_areas(point, grade)

    def _from_ranges(self, matched: list[_Range], grade: int) -> Finding:
        schools = {r.school_id for r in matched}
        first = matched[0]
        if len(schools) > 1:
            lines = ", ".join(str(r.line) for r in matched)
            return self._review(
                grade,
                Reason.SEVERAL,
                RANGES_DISAGREE_RULE,
                {"lines": lines},
                candidates=schools,
            )
        facts = {
            "low": first.low,
            "high": first.high,
            "side": first.side,
            "grades": (first.grade_low, first.grade_high),
            "line": first.line,
            "file": self.street_source.source_name,
            "year": self.street_source.effective_year,
        }
        return Finding(first.grade_low, first.grade_high, self.schools[first.school_id], STREET_RANGE_RULE, facts)

    def _from_areas(self, point: shapely.Point, grade: int) -> Finding:
        hits: list[tuple[_Layer, int]] = []
        for layer in self.layers:
            if layer.source.grade_low <= grade <= layer.source.grade_high:
                # The tree gives the areas whose box holds the point; the prepared area
                # says whether it lies inside or on its edge (on an edge: two areas).
                near = layer.tree.query(point)
                hits += [(layer, i) for i in near.tolist() if layer.geometries[i].intersects(point)]
        schools = {layer.school_ids[i] for layer, i in hits}
        if not schools:
            return self._review(grade, Reason.NO_MATCH, OUTSIDE_RULE)
        if len(schools) > 1:
            return self._review(
                grade,
                Reason.SEVERAL,
                ON_A_LINE_RULE,
                candidates=schools,
            )
        layer, i = hits[0]
        facts = {
            "feature": layer.features[i],
            "file": layer.source.source_name,
            "span": layer.source.grade_span,
            "year": layer.source.effective_year,
            "lat": point.y,
            "lon": point.x,
        }
        school = self.schools[layer.school_ids[i]]
        return Finding(layer.source.grade_low, layer.source.grade_high, school, AREA_RULE, facts)

    def _review(
        self, grade: int, reason: str, how: str, facts: dict | None = None, candidates: set[int] = frozenset()
    ) -> Finding:
        low, high = self.span_for(grade)
        chosen = tuple(sorted((self.schools[pk] for pk in candidates), key=lambda s: s.name))
        return Finding(low, high, None, how, facts or {}, chosen, reason)


# The imports in force, by year, read once per request or task (like District.current):
# a page showing the school of residence of several students asks the database once.
# Forgotten at each request and task, and whenever an import is saved or deleted.
_in_force = Local()


def forget_imports_in_force(**kwargs) -> None:
    _in_force.by_year = {}


def imports_in_force(year: str) -> list[BoundaryImport]:
    """The newest import of each kind (of each grade span, for areas) in force in `year`."""
    remembered = getattr(_in_force, "by_year", None)
    if remembered is None:
        remembered = _in_force.by_year = {}
    if year not in remembered:
        chosen: dict[tuple, BoundaryImport] = {}
        for source in BoundaryImport.objects.filter(effective_year__lte=year):  # newest first (Meta.ordering)
            chosen.setdefault((source.kind, source.grade_low, source.grade_high), source)
        remembered[year] = sorted(chosen.values(), key=lambda s: (s.kind, s.grade_low or 0))
    return remembered[year]


_indexes: dict[tuple[int, ...], BoundaryIndex] = {}
_indexes_lock = Lock()


def index_for(year: str) -> BoundaryIndex:
    """The index of the data in force in `year`, built once per process per set of imports."""
    sources = imports_in_force(year)
    key = tuple(sorted(source.pk for source in sources))
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            if len(_indexes) >= 4:
                _indexes.clear()  # an old version is rarely asked for twice
            index = _indexes[key] = BoundaryIndex.load(sources)
    return index


def find_school(address: StandardAddress, grade: int, year: str) -> Finding:
    """The public lookup: from an address alone (nothing is kept)."""
    return index_for(year).find(address, grade)
