"""Reads of open enrollment: a family's result, and the cycle the portal shows."""

from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from permits import clock

from .models import Application, Cycle, Offer, Placement, Priority, WaitlistEntry


def current_cycle() -> Cycle | None:
    """The cycle families see: the latest whose window has opened, else the next one."""
    today = clock.today()
    cycle = Cycle.objects.filter(applications_open_on__lte=today).select_related("school_year").first()
    return cycle or Cycle.objects.select_related("school_year").order_by("applications_open_on").first()


@dataclass
class ChoiceResult:
    rank: int
    program: object
    priority: str  # the label of the priority applied there, or "" for none
    offer: Offer | None = None
    waitlist_position: int | None = None  # 1 = next in line


@dataclass
class Result:
    published: bool
    number: str = ""
    choices: list[ChoiceResult] = field(default_factory=list)

    @property
    def live_offers(self) -> list[Offer]:
        return [c.offer for c in self.choices if c.offer is not None and c.offer.is_live]


def _priority_label(cycle: Cycle, cls: int | None) -> str:
    if cls is None or cls >= cycle.lowest_class:
        return ""
    return Priority(cycle.priority_order[cls]).label


def result_of(application: Application) -> Result:
    """What the family sees after the drawing: its own lottery number, the priority
    applied at each school it ranked, its offer, and its place on each waitlist."""
    placement = (
        Placement.objects.filter(application=application, round__published_at__isnull=False)
        .order_by("-round__number")
        .first()
    )
    choices = list(application.choices.select_related("program__school"))
    if placement is None:
        return Result(False, choices=[ChoiceResult(c.rank, c.program, "") for c in choices])
    offers = {}
    for offer in application.offers.order_by("made_at", "pk"):
        offers[offer.program_id] = offer  # the latest offer at each program
    positions = waitlist_positions(application)
    cycle = application.cycle
    rows = []
    for choice in choices:
        rows.append(
            ChoiceResult(
                rank=choice.rank,
                program=choice.program,
                priority=_priority_label(cycle, placement.classes.get(choice.program.code)),
                offer=offers.get(choice.program_id),
                waitlist_position=positions.get(choice.program_id),
            )
        )
    return Result(True, number=placement.number, choices=rows)


def waitlist_positions(application: Application) -> dict[int, int]:
    """Program id -> the application's place in line there (1 = next), among those still
    waiting, in (class, late, number) order: one query however many waitlists."""
    waiting = WaitlistEntry.objects.filter(program=OuterRef("program"), status=WaitlistEntry.Status.WAITING)
    ahead = waiting.filter(
        Q(priority_class__lt=OuterRef("priority_class"))
        | Q(priority_class=OuterRef("priority_class"), late__lt=OuterRef("late"))
        | Q(priority_class=OuterRef("priority_class"), late=OuterRef("late"), number__lt=OuterRef("number"))
    )
    counted = ahead.order_by().values("program").annotate(n=Count("pk")).values("n")
    entries = application.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING).annotate(
        ahead=Coalesce(Subquery(counted), 0)
    )
    return {program_id: ahead + 1 for program_id, ahead in entries.values_list("program_id", "ahead")}
