"""Attendance boundaries: 100,000 lookups against 30 attendance areas and 20,000 street
ranges, beside the naive lookup (a query per address and every polygon tested in turn),
and the import of a 20,000-row street-range table.

Goals (issue 15): under 20 µs per lookup with the index warm; a 20,000-row street table
imported in under 5 s.

The data is synthetic and made here: a grid of city blocks; 30 attendance areas in three
layers (18 K-5, 8 middle-school 6-8, 4 high-school 9-12 areas tiling the same square, each
edge densified to about 100 vertices a side as real boundary files are); 2,000 streets of
10 blocks each in the street table (20,000 rows, a school per grade span on each), and
20,000 address points on other streets. Lookups take addresses already in USPS form (as a
family's recorded address is): half on ranged streets, half found by their point.

Everything runs in portal_bench_boundaries inside one transaction rolled back at the end.
"""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
import time

from bench.common import percentile, say

NAME = "boundaries"
TITLE = "Attendance boundaries: 100,000 lookups, naive lookup, street table import"

DATABASE = "portal_bench_boundaries"
YEAR = "2027-28"
STREETS, BLOCKS = 2_000, 10  # 20,000 street-range rows
POINTS = 20_000
LOOKUPS = 100_000
BATCH = 1_000  # lookups timed together; the median is taken over batches
NAIVE_LOOKUPS = 2_000
IMPORT_RUNS = 3
LAYERS = {(0, 5): (6, 3), (6, 8): (4, 2), (9, 12): (2, 2)}  # grade span -> grid (30 areas)
SIDE = 0.2  # degrees: the district is a 0.2° square
ZIP = "90999"

GOAL_LOOKUP_US = 20.0
GOAL_IMPORT_S = 5.0


class _Rollback(Exception):
    pass


def _street(prefix: str, n: int) -> str:
    """A street name USPS form leaves as it is ("RANGED BCD"): digits would become ordinals."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + letters
        if n == 0:
            return f"{prefix} Q{letters}"  # Q: never a direction or a street type


def _school_code(span: tuple[int, int], i: int) -> str:
    return f"S{span[0] + 1:02d}{i:02d}"


def _schools(School) -> dict[str, object]:
    schools = {}
    for span, (cols, rows) in LAYERS.items():
        for i in range(cols * rows):
            code = _school_code(span, i)
            schools[code] = School.objects.create(
                name=f"Bench school {code}", code=code, lowest_grade=span[0], highest_grade=span[1]
            )
    return schools


def _layer_geojson(span: tuple[int, int]) -> bytes:
    import shapely

    cols, rows = LAYERS[span]
    features = []
    for i in range(cols * rows):
        x, y = i % cols, i // cols
        w, h = SIDE / cols, SIDE / rows
        cell = shapely.box(-118.3 + x * w, 34.0 + y * h, -118.3 + (x + 1) * w, 34.0 + (y + 1) * h)
        cell = shapely.segmentize(cell, max(w, h) / 100)  # about 100 vertices a side
        features.append(
            {
                "type": "Feature",
                "properties": {"school_code": _school_code(span, i)},
                "geometry": json.loads(shapely.to_geojson(cell)),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _street_table() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    spans = list(LAYERS)
    writer.writerow(["street_name", "pre_direction", "street_type", "post_direction", "low", "high", "side", "zip"]
                    + [f"{low if low else 'K'}-{high}" for low, high in spans])  # fmt: skip
    rng = random.Random(15)
    for s in range(STREETS):
        for b in range(BLOCKS):
            codes = [_school_code(span, rng.randrange(c * r)) for span, (c, r) in LAYERS.items()]
            writer.writerow([_street("RANGED", s), "", "ST", "", b * 100, b * 100 + 98, "both", ZIP, *codes])
    return out.getvalue().encode()


def _points() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["address", "zip", "longitude", "latitude"])
    rng = random.Random(16)
    for p in range(POINTS):
        lon = -118.3 + rng.uniform(0.0001, SIDE - 0.0001)
        lat = 34.0 + rng.uniform(0.0001, SIDE - 0.0001)
        writer.writerow([f"{100 + p % 900} {_street('POINTED', p // 900)} AVE", ZIP, f"{lon:.7f}", f"{lat:.7f}"])
    return out.getvalue().encode()


def _addresses(rng: random.Random) -> list[tuple[object, int]]:
    from applicants.addresses import StandardAddress

    addresses = []
    for n in range(LOOKUPS):
        if n % 2:
            line1 = f"{rng.randrange(BLOCKS * 100 - 1)} {_street('RANGED', rng.randrange(STREETS))} ST"
        else:
            p = rng.randrange(POINTS)
            line1 = f"{100 + p % 900} {_street('POINTED', p // 900)} AVE"
        address = StandardAddress(line1, "", "VALLE VERDE", "CA", ZIP, True)
        addresses.append((address, rng.choice((-1, 0, 3, 5, 6, 8, 9, 12))))
    return addresses


def _naive_find(address, grade, year_sources, schools_by_id):
    """The lookup without an index: the database for the street and the point, then
    every polygon of the grade's layers tested in turn."""
    import shapely

    from applicants.addresses import parse_line1
    from boundaries.models import AddressPoint, AttendanceArea, StreetRange

    street, points, areas = year_sources
    parts = parse_line1(address.line1)
    number = int(parts["number"])
    rows = list(
        StreetRange.objects.filter(
            source=street, street_name=parts["street_name"], street_type=parts["street_type"],
            pre_direction=parts["pre_direction"], post_direction=parts["post_direction"],
            low__lte=number, high__gte=number, grade_low__lte=grade, grade_high__gte=grade,
        ).values_list("school_id", flat=True)
    )  # fmt: skip
    if rows:
        return schools_by_id[rows[0]] if len(set(rows)) == 1 else None
    point = AddressPoint.objects.filter(source=points, address_key=address.key).values_list("longitude", "latitude")
    if not point:
        return None
    spot = shapely.Point(point[0])
    hits = set()
    for source in areas:
        if source.grade_low <= grade <= source.grade_high:
            for school_id, wkb in AttendanceArea.objects.filter(source=source).values_list("school_id", "geometry"):
                if shapely.from_wkb(bytes(wkb)).intersects(spot):
                    hits.add(school_id)
    return schools_by_id[hits.pop()] if len(hits) == 1 else None


def run(options) -> str:
    from django.db import transaction

    from bench import support

    with support.use_database(DATABASE):
        result: dict = {}
        try:
            with transaction.atomic():
                _measure(result)
                raise _Rollback
        except _Rollback:
            pass
    say(f"rolled back: nothing left in {DATABASE}")
    return _report(result)


def _measure(r: dict) -> None:
    from boundaries import imports
    from boundaries.lookup import _indexes, index_for
    from boundaries.models import BoundaryImport, School, StreetRange

    BoundaryImport.objects.all().delete()
    School.objects.filter(code__startswith="S").delete()
    schools = _schools(School)
    say(f"{len(schools)} schools")

    table = _street_table()
    r["import_s"] = []
    for run_number in range(IMPORT_RUNS):
        started = time.perf_counter()
        imports.import_street_ranges(table, name=f"streets-{run_number}.csv", effective_year=YEAR, by_name="bench")
        r["import_s"].append(time.perf_counter() - started)
        say(f"street table import {run_number + 1}: {r['import_s'][-1]:.2f} s ({STREETS * BLOCKS:,} rows)")
    started = time.perf_counter()
    for low, high in LAYERS:
        imports.import_areas(
            _layer_geojson((low, high)), name=f"areas-{low}-{high}.geojson", effective_year=YEAR,
            grade_low=low, grade_high=high, by_name="bench",
        )  # fmt: skip
    r["areas_s"] = time.perf_counter() - started
    started = time.perf_counter()
    imports.import_address_points(_points(), name="points.csv", effective_year=YEAR, by_name="bench")
    r["points_s"] = time.perf_counter() - started
    say(f"areas imported in {r['areas_s']:.2f} s, {POINTS:,} points in {r['points_s']:.2f} s")

    _indexes.clear()
    started = time.perf_counter()
    index = index_for(YEAR)
    r["index_s"] = time.perf_counter() - started
    r["ranges"] = StreetRange.objects.filter(source=index.street_source).count()
    r["areas"] = sum(len(layer.school_ids) for layer in index.layers)
    say(
        f"index built in {r['index_s']:.2f} s: {r['ranges']:,} ranges, {r['areas']} areas, {len(index.points):,} points"
    )  # noqa: E501

    addresses = _addresses(random.Random(17))
    for address, grade in addresses[:2000]:  # warm
        index.find(address, grade)
    per_batch_us, found = [], 0
    started_all = time.perf_counter()
    for start in range(0, LOOKUPS, BATCH):
        started = time.perf_counter()
        for address, grade in addresses[start : start + BATCH]:
            found += index.find(address, grade).school is not None
        per_batch_us.append((time.perf_counter() - started) / BATCH * 1e6)
    r["total_s"] = time.perf_counter() - started_all
    r["lookup_us"] = per_batch_us
    r["found"] = found
    say(f"{LOOKUPS:,} lookups in {r['total_s']:.2f} s, median {statistics.median(per_batch_us):.1f} µs each")

    sources = index.street_source, index.point_source, [layer.source for layer in index.layers]
    by_id = {s.pk: s for s in schools.values()}
    naive_us, agree = [], 0
    for address, grade in addresses[:NAIVE_LOOKUPS]:
        started = time.perf_counter()
        naive = _naive_find(address, grade, sources, by_id)
        naive_us.append((time.perf_counter() - started) * 1e6)
        agree += naive == index.find(address, grade).school
    r["naive_us"] = naive_us
    r["agree"] = agree
    say(f"naive: median {statistics.median(naive_us):.0f} µs; agrees with the index on {agree}/{NAIVE_LOOKUPS}")


def _report(r: dict) -> str:
    lookup = statistics.median(r["lookup_us"])
    naive = statistics.median(r["naive_us"])
    imported = statistics.median(r["import_s"])
    goals = [
        (f"lookup under {GOAL_LOOKUP_US:g} µs warm (median of {LOOKUPS // BATCH} batches of {BATCH:,})",
         f"{lookup:.1f} µs", lookup < GOAL_LOOKUP_US),
        (f"{STREETS * BLOCKS:,}-row street table imported under {GOAL_IMPORT_S:g} s (median of {IMPORT_RUNS})",
         f"{imported:.2f} s", imported < GOAL_IMPORT_S),
    ]  # fmt: skip
    rows = "\n".join(f"| {goal} | {figure} | {'met' if ok else '**not met**'} |" for goal, figure, ok in goals)
    return (
        f"Data: {r['ranges']:,} street ranges in the index (from {STREETS * BLOCKS:,} rows, a school for each "
        f"of 3 grade spans), {r['areas']} attendance areas in 3 layers, {POINTS:,} address points.\n\n"
        "| Goal | Measured | |\n|---|---|---|\n" + rows + "\n\n"
        "| Lookup | Median per lookup (µs) | p95 (µs) | Lookups | Total (s) |\n|---|---:|---:|---:|---:|\n"
        f"| index (`boundaries.lookup.BoundaryIndex.find`) | {lookup:.1f} | {percentile(r['lookup_us'], 95):.1f} "
        f"| {LOOKUPS:,} | {r['total_s']:.2f} |\n"
        f"| naive (queries, every polygon in turn) | {naive:.0f} | {percentile(r['naive_us'], 95):.0f} "
        f"| {NAIVE_LOOKUPS:,} | {sum(r['naive_us']) / 1e6:.2f} |\n\n"
        f"The index is {naive / lookup:.0f}x faster; both answer the same school for {r['agree']:,} of the "
        f"{NAIVE_LOOKUPS:,} addresses compared. {r['found']:,} of {LOOKUPS:,} lookups found a school (the rest: "
        "transitional kindergarten, which no layer holds, and house numbers between two blocks' ranges: "
        "both go to review).\n\n"
        f"Building the index (cold, once per process and set of imports): {r['index_s']:.2f} s. "
        f"Imports: street table {', '.join(f'{s:.2f}' for s in r['import_s'])} s; "
        f"3 area layers {r['areas_s']:.2f} s; {POINTS:,} address points {r['points_s']:.2f} s.\n"
    )
