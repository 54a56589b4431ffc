"""Open-enrollment reports for the district and the board (DOMAIN §8): per program,
the demand by rank, the offers and their answers, the waitlist and the cutoff; how
many students were placed at which choice; this year's figures beside the plan's
baselines; and, where the cycle sets an integration band, each school's share of
reserved-tier pupils among its offers.

The lottery's own figures (cutoffs, placement shares) are read from the run's
recorded export and result, so they are the published drawing's, whatever moved on
the waitlists since. Counts of answers are today's. A constant number of queries,
whatever the number of applicants.
"""

import json
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from . import lottery
from .models import Choice, Cycle, Offer, Priority, Program, Round, WaitlistEntry

# The district's plan: the first lottery had 1,750 applicants, the second 494; with
# the integration band, 14 schools met it and 14 did not.
BASELINE_APPLICANTS = {1: 1750, 2: 494}
BASELINE_SCHOOLS_IN_BAND = 14
BASELINE_SCHOOLS_OUTSIDE_BAND = 14

OS = Offer.Status


def ordinal(rank: int) -> str:
    names = {1: _("1st choice"), 2: _("2nd choice"), 3: _("3rd choice")}
    return names.get(rank) or _("choice %(rank)d") % {"rank": rank}


@dataclass
class ProgramRow:
    program: Program
    seats: int
    reserved: int
    by_rank: list[int]  # applicants who ranked it 1st, 2nd, ...
    offers: int = 0
    accepted: int = 0
    declined: int = 0  # declined or not answered in time
    released: int = 0  # given up for a higher choice
    pending: int = 0  # waiting for the family's answer
    waiting: int = 0  # on the waitlist now
    oversubscribed: bool | None = None  # None: no drawing yet
    cutoff_class: str = ""  # the priority of the last admitted at the drawing
    cutoff_number: str = ""  # and that student's lottery number

    @property
    def applicants(self) -> int:
        return sum(self.by_rank)


@dataclass
class Shares:
    """How many of a drawing's applicants were placed at which choice."""

    applicants: int
    at_rank: list[int]
    placed: int

    @property
    def unplaced(self) -> int:
        return self.applicants - self.placed

    def share(self, count: int) -> float | None:
        return count / self.applicants if self.applicants else None

    def rows(self) -> list[tuple[str, int, float | None]]:
        rows = [(ordinal(rank), n, self.share(n)) for rank, n in enumerate(self.at_rank, 1)]
        rows.append((_("Any choice"), self.placed, self.share(self.placed)))
        rows.append((_("No offer"), self.unplaced, self.share(self.unplaced)))
        return rows


@dataclass
class Answers:
    """What families did with every offer of the cycle (lottery and waitlist)."""

    offers: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    released: int = 0
    pending: int = 0

    @property
    def answered(self) -> int:
        # Accepted, declined or let lapse: the offers a family decided on.
        return self.accepted + self.declined + self.expired

    @property
    def accept_rate(self) -> float | None:
        return self.accepted / self.answered if self.answered else None

    @property
    def decline_rate(self) -> float | None:
        return (self.declined + self.expired) / self.answered if self.answered else None


@dataclass
class RoundFigures:
    number: int
    applicants: int
    frozen: bool
    baseline: int | None


@dataclass
class SchoolBand:
    school: str
    offers: int
    reserved_tier: int
    meets: bool | None  # None: no offer at the school

    @property
    def share(self) -> float | None:
        return self.reserved_tier / self.offers if self.offers else None


@dataclass
class Report:
    cycle: Cycle
    drawing: Round | None  # the latest drawing that has run
    programs: list[ProgramRow]
    answers: Answers
    rounds: list[RoundFigures]
    shares: Shares | None = None
    band: list[SchoolBand] = field(default_factory=list)
    has_band: bool = False

    @property
    def ranks(self) -> list[str]:
        return [ordinal(rank) for rank in range(1, self.cycle.max_choices + 1)]

    @property
    def schools_in_band(self) -> int:
        return sum(1 for s in self.band if s.meets)

    @property
    def schools_outside_band(self) -> int:
        return sum(1 for s in self.band if s.meets is False)

    baseline_in_band = BASELINE_SCHOOLS_IN_BAND
    baseline_outside_band = BASELINE_SCHOOLS_OUTSIDE_BAND


def priority_label(cycle: Cycle, cls: int) -> str:
    if cls >= cycle.lowest_class:
        return str(_("No priority"))
    return str(Priority(cycle.priority_order[cls]).label)


def build(cycle: Cycle) -> Report:
    programs = list(cycle.programs.select_related("school"))
    ranks = cycle.max_choices
    demand = (
        Choice.objects.filter(program__cycle=cycle, application__withdrawn_at__isnull=True)
        .values_list("program_id", "rank")
        .annotate(n=Count("pk"))
    )
    by_rank: dict[int, list[int]] = {p.pk: [0] * ranks for p in programs}
    for program_id, rank, n in demand:
        if rank <= ranks:
            by_rank[program_id][rank - 1] = n
    rows = {
        p.pk: ProgramRow(program=p, seats=p.seats, reserved=p.reserved_seats, by_rank=by_rank[p.pk]) for p in programs
    }

    answers = Answers()
    offers = Offer.objects.filter(program__cycle=cycle).values_list("program_id", "status").annotate(n=Count("pk"))
    for program_id, status, n in offers:
        row = rows[program_id]
        row.offers += n
        answers.offers += n
        if status == OS.ACCEPTED:
            row.accepted += n
            answers.accepted += n
        elif status in (OS.DECLINED, OS.EXPIRED):
            row.declined += n
            if status == OS.DECLINED:
                answers.declined += n
            else:
                answers.expired += n
        elif status == OS.RELEASED:
            row.released += n
            answers.released += n
        else:
            row.pending += n
            answers.pending += n
    waiting = (
        WaitlistEntry.objects.filter(program__cycle=cycle, status=WaitlistEntry.Status.WAITING)
        .values_list("program_id")
        .annotate(n=Count("pk"))
    )
    for program_id, n in waiting:
        rows[program_id].waiting = n

    drawings = list(cycle.rounds.defer("export", "result").order_by("number"))
    ran = [d for d in drawings if d.has_run]
    drawing = Round.objects.get(pk=ran[-1].pk) if ran else None
    report = Report(
        cycle=cycle,
        drawing=drawing,
        programs=list(rows.values()),
        answers=answers,
        rounds=_rounds(cycle, drawings),
    )
    if drawing is not None:
        report.shares = _from_drawing(cycle, drawing, {p.code: rows[p.pk] for p in programs})
    if cycle.reserve_tiers and cycle.integration_band_low is not None and cycle.integration_band_high is not None:
        report.has_band = True
        report.band = _band(cycle)
    return report


def _rounds(cycle: Cycle, drawings: list[Round]) -> list[RoundFigures]:
    """Applicants per round: the frozen export's count once frozen, else today's."""
    counts = dict(cycle.applications.filter(withdrawn_at__isnull=True).values_list("round").annotate(n=Count("pk")))
    frozen = {d.number: d.applicant_count for d in drawings}
    numbers = sorted(set(BASELINE_APPLICANTS) | set(counts) | set(frozen))
    return [
        RoundFigures(
            number=n,
            applicants=frozen.get(n, counts.get(n, 0)),
            frozen=n in frozen,
            baseline=BASELINE_APPLICANTS.get(n),
        )
        for n in numbers
    ]


def _from_drawing(cycle: Cycle, drawing: Round, rows: dict[str, ProgramRow]) -> Shares:
    """The cutoffs and the placement shares of one run, from its recorded export and result."""
    _settings, _programs, applicants = lottery.read_export(drawing.export.encode("ascii"))
    exported = {a["applicant"]: a for a in applicants}
    last: dict[str, tuple] = {}
    wanted: set[str] = set()
    at_rank = [0] * cycle.max_choices
    placed_count = 0
    for line in drawing.result.splitlines():
        result = json.loads(line)
        wanted.update(result["waitlists"])
        placed = result["placed"]
        if placed is None:
            continue
        placed_count += 1
        applicant = exported[result["applicant"]]
        rank = applicant["choices"].index(placed) + 1
        if rank <= len(at_rank):
            at_rank[rank - 1] += 1
        # The program's order: (priority class, late, lottery number), as matching.py.
        key = (result["classes"][placed], applicant.get("late", False), result["number"])
        if placed not in last or key > last[placed]:
            last[placed] = key
    for code, row in rows.items():
        row.oversubscribed = code in wanted
        if code in last:
            cls, _late, number = last[code]
            row.cutoff_class, row.cutoff_number = priority_label(cycle, cls), number
    return Shares(applicants=len(exported), at_rank=at_rank, placed=placed_count)


def _band(cycle: Cycle) -> list[SchoolBand]:
    """Each school's share of reserved-tier pupils among all its offers (lottery and
    waitlist), against the cycle's band."""
    low, high = cycle.integration_band_low, cycle.integration_band_high
    offers = (
        Offer.objects.filter(program__cycle=cycle)
        .values_list("program__school__name")
        .annotate(n=Count("pk"), reserved=Count("pk", filter=Q(application__tier__in=cycle.reserve_tiers)))
        .order_by("program__school__name")
    )
    schools = dict.fromkeys(cycle.programs.order_by("school__name").values_list("school__name", flat=True).distinct())
    band = {name: SchoolBand(school=name, offers=0, reserved_tier=0, meets=None) for name in schools}
    for name, n, reserved in offers:
        band[name] = SchoolBand(school=name, offers=n, reserved_tier=reserved, meets=low <= 100 * reserved / n <= high)
    return list(band.values())


def percent(share: float | None) -> str:
    return f"{100 * share:.1f}" if share is not None else ""


def csv_rows(report: Report):
    """Per program, then the placement shares, the answers, the rounds beside the
    plan's baselines and the integration band: one table each, a blank line between."""
    ranks = [f"ranked_{n}" for n in range(1, report.cycle.max_choices + 1)]
    yield [
        "school",
        "grade",
        "strand",
        "program",
        "seats",
        "reserved_seats",
        *ranks,
        "applicants",
        "offers",
        "accepted",
        "declined_or_expired",
        "released",
        "answer_pending",
        "waiting",
        "oversubscribed",
        "cutoff_priority",
        "cutoff_lottery_number",
    ]
    for r in report.programs:
        yield [
            r.program.school.name,
            r.program.get_grade_display(),
            r.program.strand_en,
            r.program.code,
            r.seats,
            r.reserved,
            *r.by_rank,
            r.applicants,
            r.offers,
            r.accepted,
            r.declined,
            r.released,
            r.pending,
            r.waiting,
            "" if r.oversubscribed is None else ("yes" if r.oversubscribed else "no"),
            r.cutoff_class,
            r.cutoff_number,
        ]
    yield []
    yield ["placed_at", "students", "percent"]
    if report.shares is not None:
        keys = [f"choice_{n}" for n in range(1, len(report.shares.at_rank) + 1)] + ["any", "none"]
        for key, (_label, n, share) in zip(keys, report.shares.rows(), strict=True):
            yield [key, n, percent(share)]
    yield []
    a = report.answers
    yield ["offers", "accepted", "declined", "expired", "released", "answer_pending", "accept_rate", "decline_rate"]
    yield [
        a.offers,
        a.accepted,
        a.declined,
        a.expired,
        a.released,
        a.pending,
        percent(a.accept_rate),
        percent(a.decline_rate),
    ]
    yield []
    yield ["round", "applicants", "frozen", "baseline_applicants"]
    for r in report.rounds:
        yield [r.number, r.applicants, "yes" if r.frozen else "no", r.baseline if r.baseline is not None else ""]
    if report.has_band:
        yield []
        yield ["school", "offers", "reserved_tier_offers", "percent", "band_low", "band_high", "meets_band"]
        for s in report.band:
            yield [
                s.school,
                s.offers,
                s.reserved_tier,
                percent(s.share),
                report.cycle.integration_band_low,
                report.cycle.integration_band_high,
                "" if s.meets is None else ("yes" if s.meets else "no"),
            ]
        yield ["schools_meeting_band", report.schools_in_band, "baseline", BASELINE_SCHOOLS_IN_BAND]
        yield ["schools_outside_band", report.schools_outside_band, "baseline", BASELINE_SCHOOLS_OUTSIDE_BAND]
