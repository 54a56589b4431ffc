"""The director's reports (DOMAIN §6): outcomes per school year and kind, days to
decision, the share decided in time, appeals and seats. Each figure is one grouped
query, whatever the number of packets."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncDate

from permits.models import Appeal, Permit, PermitKind, ProvisionalAttendance, SeatAllocation

S = Permit.Status
OUTCOMES = [
    ("received", ~Q(status=S.DRAFT)),
    ("approved", Q(status=S.APPROVED)),
    ("denied", Q(status=S.DENIED)),
    ("voided", Q(status=S.VOIDED)),
    ("withdrawn", Q(status=S.WITHDRAWN)),
    ("abandoned", Q(status=S.ABANDONED)),
    ("revoked", Q(status=S.REVOKED)),
    ("pending", Q(status__in=Permit.OPEN_STATUSES)),
]


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    template = "EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0"
    arg_joiner = " - "
    output_field = FloatField()


@dataclass
class Row:
    school_year: str
    kind: str
    counts: dict[str, int]
    median_days: float | None
    decided: int
    decided_in_time: int
    appeals_filed: int = 0
    appeals_granted: int = 0

    @property
    def share_in_time(self) -> float | None:
        return self.decided_in_time / self.decided if self.decided else None


@dataclass
class Report:
    rows: list[Row]
    seats: list[dict] = field(default_factory=list)


def build(*, school_year_id: int | None = None) -> Report:
    permits = Permit.objects.all()
    if school_year_id:
        permits = permits.filter(school_year_id=school_year_id)
    decided = Q(decided_at__isnull=False, received_at__isnull=False)
    grouped = (
        permits.alias(decided_on=TruncDate("decided_at"))
        .values("school_year__name", "kind")
        .annotate(
            **{name: Count("pk", filter=condition) for name, condition in OUTCOMES},
            decided=Count("pk", filter=decided),
            # Decided on or before the legal due date, on the district's calendar.
            decided_in_time=Count("pk", filter=decided & Q(decided_on__lte=F("legal_due_date"))),
            median_days=Median(DaysBetween(F("decided_at"), F("received_at")), filter=decided),
        )
        .order_by("-school_year__name", "kind")
    )
    appeals = {
        (a["permit__school_year__name"], a["permit__kind"]): a
        for a in Appeal.objects.values("permit__school_year__name", "permit__kind").annotate(
            filed=Count("pk"),
            granted=Count("pk", filter=Q(outcome__in=[Appeal.Outcome.OVERTURNED, Appeal.Outcome.GRANTED])),
        )
    }
    kinds = dict(PermitKind.choices)
    rows = []
    for g in grouped:
        a = appeals.get((g["school_year__name"], g["kind"]), {})
        rows.append(
            Row(
                school_year=g["school_year__name"],
                kind=str(kinds[g["kind"]]),
                counts={name: g[name] for name, _ in OUTCOMES},
                median_days=round(g["median_days"], 1) if g["median_days"] is not None else None,
                decided=g["decided"],
                decided_in_time=g["decided_in_time"],
                appeals_filed=a.get("filed", 0),
                appeals_granted=a.get("granted", 0),
            )
        )
    return Report(rows=rows, seats=_seats(school_year_id))


def _seats(school_year_id) -> list[dict]:
    allocations = SeatAllocation.objects.select_related("school", "school_year")
    if school_year_id:
        allocations = allocations.filter(school_year_id=school_year_id)
    approved = {
        (p["placed_school"], p["school_year"], p["grade"]): p["n"]
        for p in Permit.objects.filter(status=S.APPROVED, placed_school__isnull=False)
        .values("placed_school", "school_year", "grade")
        .annotate(n=Count("pk"))
    }
    return [
        {
            "school_year": a.school_year.name,
            "school": a.school.name,
            "grade": a.get_grade_display(),
            "capacity": a.capacity,
            "approved": approved.get((a.school_id, a.school_year_id, a.grade), 0),
        }
        for a in allocations.order_by("-school_year__first_day_of_instruction", "school__name", "grade")
    ]


def csv_rows(report: Report):
    yield [
        "school_year",
        "kind",
        *[name for name, _ in OUTCOMES],
        "median_days_to_decision",
        "decided",
        "decided_by_legal_due_date",
        "share_in_time",
        "appeals_filed",
        "appeals_granted",
    ]
    for r in report.rows:
        share = f"{r.share_in_time:.3f}" if r.share_in_time is not None else ""
        yield [
            r.school_year,
            r.kind,
            *r.counts.values(),
            r.median_days if r.median_days is not None else "",
            r.decided,
            r.decided_in_time,
            share,
            r.appeals_filed,
            r.appeals_granted,
        ]
    yield []
    yield ["school_year", "school", "grade", "seats", "approved"]
    for s in report.seats:
        yield [s["school_year"], s["school"], s["grade"], s["capacity"], s["approved"]]


@dataclass
class Compliance:
    buckets: dict[str, int]
    overdue: list[Permit]
    decided: int
    decided_in_time: int
    since: date

    @property
    def share_in_time(self) -> float | None:
        return self.decided_in_time / self.decided if self.decided else None


def compliance(today) -> Compliance:
    """Open requests by days to their due date, the overdue ones, and the share of this
    school year's decisions (since July 1) made by the legal due date."""
    open_permits = Permit.objects.filter(status__in=Permit.OPEN_STATUSES)
    d = lambda n: today + timedelta(days=n)  # noqa: E731
    buckets = open_permits.aggregate(
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        within_5=Count("pk", filter=Q(due_date__gte=today, due_date__lte=d(5))),
        within_10=Count("pk", filter=Q(due_date__gt=d(5), due_date__lte=d(10))),
        within_30=Count("pk", filter=Q(due_date__gt=d(10), due_date__lte=d(30))),
        later=Count("pk", filter=Q(due_date__gt=d(30))),
    )
    since = date(today.year if today.month >= 7 else today.year - 1, 7, 1)
    decided = (
        Permit.objects.filter(decided_at__date__gte=since, received_at__isnull=False)
        .alias(decided_on=TruncDate("decided_at"))
        .aggregate(
            decided=Count("pk"),
            in_time=Count("pk", filter=Q(decided_on__lte=F("legal_due_date"))),
        )
    )
    overdue = list(
        open_permits.filter(due_date__lt=today)
        .select_related("student", "assigned_to")
        .order_by("due_date", "pk")[:200]
    )
    return Compliance(buckets, overdue, decided["decided"], decided["in_time"], since)


def open_provisional_attendances() -> list[ProvisionalAttendance]:
    """Pupils attending provisionally now (EC 46603), the nearest limit first."""
    attendances = ProvisionalAttendance.objects.filter(ended_on__isnull=True)
    return list(attendances.select_related("permit__student", "school").order_by("ends_by", "pk")[:200])
