"""The daily deadline check (DOMAIN §4): nothing may become a deemed denial unnoticed,
and no denial may go out without its notice.

Safe to run any number of times: reminders are recorded per packet and threshold,
escalations and alerts are keyed emails (the outbox refuses a second copy), and state
changes check the current status. A check that did not run for days catches up on each
missed day. Every query reads open packets through the open_permits_by_due_date index,
so the cost follows the number of open packets near their due date, not the table size.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import get_template
from django.utils import timezone, translation

from applicants.models import User
from outbox.emails import queue_email
from outbox.models import OutboxEmail
from permits import clock
from permits.models import Appeal, District, Permit, ProvisionalAttendance
from permits.services import abandon_permit, lapse_continuation, mark_continuation_reminded, record_deemed_denials

from .models import DeadlineCheckRun, DeadlineReminder, Role

log = logging.getLogger(__name__)
# Catching up further back than this would only flood inboxes with stale escalations.
MAX_CATCH_UP_DAYS = 31
# Staff emails list this many packets at most, then the count and a link to the queue.
EMAIL_LIST_LIMIT = 100


@dataclass
class CheckSummary:
    days: list[date] = field(default_factory=list)
    reminders: int = 0
    overdue: int = 0
    abandoned: int = 0
    deemed_denials: int = 0
    missing_denial_notices: int = 0
    county_alerts: int = 0
    internal_appeal_alerts: int = 0
    continuation_reminders: int = 0
    lapsed_continuations: int = 0
    provisional_alerts: int = 0
    emails: int = 0
    # Each permit's line of a staff list, rendered once per check (see _lines).
    lines: dict = field(default_factory=dict, repr=False)


def _people(role: str) -> list[User]:
    return list(User.objects.filter(staff_roles__role=role, is_active=True).order_by("pk"))


def _lines(summary: CheckSummary, kind: str, items: list[tuple[Permit, int | None]], language: str) -> list[dict]:
    """The lines of a staff list (templates/emails/lines/<kind>.txt|html), each permit's
    rendered once per check and language however many emails carry it: an unassigned
    permit is in every technician's reminder and every director's."""
    text, html = get_template(f"emails/lines/{kind}.txt"), get_template(f"emails/lines/{kind}.html")
    lines = []
    with translation.override(language):
        for permit, days in items:
            key = (kind, language, permit.pk, days)
            if key not in summary.lines:
                context = {"permit": permit, "days": days, "site_url": settings.SITE_URL}
                summary.lines[key] = {"text": text.render(context).strip(), "html": html.render(context)}
            lines.append(summary.lines[key])
    return lines


def _send(summary: CheckSummary, *, key: str, to: User, template: str, context: dict) -> None:
    if queue_email(key=key, to=to.email, template=template, language=to.language, context=context):
        summary.emails += 1


@transaction.atomic
def run_daily_checks(*, today: date | None = None) -> CheckSummary:
    """Run every deadline check for today and for each day missed since the last run."""
    district = District.current()
    today = today or clock.today()
    run = DeadlineCheckRun.objects.select_for_update().first()  # one run at a time
    if run is None:
        run = DeadlineCheckRun.objects.create(last_day=today - timedelta(days=1))
    first = max(run.last_day + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    summary = CheckSummary(days=[first + timedelta(n) for n in range((today - first).days + 1)])
    directors = _people(Role.DIRECTOR)

    for day in summary.days:
        _remind(summary, district, day, directors)
        _record_deemed_denials(summary, day)
        _escalate_overdue(summary, day, directors)
    _abandon_expired_information_requests(summary, today)
    _continuations(summary, today)
    _check_denial_notices(summary, directors)
    _track_county_appeals(summary, today, directors)
    _track_internal_appeals(summary, today, directors)
    _track_provisional_attendance(summary, today, directors)
    for day in summary.days:
        _digest(summary, day, directors)

    if today > run.last_day:
        run.last_day = today
    run.finished_at = timezone.now()
    run.save()
    log.info("deadline check %s: %s", today, summary)
    return summary


def _start_of(day: date) -> datetime:
    """Midnight of a day in the district's time zone, as an aware moment (a range on
    decided_at uses its index; a __date lookup would read the whole table)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _open_permits():
    return Permit.objects.filter(status__in=Permit.OPEN_STATUSES)


def _remind(summary: CheckSummary, district: District, day: date, directors: list[User]) -> None:
    """Each threshold (10, 5, 2, 1 days before the due date by default) once per packet:
    to the assigned technician, or every technician when unassigned, and the directors.
    A threshold that fell before the packet was even received is skipped."""
    thresholds = sorted(set(district.reminder_days), reverse=True)
    if not thresholds:
        return
    window = _open_permits().filter(due_date__gte=day, due_date__lte=day + timedelta(days=thresholds[0]))
    candidates = list(window.select_related("assigned_to", "student"))
    sent = set(DeadlineReminder.objects.filter(permit__in=candidates).values_list("permit_id", "days_before"))
    technicians = _people(Role.TECHNICIAN)
    new: list[DeadlineReminder] = []
    by_recipient: dict[User, list[tuple[Permit, int]]] = {}
    for permit in candidates:
        received_on = clock.local_date(permit.received_at)
        days_left = (permit.due_date - day).days
        reached = [t for t in thresholds if days_left <= t and permit.due_date - timedelta(t) >= received_on]
        owed = [t for t in reached if (permit.pk, t) not in sent]
        if not owed:
            continue
        new += [DeadlineReminder(permit=permit, days_before=t) for t in owed]
        for person in ([permit.assigned_to] if permit.assigned_to else technicians) + directors:
            by_recipient.setdefault(person, []).append((permit, days_left))
    if not new:
        return
    # One row per threshold: a second run (or a retried one) finds them and sends nothing.
    created = DeadlineReminder.objects.bulk_create(new)
    summary.reminders += len(created)
    batch = min(r.pk for r in created)
    for person, items in by_recipient.items():
        # A long list helps nobody: the first ones by urgency, the count, and the queue.
        first = sorted(items, key=lambda i: i[1])[:EMAIL_LIST_LIMIT]
        _send(
            summary,
            key=f"reminder:{batch}:{person.pk}",
            to=person,
            template="staff_due_soon",
            context={
                "person": person,
                "lines": _lines(summary, "due_soon", first, person.language),
                "total": len(items),
                "today": day,
            },
        )


def _record_deemed_denials(summary: CheckSummary, day: date) -> None:
    """Past the legal due date without a decision: a deemed denial from the day after
    (permits.services.record_deemed_denials)."""
    summary.deemed_denials += record_deemed_denials(today=day)


def _escalate_overdue(summary: CheckSummary, day: date, directors: list[User]) -> None:
    """Past its due date (the district's own target, when tighter) without a decision:
    tell the directors, every day until decided."""
    overdue = _open_permits().filter(due_date__lt=day)
    items = list(overdue.select_related("student", "assigned_to").order_by("due_date", "pk")[:EMAIL_LIST_LIMIT])
    total = overdue.count() if len(items) == EMAIL_LIST_LIMIT else len(items)
    if not items:
        return
    summary.overdue = max(summary.overdue, total)
    for director in directors:
        _send(
            summary,
            key=f"overdue:{day.isoformat()}:{director.pk}",
            to=director,
            template="staff_overdue",
            context={
                "person": director,
                "lines": _lines(summary, "overdue", [(p, None) for p in items], director.language),
                "total": total,
                "day": day,
            },
        )


def _abandon_expired_information_requests(summary: CheckSummary, today: date) -> None:
    expired = Permit.objects.filter(status=Permit.Status.INFO_REQUESTED, info_due_date__lt=today)
    for permit_id in expired.values_list("pk", flat=True):
        if abandon_permit(permit_id=permit_id, today=today):
            summary.abandoned += 1


def _continuations(summary: CheckSummary, today: date) -> None:
    """Continuing years of multi-year permits that the family has not confirmed: one
    reminder from the district's number of days before the school year's confirmation
    date; from the day after it, the year lapses where the district releases the seat
    of an unconfirmed continuation (permits.services; the family is told)."""
    district = District.current()
    waiting = Permit.objects.filter(
        status=Permit.Status.APPROVED,
        continues__isnull=False,
        continuation_confirmed_at__isnull=True,
        school_year__continuation_confirm_by__isnull=False,
    )
    due = waiting.filter(
        continuation_reminded_at__isnull=True,
        school_year__continuation_confirm_by__gte=today,
        school_year__continuation_confirm_by__lte=today + timedelta(days=district.continuation_reminder_days),
    )
    for permit_id in due.values_list("pk", flat=True):
        permit = mark_continuation_reminded(permit_id=permit_id, today=today)
        if permit is None:
            continue
        summary.continuation_reminders += 1
        for guardian in permit.family.guardians.filter(is_active=True):
            email = queue_email(
                key=f"continuation-reminder:{permit.pk}:{guardian.email}",
                to=guardian.email,
                template="permit_continuation_reminder",
                language=guardian.language,
                about=permit,
                context={"permit": permit, "guardian": guardian, "district": district},
            )
            summary.emails += email is not None
    if district.unconfirmed_continuation == District.UnconfirmedContinuation.RELEASE_SEAT:
        for permit_id in waiting.filter(school_year__continuation_confirm_by__lt=today).values_list("pk", flat=True):
            if lapse_continuation(permit_id=permit_id, today=today):
                summary.lapsed_continuations += 1


def _check_denial_notices(summary: CheckSummary, directors: list[User]) -> None:
    """Every final denial's notice must be sent within a day; alert the directors
    once per packet when it was not."""
    notice_sent = OutboxEmail.objects.filter(
        about_type=ContentType.objects.get_for_model(Permit),
        about_id=OuterRef("pk"),
        template="permit_denied",
        status=OutboxEmail.Status.SENT,
    )
    late = (
        Permit.objects.filter(
            status=Permit.Status.DENIED,
            decided_at__lt=timezone.now() - timedelta(days=1),
            decided_at__gte=timezone.now() - timedelta(days=60),
        )
        .filter(~Exists(notice_sent))
        .select_related("student")
    )
    for permit in late:
        summary.missing_denial_notices += 1
        for director in directors:
            _send(
                summary,
                key=f"denial-notice:{permit.pk}:{director.pk}",
                to=director,
                template="staff_denial_notice_missing",
                context={"person": director, "permit": permit},
            )


# A dated item the directors watch: a note this many days before its date, and one each
# day once it has passed.
WATCH_NOTICE_DAYS = 5


def _alert_directors(
    summary: CheckSummary, today: date, directors: list[User], *, items, due: str, key: str, template: str, name: str
) -> int:
    """Alert the directors about each item whose `due` date is near or past: once when
    it comes within WATCH_NOTICE_DAYS, then once a day after it (keyed emails, so a
    second run sends nothing). Returns how many items were alerted on."""
    count = 0
    for item in items.filter(**{f"{due}__lte": today + timedelta(days=WATCH_NOTICE_DAYS)}):
        overdue = getattr(item, due) < today
        stage = "overdue:" + today.isoformat() if overdue else "due-soon"
        count += 1
        for director in directors:
            _send(
                summary,
                key=f"{key}:{item.pk}:{stage}:{director.pk}",
                to=director,
                template=template,
                context={"person": director, name: item, "overdue": overdue, "today": today},
            )
    return count


def _track_county_appeals(summary: CheckSummary, today: date, directors: list[User]) -> None:
    """Pending county appeals, against the county's decision date."""
    appeals = Appeal.objects.filter(level=Appeal.Level.COUNTY, outcome=Appeal.Outcome.PENDING)
    summary.county_alerts += _alert_directors(
        summary,
        today,
        directors,
        items=appeals.select_related("permit__student"),
        due="county_due_date",
        key="county",
        template="staff_county_appeal",
        name="appeal",
    )


def _track_internal_appeals(summary: CheckSummary, today: date, directors: list[User]) -> None:
    """Internal appeals the district must decide by their decision date (for a
    current-year request, inside the legal clock: permits.rights)."""
    appeals = Appeal.objects.filter(level=Appeal.Level.INTERNAL, outcome=Appeal.Outcome.PENDING)
    summary.internal_appeal_alerts += _alert_directors(
        summary,
        today,
        directors,
        items=appeals.select_related("permit__student"),
        due="decision_due_date",
        key="internal-appeal",
        template="staff_internal_appeal",
        name="appeal",
    )


def _track_provisional_attendance(summary: CheckSummary, today: date, directors: list[User]) -> None:
    """Provisional attendances still open (EC 46603: two school months at most),
    against their last day allowed."""
    attendances = ProvisionalAttendance.objects.filter(ended_on__isnull=True)
    summary.provisional_alerts += _alert_directors(
        summary,
        today,
        directors,
        items=attendances.select_related("permit__student", "school"),
        due="ends_by",
        key="provisional",
        template="staff_provisional_attendance",
        name="attendance",
    )


def _digest(summary: CheckSummary, day: date, directors: list[User]) -> None:
    open_permits = _open_permits()
    counts = {
        "open": open_permits.count(),
        "due_soon": open_permits.filter(due_date__gte=day, due_date__lte=day + timedelta(days=5)).count(),
        "overdue": open_permits.filter(due_date__lt=day).count(),
        "denials_to_confirm": open_permits.filter(denial_recommended_at__isnull=False).count(),
        "decided": Permit.objects.filter(
            decided_at__gte=_start_of(day - timedelta(days=1)), decided_at__lt=_start_of(day)
        ).count(),
    }
    for director in directors:
        _send(
            summary,
            key=f"digest:{day.isoformat()}:{director.pk}",
            to=director,
            template="director_digest",
            context={"person": director, "counts": counts, "day": day},
        )
