"""The golden table: addresses as families type them, and the school the demo district's
boundary files (demo/boundaries/, through the importer) give them for each grade span.

A cell is a school code, or why the address goes to staff review:
  unknown   no street range holds it and it is not among the address points
  outside   its address point lies in no attendance area
  line A B  its address point lies on the edge of the areas of schools A and B
  unparsed  it does not read in USPS form
"by" says which data gives the schools: the street ranges or the attendance areas.
"""

import pytest

from applicants.addresses import NotAResidence, standardize
from applicants.models import Grade
from boundaries import lookup
from boundaries.lookup import Finding, find_school
from boundaries.models import ResidenceReview

SPANS = {"K-5": (Grade.K, Grade.G5), "6-8": (Grade.G6, Grade.G8), "9-12": (Grade.G9, Grade.G12)}

GOLDEN = """
address as typed                              | by    | K-5          | 6-8      | 9-12     | why
101 North Main Street, Valle Verde 90999      | range | LIN          | JEF      | PVH      | odd side, low end
100 N Main St, Valle Verde 90999              | range | LIN          | JEF      | PVH      | even side, low end
999 N. Main St., Valle Verde 90999            | range | LIN          | JEF      | PVH      | odd side, high end
1001 N Main St, Valle Verde 90999             | -     | unknown      | unknown  | unknown  | high end + 2
100 South Main Street, Valle Verde 90999      | range | ROO          | JEF      | PVH      | S, not N: another school
455 s main st, Valle Verde 90999              | range | ROO          | JEF      | PVH      | lower case
455 S Main Street Apt 4, Valle Verde 90999    | range | ROO          | JEF      | PVH      | unit on the street line
1199 S Main St, Valle Verde 90999             | range | ROO          | JEF      | PVH      | high end
1201 S Main St, Valle Verde 90999             | -     | unknown      | unknown  | unknown  | high end + 2
455 Main St, Valle Verde 90999                | -     | unknown      | unknown  | unknown  | no N or S: no such street
455 N Mian St, Valle Verde 90999              | -     | unknown      | unknown  | unknown  | misspelt street
455 S Main St, Valle Verde 90998              | -     | unknown      | unknown  | unknown  | ZIP mismatch
1001 Valle Verde Blvd, Valle Verde 90999      | range | LIN          | JEF      | PVH      | north (odd) side, low end
1000 Valle Verde Boulevard, Valle Verde 90999 | range | ROO          | JEF      | PVH      | south (even) side, low end
1201 valle verde blvd, Valle Verde 90999      | range | LIN          | JEF      | PVH      | odd side
1200 Valle Verde Blvd, Valle Verde 90999      | range | ROO          | JEF      | PVH      | the district office
1599 Valle Verde Blvd, Valle Verde 90999      | range | LIN          | JEF      | PVH      | odd side, high end
1598 Valle Verde Blvd, Valle Verde 90999      | range | ROO          | JEF      | PVH      | even side, high end
1601 Valle Verde Blvd, Valle Verde 90999      | -     | unknown      | unknown  | unknown  | odd high end + 2
1600 Valle Verde Blvd, Valle Verde 90999      | -     | unknown      | unknown  | unknown  | even high end + 2
350 Valle Verde Blvd, Valle Verde 90999       | range | LIN          | JEF      | PVH      | west of the creek: both
351 Valle Verde Blvd #5, Valle Verde 90999    | range | LIN          | JEF      | PVH      | a "#" unit
101 Oak Avenue, Valle Verde 90999             | range | LIN          | JEF      | PVH      | low end, "Avenue"
899 oak ave, Valle Verde 90999                | range | LIN          | JEF      | PVH      | high end
901 Oak Ave, Valle Verde 90999                | -     | unknown      | unknown  | unknown  | high end + 2
100 Walnut Ave, Apt 4, Valle Verde 90999      | range | LIN          | JEF      | PVH      | unit in its own field
420 Olive Ave, Valle Verde 90999              | range | ROO          | JEF      | PVH      |
245 West Pine Avenue, Valle Verde 90999       | range | ROO          | JEF      | PVH      | "West" for W
245 E Pine Ave, Valle Verde 90999             | range | ROO          | JEF      | PVH      |
699 Alameda St, Valle Verde 90999             | range | ROO          | JEF      | PVH      | odd side, high end
701 Alameda Street, Unit 2, Valle Verde 90999 | range | LIN          | JEF      | PVH      | high end + 2: next range
698 Alameda St, Valle Verde 90999             | range | ROO          | JEF      | PVH      | even side, high end
700 Alameda St, Valle Verde 90999             | range | LIN          | JEF      | PVH      | next even range, low end
599 Cedar St, Valle Verde 90999               | range | ROO          | JEF      | PVH      | both sides, high end
600 Cedar St, Valle Verde 90999               | range | LIN          | JEF      | PVH      | next range, low end
310 Park Avenue West, Valle Verde 90999       | range | LIN          | JEF      | PVH      | direction after the street
1 Mission Rd, Valle Verde 90999               | range | ROO          | JEF      | PVH      | a range from 1
318 Sycamore Street, Valle Verde 90999        | area  | LIN          | JEF      | PVH      | the Lees of seed_demo
318 sycamore st, Apt 4, Valle Verde 90999     | area  | LIN          | JEF      | PVH      | the unit changes nothing
318 Sycamore St #5, Valle Verde 90999         | area  | LIN          | JEF      | PVH      | nor a "#" unit
315 Sycamore St, Valle Verde 90999            | area  | LIN          | JEF      | PVH      | across the street
318 Sycamor St, Valle Verde 90999             | -     | unknown      | unknown  | unknown  | misspelt street
318 Sycamore St, Valle Verde 90998            | -     | unknown      | unknown  | unknown  | ZIP mismatch
20 Arroyo Court, Valle Verde 90999            | area  | line LIN ROO | JEF      | PVH      | on the shared K-5 edge
24 Arroyo Ct, Valle Verde 90999               | area  | LIN          | JEF      | PVH      | north of the creek
21 Arroyo Ct, Valle Verde 90999               | area  | ROO          | JEF      | PVH      | south of the creek
41 Camino del Sol, Valle Verde 90999          | area  | ROO          | JEF      | PVH      | street without a type
15 Via Paloma, #5, Valle Verde 90999          | area  | ROO          | JEF      | PVH      |
12 Jacaranda Lane, Valle Verde 90999          | area  | LIN          | JEF      | PVH      |
255 Pepper Tree Ln, Valle Verde 90999         | area  | ROO          | JEF      | PVH      |
3 Hillside Circle, Valle Verde 90999          | area  | LIN          | JEF      | PVH      | just inside the foothills
88 Vista Grande Drive, Valle Verde 90999      | -     | outside      | outside  | outside  | same ZIP, outside district
7421 Orchard Lane, Mesa Grande 90997          | -     | outside      | outside  | outside  | the Garcías of seed_demo
Oak Avenue, Valle Verde 90999                 | -     | unparsed     | unparsed | unparsed | no house number
Sycamore Street, Valle Verde 90999            | -     | unparsed     | unparsed | unparsed | no house number
"""

REVIEWS = {
    "unknown": (ResidenceReview.Reason.NO_MATCH, lookup.UNKNOWN_RULE),
    "outside": (ResidenceReview.Reason.NO_MATCH, lookup.OUTSIDE_RULE),
    "line": (ResidenceReview.Reason.SEVERAL, lookup.ON_A_LINE_RULE),
    "unparsed": (ResidenceReview.Reason.UNPARSED, lookup.UNPARSED_RULE),
}
RULES = {"range": lookup.STREET_RANGE_RULE, "area": lookup.AREA_RULE}


def typed(text: str):
    """The address of a table row ("street[, unit], city ZIP") as the family's form standardizes it."""
    *street_and_unit, place = text.split(", ")
    street, unit = [*street_and_unit, ""][:2]
    city, postal_code = place.rsplit(" ", 1)
    return standardize(street, unit, city, "CA", postal_code)


def in_table_words(finding: Finding) -> str:
    """The finding as a cell of the table says it: "LIN by range", "line LIN ROO"."""
    if finding.school is not None:
        by = {rule: by for by, rule in RULES.items()}[finding.how]
        return f"{finding.school.code} by {by}"
    word = {review: word for word, review in REVIEWS.items()}[finding.reason, finding.how]
    return " ".join([word, *sorted(school.code for school in finding.candidates)])


def golden_rows():
    """One test per address: its expected cell per grade span, "by range" or "by area" added to a school."""
    for line in GOLDEN.strip().splitlines()[1:]:  # under the header
        address, by, *cells, _why = (cell.strip() for cell in line.split("|"))
        expected = {
            label: f"{cell} by {by}" if cell.split()[0] not in REVIEWS else cell
            for label, cell in zip(SPANS, cells, strict=True)
        }
        yield pytest.param(address, expected, id=address)


@pytest.mark.parametrize("address, expected", list(golden_rows()))
def test_an_address_finds_its_school_or_goes_to_review(demo_boundaries, db, address, expected):
    standard = typed(address)
    for label, (low, high) in SPANS.items():
        for grade in range(low, high + 1):
            finding = find_school(standard, grade, demo_boundaries)
            assert (grade, finding.grade_span, in_table_words(finding)) == (grade, label, expected[label])


@pytest.mark.parametrize(
    "street, unit",
    [("PO Box 12", ""), ("P.O. Box 318", ""), ("318 Sycamore St", "PMB 4"), ("Apartado Postal 45", "")],
)
def test_a_mailbox_is_refused_before_any_lookup(street, unit):
    with pytest.raises(NotAResidence):
        standardize(street, unit, "Valle Verde", "CA", "90999")


def test_a_unit_does_not_change_the_school(demo_boundaries, db):
    plain = find_school(typed("318 Sycamore St, Valle Verde 90999"), Grade.G3, demo_boundaries)
    for unit in ("Apt 4", "#5", "Unit B"):
        with_unit = typed(f"318 Sycamore St, {unit}, Valle Verde 90999")
        assert with_unit.line2 and with_unit.key == "318 SYCAMORE ST 90999"
        assert find_school(with_unit, Grade.G3, demo_boundaries) == plain
