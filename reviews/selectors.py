"""Reads for the staff side: the queue, the review page, seats and reports."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from boundaries.lookup import Finding
from boundaries.models import ResidenceReview
from boundaries.services import open_reviews, school_of_residence
from permits.models import Appeal, Permit, PermitKind, SeatAllocation

from .access import StaffScope

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilters:
    kind: str = ""
    status: str = ""
    school: int | None = None
    grade: int | None = None
    school_year: int | None = None
    year_type: str = ""
    assigned: str = ""  # "me" or "none"
    release_pending: bool = False
    priority: str = ""  # "bullying" or "military"
    q: str = ""
    denial_recommended: bool = False  # a technician's recommendation awaits the director


@dataclass
class QueuePage:
    permits: list[Permit]
    next_cursor: str | None


def encode_cursor(permit: Permit) -> str:
    return f"{permit.due_date.isoformat()}_{permit.pk}"


def decode_cursor(cursor: str) -> tuple[date, int] | None:
    try:
        due, pk = cursor.split("_", 1)
        return date.fromisoformat(due), int(pk)
    except (ValueError, TypeError):
        return None


def queue(scope: StaffScope, filters: QueueFilters, *, user, after: str = "", size: int = PAGE_SIZE) -> QueuePage:
    """Packets that need action, by legal due date then id, one page at a time.

    Keyset ("seek") pagination: the page after (due, id) is found through the
    open_permits_by_due_date index however deep it is, and the page is one query.
    """
    permits = scope.permits(
        Permit.objects.select_related("student", "requested_school", "school_year", "assigned_to", "reason")
    )
    # Only submitted packets have a due date; drafts withdrawn unsent are no staff matter.
    permits = _filtered(permits, filters, user=user).filter(due_date__isnull=False)
    if after and (cursor := decode_cursor(after)):
        permits = permits.filter(_after(*cursor))
    rows = list(permits.order_by("due_date", "pk")[: size + 1])
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else None
    return QueuePage(rows[:size], next_cursor)


def _after(due: date, pk: int) -> RawSQL:
    """The permits after (due, pk) in queue order, as a row comparison: PostgreSQL seeks
    into open_permits_by_due_date with it and reads the next page in index order. The
    equivalent OR of two ranges let it misjudge how many open permits lie beyond (they
    crowd the coming months) and sort all of them: 190 ms instead of 2 ms deep in a
    queue of 150,000 open permits."""
    table = Permit._meta.db_table
    return RawSQL(f'("{table}"."due_date", "{table}"."id") > (%s, %s)', (due, pk), output_field=BooleanField())


def _filtered(permits: QuerySet[Permit], f: QueueFilters, *, user) -> QuerySet[Permit]:
    permits = permits.filter(status=f.status) if f.status else permits.filter(status__in=Permit.OPEN_STATUSES)
    if f.kind:
        permits = permits.filter(kind=f.kind)
    if f.school:
        permits = permits.filter(Q(requested_school=f.school) | Q(placed_school=f.school))
    if f.grade is not None:
        permits = permits.filter(grade=f.grade)
    if f.school_year:
        permits = permits.filter(school_year=f.school_year)
    if f.year_type:
        permits = permits.filter(year_type=f.year_type)
    if f.assigned == "me":
        permits = permits.filter(assigned_to=user)
    elif f.assigned == "none":
        permits = permits.filter(assigned_to__isnull=True)
    if f.release_pending:
        permits = permits.filter(release_pending=True)
    if f.denial_recommended:
        permits = permits.filter(denial_recommended_at__isnull=False)
    if f.priority == "bullying":
        permits = permits.filter(Q(bullying_victim=True) | Q(reason__priority_group="bullying"))
    elif f.priority == "military":
        permits = permits.filter(Q(military_family=True) | Q(reason__priority_group="military"))
    if f.q:
        term = f.q.strip()
        permits = permits.filter(
            Q(reference__iexact=term)
            | Q(student__legal_last_name__icontains=term)
            | Q(student__legal_first_name__icontains=term)
        )
    return permits


def pending_internal_appeals(scope: StaffScope) -> list[Appeal]:
    """Internal appeals the district has to decide, by their decision date: the queue
    lists them above the packets, like any due date."""
    return list(
        Appeal.objects.filter(
            level=Appeal.Level.INTERNAL,
            outcome=Appeal.Outcome.PENDING,
            permit__in=scope.permits(Permit.objects.filter(status=Permit.Status.DENIED)),
        )
        .select_related("permit__student")
        .order_by("decision_due_date", "pk")
    )


@dataclass
class Seats:
    capacity: int
    approved: int
    pending: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.approved, 0)


def seats_for(school, school_year, grade) -> Seats | None:
    """The permit seats of a school in one grade: offered, taken, asked for. Two counts,
    each served by its own partial index (approved_permits_by_seat and
    open_permits_by_requested_seat), rather than one scan of the year's permits."""
    if school is None:
        return None
    allocation = SeatAllocation.objects.filter(school=school, school_year=school_year, grade=grade).first()
    same_seat = Permit.objects.filter(school_year=school_year, grade=grade)
    approved = same_seat.filter(status=Permit.Status.APPROVED, placed_school=school).count()
    pending = same_seat.filter(status__in=Permit.OPEN_STATUSES, requested_school=school).count()
    return Seats(allocation.capacity if allocation else 0, approved, pending)


def related_packets(permit: Permit, scope: StaffScope) -> list[Permit]:
    """Other packets of the same student and of siblings (the same family), those the
    user's scope covers: a sibling's packet at another school is not a site
    administrator's to see."""
    return list(
        scope.permits(Permit.objects.filter(family=permit.family_id))
        .exclude(pk=permit.pk)
        .exclude(status=Permit.Status.DRAFT)
        .select_related("student", "school_year")
        .order_by("-created_at")
    )


# --- Addresses the boundary lookup could not place ------------------------------------


@dataclass
class ReviewPage:
    reviews: list[ResidenceReview]
    next_cursor: str | None


def _moment_cursor(moment: datetime, pk: int) -> str:
    # In UTC and digits only: nothing in it needs escaping in a link.
    return f"{moment.astimezone(UTC):%Y%m%d%H%M%S%f}_{pk}"


def _decode_moment_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        moment, pk = cursor.split("_", 1)
        return datetime.strptime(moment, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC), int(pk)
    except (ValueError, TypeError):
        return None


def residence_reviews(*, decided: bool, after: str = "", size: int = PAGE_SIZE) -> ReviewPage:
    """Addresses waiting for a school of residence, oldest first; or, with `decided`,
    the staff's decisions, most recent first (who, when, why), for an office's audit.

    Keyset pages like the queue's, each a constant number of queries: the reviews with
    their family, then the families' guardians and the candidate schools."""
    if decided:
        reviews = ResidenceReview.objects.filter(decided_at__isnull=False).select_related(
            "residence__family", "school", "decided_by"
        )
        field, order = "decided_at", ("-decided_at", "-pk")
    else:
        reviews = open_reviews().prefetch_related("candidates")
        field, order = "opened_at", ("opened_at", "pk")
    if after and (cursor := _decode_moment_cursor(after)):
        moment, pk = cursor
        if decided:
            reviews = reviews.filter(Q(decided_at__lt=moment) | Q(decided_at=moment, pk__lt=pk))
        else:
            reviews = reviews.filter(Q(opened_at__gt=moment) | Q(opened_at=moment, pk__gt=pk))
    rows = list(reviews.prefetch_related("residence__family__guardians").order_by(*order)[: size + 1])
    last = rows[size - 1] if len(rows) > size else None
    return ReviewPage(rows[:size], _moment_cursor(getattr(last, field), last.pk) if last else None)


def packets_at(scope: StaffScope, residence_ids: list[int]) -> dict[int, list[Permit]]:
    """The submitted packets of each address (the permits whose residence it is), in
    one query: the packets a staff decision on that address bears on."""
    packets: dict[int, list[Permit]] = defaultdict(list)
    if not residence_ids:
        return packets
    rows = (
        scope.permits(Permit.objects.filter(residence__in=residence_ids))
        .exclude(status=Permit.Status.DRAFT)
        .select_related("student", "school_year")
        .order_by("-created_at", "-pk")
    )
    for permit in rows:
        packets[permit.residence_id].append(permit)
    return packets


@dataclass(frozen=True)
class ResidenceCheck:
    """The review page's "School of residence": what the boundaries say for the address
    the packet was submitted from (None for a packet older than recorded addresses)."""

    finding: Finding | None
    # An intra-district packet whose family named another school than the boundaries do.
    differs: bool = False
    # Staff must name the school (Permit.residence_needs_review, as submission decides).
    needs_review: bool = False


def residence_check(permit: Permit) -> ResidenceCheck:
    """The lookup for the packet's address and grade; at most two queries (the imports
    in force, and the staff decision where the address needed review)."""
    if permit.residence is None:
        return ResidenceCheck(None)
    finding = school_of_residence(permit.residence, permit.grade, permit.school_year.name)
    differs = (
        permit.kind == PermitKind.INTRA
        and finding.school is not None
        and permit.school_of_residence_id is not None
        and finding.school.pk != permit.school_of_residence_id
    )
    return ResidenceCheck(finding, differs, permit.residence_needs_review(finding))
