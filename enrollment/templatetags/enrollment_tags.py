"""The family's open-enrollment card on the dashboard, and the small words the
enrollment pages share. The dashboard (permits) loads this library by name from a
template, so permits never imports enrollment: the layers point down."""

from dataclasses import dataclass

from django import template
from django.db.models import Prefetch
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from applicants.models import Family, Student
from permits import clock

from ..models import Application, Cycle, Offer, WaitlistEntry
from ..selectors import current_cycle
from ..services import EnrollmentError, application_window

register = template.Library()


@register.filter
def number_groups(number: str, size: int = 8) -> str:
    """A 64-hex lottery number in groups of 8, for reading aloud or comparing."""
    return " ".join(number[i : i + size] for i in range(0, len(number), size))


def status_of(application: Application, published: bool) -> str:
    """The application's state in a few words. Reads application.offers and
    application.waitlist_entries (prefetch them for a list)."""
    if application.is_withdrawn:
        return _("Withdrawn")
    if not published:
        return _("Received; waiting for the drawing")
    offers = [o for o in application.offers.all() if o.is_live]
    accepted = next((o for o in offers if o.status == Offer.Status.ACCEPTED), None)
    if accepted is not None:
        return _("Seat accepted at %(school)s") % {"school": accepted.program.school.name}
    if offers:
        return _("Seat offered at %(school)s: answer by %(day)s") % {
            "school": offers[0].program.school.name,
            "day": date_format(offers[0].respond_by, "DATE_FORMAT"),
        }
    if any(e.status == WaitlistEntry.Status.WAITING for e in application.waitlist_entries.all()):
        return _("On the waitlist")
    return _("No seat offered")


@register.simple_tag
def application_status(application: Application, published: bool) -> str:
    return status_of(application, published)


@dataclass
class StudentRow:
    student: Student
    application: Application | None
    status: str


@dataclass
class Card:
    cycle: Cycle
    is_open: bool
    rows: list[StudentRow]


@register.simple_tag
def enrollment_card(family: Family, students: list[Student]) -> Card | None:
    """Each student's application in the current cycle, in a constant number of queries
    however many students the family has; None when no cycle is set up."""
    cycle = current_cycle()
    if cycle is None:
        return None
    try:
        application_window(cycle, clock.today())
        is_open = True
    except EnrollmentError:
        is_open = False
    applications = {
        a.student_id: a
        for a in Application.objects.filter(cycle=cycle, family=family).prefetch_related(
            Prefetch("offers", queryset=Offer.objects.select_related("program__school")),
            Prefetch("waitlist_entries", queryset=WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)),
        )
    }
    published = cycle.rounds.filter(published_at__isnull=False).exists()
    rows = []
    for student in students:
        application = applications.get(student.pk)
        status = status_of(application, published) if application is not None else ""
        rows.append(StudentRow(student, application, status))
    return Card(cycle, is_open, rows)
