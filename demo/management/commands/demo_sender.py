"""The address `make run`'s emails come from: the demo district's own, from its row."""

from email.utils import formataddr

from django.core.management.base import BaseCommand, CommandError

from permits.models import District


class Command(BaseCommand):
    help = "Print the district's name and permits office email as a From address (for DEFAULT_FROM_EMAIL)."

    def handle(self, *args, **options):
        try:
            district = District.current()
        except District.DoesNotExist:
            raise CommandError("No district yet: run seed_demo first.") from None
        self.stdout.write(formataddr((district.name, district.email)))
