"""Import a boundary file as a new version (boundaries.imports): street ranges, one
attendance-area layer, or county address points. A refused file changes nothing; every
problem found is printed."""

import getpass
import socket
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from boundaries import imports
from boundaries.models import BoundaryImport

KINDS = [kind.value for kind in BoundaryImport.Kind]


class Command(BaseCommand):
    help = "Import street ranges (CSV), an attendance-area layer (GeoJSON or zipped shapefile) or address points (CSV)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", required=True, help='The school year it is in force from, e.g. "2027-28".')
        parser.add_argument("--grades", help='Areas only: the grade span of the layer, e.g. "K-5", "6-8", "9-12".')
        parser.add_argument(
            "--school-field", default="school_code", help="Areas only: the property holding the school code."
        )

    def handle(self, *args, kind: str, file: Path, year: str, grades: str | None, school_field: str, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        span = imports.parse_grade_span(grades or "")
        if kind == BoundaryImport.Kind.AREAS and span is None:
            raise CommandError('Attendance areas need --grades, a grade span such as "K-5" or "9-12".')
        try:
            source = imports.import_file(
                kind,
                data,
                name=file.name,
                effective_year=year,
                grades=span,
                school_field=school_field,
                by_name=f"{getpass.getuser()} on {socket.gethostname()}",
            )
        except imports.ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{file.name} was refused with {len(refused.problems)} problem(s): nothing was imported, "
                "the version in force is unchanged."
            ) from None
        if kind == BoundaryImport.Kind.STREET_RANGES:
            made = f"{source.row_count} row(s) as {source.street_ranges.count()} street range(s)"
        elif kind == BoundaryImport.Kind.AREAS:
            made = f"{source.row_count} area(s) for grades {source.grade_span}"
        else:
            made = f"{source.row_count} address point(s)"
        self.stdout.write(
            f"Imported {file.name}: {made}, in force from {source.effective_year} "
            f"(version {source.pk}, SHA-256 {source.sha256})."
        )
