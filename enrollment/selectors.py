"""Reads of open enrollment: a family's result, and the cycle the portal shows."""

from dataclasses import dataclass, field

from django.db.models import Q

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
    entries = {e.program_id: e for e in application.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING)}
    cycle = application.cycle
    rows = []
    for choice in choices:
        entry = entries.get(choice.program_id)
        rows.append(
            ChoiceResult(
                rank=choice.rank,
                program=choice.program,
                priority=_priority_label(cycle, placement.classes.get(choice.program.code)),
                offer=offers.get(choice.program_id),
                waitlist_position=waitlist_position(entry) if entry else None,
            )
        )
    return Result(True, number=placement.number, choices=rows)


def waitlist_position(entry: WaitlistEntry) -> int:
    """1 for the first in line among those still waiting, in (class, late, number) order."""
    ahead = WaitlistEntry.objects.filter(program=entry.program_id, status=WaitlistEntry.Status.WAITING).filter(
        Q(priority_class__lt=entry.priority_class)
        | Q(priority_class=entry.priority_class, late__lt=entry.late)
        | Q(priority_class=entry.priority_class, late=entry.late, number__lt=entry.number)
    )
    return ahead.count() + 1
