"""Writes the demo district's boundary files beside this script: run once, outputs committed.

    .venv/bin/python demo/boundaries/make_data.py

Valle Verde is fictional, drawn on a grid of blocks (x eastwards, y northwards, 0 to 10)
placed in Los Angeles County. Arroyo Creek (y = 5, west of x = 4) and then Valle Verde
Blvd (y = 6, east of x = 4) split the two elementary areas: Lincoln (LIN) north,
Roosevelt (ROO) south. Jefferson Middle (JEF) and Valle Verde High (PVH) serve the whole
district. The files mirror what a district sends:

- street_ranges.csv, the school locator of the old town grid: Main St is N Main St north
  of the boulevard and S Main St south of it; the boulevard's odd (north) side is
  Lincoln's and its even (south) side Roosevelt's; the north-south streets change school
  where they cross the line.
- areas_k5.geojson, areas_6_8.geojson, areas_9_12.geojson: the attendance areas, WGS 84
  longitude/latitude. Lincoln and Roosevelt share the creek-and-boulevard edge vertex for
  vertex.
- address_points.csv, the county's address points for newer streets that the locator
  does not list (Sycamore St, where the Lees of seed_demo live, among them), one lot
  exactly on the creek line, and two addresses outside the district (the Garcías' in
  Mesa Grande among them).
"""

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEST, SOUTH = -118.2300, 34.0900  # the district's south-west corner
BLOCK_LON, BLOCK_LAT = 0.004, 0.003  # about 370 m by 330 m


def lonlat(x: float, y: float) -> list[float]:
    # Rounded once, here: a vertex the two areas share is then the same number in both.
    return [round(WEST + BLOCK_LON * x, 6), round(SOUTH + BLOCK_LAT * y, 6)]


# The district, anticlockwise from the south-west corner; the north-east corner is cut
# by the foothills.
OUTLINE = [(0, 0), (10, 0), (10, 7), (8, 10), (0, 10)]
# Arroyo Creek, then Valle Verde Blvd: the edge Lincoln and Roosevelt share.
CREEK_AND_BOULEVARD = [(0, 5), (4, 5), (4, 6), (10, 6)]
K5_AREAS = {
    "LIN": [*CREEK_AND_BOULEVARD, (10, 7), (8, 10), (0, 10)],
    "ROO": [(0, 0), (10, 0), *reversed(CREEK_AND_BOULEVARD)],
}

# street_name, pre_direction, street_type, post_direction, low, high, side, K-5 school.
# House numbers rise by 100 a block away from Main St (x = 5) and from the south edge.
RANGES = [
    ("Main", "N", "St", "", 101, 999, "odd", "LIN"),
    ("Main", "N", "St", "", 100, 998, "even", "LIN"),
    ("Main", "S", "St", "", 101, 1199, "odd", "ROO"),
    ("Main", "S", "St", "", 100, 1198, "even", "ROO"),
    # West of the creek the boulevard is wholly in Lincoln's area; east of it, it is the line.
    ("Valle Verde", "", "Blvd", "", 100, 999, "both", "LIN"),
    ("Valle Verde", "", "Blvd", "", 1001, 1599, "odd", "LIN"),
    ("Valle Verde", "", "Blvd", "", 1000, 1598, "even", "ROO"),
    ("Oak", "", "Ave", "", 101, 899, "odd", "LIN"),
    ("Oak", "", "Ave", "", 100, 898, "even", "LIN"),
    ("Walnut", "", "Ave", "", 100, 899, "both", "LIN"),
    ("Olive", "", "Ave", "", 100, 999, "both", "ROO"),
    ("Pine", "E", "Ave", "", 100, 599, "both", "ROO"),
    ("Pine", "W", "Ave", "", 100, 499, "both", "ROO"),
    ("Alameda", "", "St", "", 101, 699, "odd", "ROO"),
    ("Alameda", "", "St", "", 100, 698, "even", "ROO"),
    ("Alameda", "", "St", "", 701, 949, "odd", "LIN"),
    ("Alameda", "", "St", "", 700, 948, "even", "LIN"),
    ("Cedar", "", "St", "", 100, 599, "both", "ROO"),
    ("Cedar", "", "St", "", 600, 1099, "both", "LIN"),
    ("Elm", "", "St", "", 100, 599, "both", "ROO"),
    ("Elm", "", "St", "", 600, 1099, "both", "LIN"),
    ("Lime", "", "St", "", 100, 699, "both", "ROO"),
    ("Lime", "", "St", "", 700, 849, "both", "LIN"),
    ("Church", "", "St", "", 100, 699, "both", "ROO"),
    ("Church", "", "St", "", 700, 999, "both", "LIN"),
    ("Park", "", "Ave", "W", 100, 499, "both", "LIN"),
    ("Park", "", "Ave", "E", 100, 499, "both", "LIN"),
    ("Mission", "", "Rd", "", 1, 99, "both", "ROO"),
]

# address, ZIP, (x, y): the county's points on streets the locator does not list.
POINTS = [
    ("310 Sycamore St", "90999", (1.2, 7.05)),
    ("314 Sycamore St", "90999", (1.5, 7.05)),
    ("318 Sycamore St", "90999", (1.8, 7.05)),
    ("322 Sycamore St", "90999", (2.1, 7.05)),
    ("315 Sycamore St", "90999", (1.6, 6.95)),
    ("319 Sycamore St", "90999", (1.9, 6.95)),
    ("12 Jacaranda Ln", "90999", (7.1, 8.6)),
    ("15 Jacaranda Ln", "90999", (7.3, 8.5)),
    ("3 Hillside Cir", "90999", (8.6, 8.3)),
    # Neighbours across the creek; number 20's lot line is the creek itself.
    ("20 Arroyo Ct", "90999", (2, 5)),
    ("21 Arroyo Ct", "90999", (2.2, 4.6)),
    ("24 Arroyo Ct", "90999", (1.8, 5.4)),
    ("41 Camino Del Sol", "90999", (1.5, 1.5)),
    ("44 Camino Del Sol", "90999", (1.6, 1.6)),
    ("15 Via Paloma", "90999", (6.5, 3.5)),
    ("22 Via Paloma", "90999", (6.7, 3.6)),
    ("250 Pepper Tree Ln", "90999", (3.0, 2.5)),
    ("255 Pepper Tree Ln", "90999", (3.1, 2.4)),
    # Same ZIP, beyond the foothills line: outside the district.
    ("88 Vista Grande Dr", "90999", (9.8, 9.5)),
    # The Garcías of seed_demo, in Mesa Grande, west of the district.
    ("7421 Orchard Ln", "90997", (-6.0, 4.0)),
]


def write_geojson(name: str, areas: dict[str, list[tuple[float, float]]]) -> None:
    """A FeatureCollection of one polygon per school, its ring closed, one feature a line."""
    features = ",\n".join(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"school_code": code},
                "geometry": {"type": "Polygon", "coordinates": [[lonlat(*v) for v in [*ring, ring[0]]]]},
            }
        )
        for code, ring in areas.items()
    )
    (HERE / name).write_text(f'{{"type": "FeatureCollection", "features": [\n{features}\n]}}\n')


def main() -> None:
    with open(HERE / "street_ranges.csv", "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["street_name", "pre_direction", "street_type", "post_direction", "low", "high", "side", "zip"]
            + ["K-5", "6-8", "9-12"]
        )
        for *street, low, high, side, k5 in RANGES:
            writer.writerow([*street, low, high, side, "90999", k5, "JEF", "PVH"])
    write_geojson("areas_k5.geojson", K5_AREAS)
    write_geojson("areas_6_8.geojson", {"JEF": OUTLINE})
    write_geojson("areas_9_12.geojson", {"PVH": OUTLINE})
    with open(HERE / "address_points.csv", "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["address", "zip", "longitude", "latitude"])
        for address, zip5, (x, y) in POINTS:
            writer.writerow([address, zip5, *lonlat(x, y)])


if __name__ == "__main__":
    main()
