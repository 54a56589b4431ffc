"""Each spring the office rolls the continuing students of multi-year permits into the
next school year (permits.services.roll_over_continuing_permits). It is the office's
decision when, so no beat schedule runs it; running it twice creates nothing twice."""

from django.core.management.base import BaseCommand, CommandError

from permits import clock, services
from permits.models import Permit, SchoolYear


class Command(BaseCommand):
    help = "Roll approved multi-year permits of the year before into the given school year and ask families to confirm."

    def add_arguments(self, parser):
        parser.add_argument("--to-year", required=True, help='The school year to roll into, by name, e.g. "2028-29".')

    def handle(self, *args, to_year: str, **options):
        try:
            year = SchoolYear.objects.get(name=to_year)
        except SchoolYear.DoesNotExist:
            raise CommandError(f"There is no school year named {to_year!r}.") from None
        try:
            summary = services.roll_over_continuing_permits(to_year=year, today=clock.today())
        except services.PermitError as error:
            raise CommandError(str(error)) from None
        if summary.from_year is None:
            self.stdout.write(f"No school year comes before {year}: nothing to roll over.")
            return
        self.stdout.write(
            f"Rolled {len(summary.rolled)} permit(s) from {summary.from_year} into {year}; "
            f"families confirm by {year.continuation_confirm_by:%Y-%m-%d}. "
            f"Terms that ended with {summary.from_year}: {summary.terms_ended}."
        )
        self._list("Rolled past the permit seats offered (the student keeps the place):", summary.over_capacity)
        self._list("Not rolled, the school does not serve the next grade (place the student):", summary.to_place)
        self._list("Not rolled, past grade 12:", summary.finished_school)
        self._list(f"Not rolled, a request of the same kind for {year} exists:", summary.already_requested)

    def _list(self, heading: str, permits: list[Permit]) -> None:
        if not permits:
            return
        self.stdout.write(heading)
        for permit in permits:
            school = permit.placed_school or permit.destination_district or "-"
            self.stdout.write(
                f"  {permit.reference}  {permit.student.full_name}  {permit.get_grade_display()}  {school}"
            )
