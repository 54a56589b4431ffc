"""The demo district's boundary files (written by make_data.py beside them) and their import,
for seed_demo and the golden table of tests/boundaries."""

from pathlib import Path

from applicants.models import Grade
from boundaries.imports import import_address_points, import_areas, import_street_ranges
from boundaries.models import BoundaryImport

DATA = Path(__file__).resolve().parent
# One attendance-area layer per grade span, as districts publish them.
AREA_LAYERS = [
    ("areas_k5.geojson", Grade.K, Grade.G5),
    ("areas_6_8.geojson", Grade.G6, Grade.G8),
    ("areas_9_12.geojson", Grade.G9, Grade.G12),
]


def import_demo_boundaries(*, effective_year: str, by_name: str = "manage.py seed_demo") -> list[BoundaryImport]:
    """Import every demo file through the importer, as versions in force from `effective_year`.

    The schools the files name (LIN, ROO, JEF, PVH, as seed_demo creates them) must exist.
    Raises boundaries.imports.ImportRefused if a file is refused: with the files as
    committed, that is a bug of the files or of the importer."""
    imports = [
        import_street_ranges(
            (DATA / "street_ranges.csv").read_bytes(),
            name="street_ranges.csv",
            effective_year=effective_year,
            by_name=by_name,
        )
    ]
    for name, low, high in AREA_LAYERS:
        imports.append(
            import_areas(
                (DATA / name).read_bytes(),
                name=name,
                effective_year=effective_year,
                grade_low=low,
                grade_high=high,
                by_name=by_name,
            )
        )
    imports.append(
        import_address_points(
            (DATA / "address_points.csv").read_bytes(),
            name="address_points.csv",
            effective_year=effective_year,
            by_name=by_name,
        )
    )
    return imports
