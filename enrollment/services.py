"""Everything that changes an open-enrollment application, its offers and waitlists.

Each service locks what it changes, checks the rule, saves, and writes one
EnrollmentEvent; after commit a worker does what the event causes (the family's email
and offer letter: enrollment.notices). Seats are counted under the program's row
lock, so two answers at once never give one seat twice.
"""

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from applicants.models import Student, User
from boundaries.services import school_of_residence

from . import lottery, simulation
from .models import (
    CLAIMABLE,
    Application,
    Choice,
    Cycle,
    EnrollmentEvent,
    InfoSession,
    Offer,
    Placement,
    Priority,
    PriorityClaim,
    Program,
    Round,
    SessionSignup,
    Simulation,
    WaitlistEntry,
)
from .signals import event_recorded

E = EnrollmentEvent.Kind
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class EnrollmentError(Exception):
    """A rule the action broke, in words for the person who tried it."""


def record_event(application: Application, kind: str, *, offer=None, actor=None, note: str = "") -> EnrollmentEvent:
    event = EnrollmentEvent.objects.create(application=application, kind=kind, offer=offer, actor=actor, note=note)
    event_recorded.send(sender=EnrollmentEvent, event=event)
    return event


# --- applying ---------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    school_id: int
    kind: str
    evidence: str


def _day(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


def application_window(cycle: Cycle, today: date, application: Application | None = None) -> bool:
    """Whether an application made (or changed) today is late. Raises when none is
    accepted, with the date the family needs: before the window, after the deadline
    (or, where late applications are accepted, for changing an on-time one), or once
    the applications are frozen for the drawing."""
    if today < cycle.applications_open_on:
        raise EnrollmentError(_("Applications open on %(day)s.") % {"day": _day(cycle.applications_open_on)})
    closed = EnrollmentError(_("Applications closed on %(day)s.") % {"day": _day(cycle.applications_close_on)})
    if cycle.rounds.exists():  # frozen for the drawing
        raise closed
    if cycle.is_open_on(today):
        return False
    if cycle.accepts_late_on(today) and (application is None or application.late):
        return True
    raise closed


def _check_choices(cycle: Cycle, student: Student, programs: Sequence[Program]) -> None:
    if not programs:
        raise EnrollmentError(_("Choose at least one school."))
    if len(programs) > cycle.max_choices:
        raise EnrollmentError(_("You may rank at most %(n)d schools.") % {"n": cycle.max_choices})
    if len({p.pk for p in programs}) != len(programs):
        raise EnrollmentError(_("Each school may be ranked only once."))
    for program in programs:
        if program.cycle_id != cycle.pk:
            raise EnrollmentError(_("That program is not part of this year's open enrollment."))
        if program.grade != student.grade:
            raise EnrollmentError(
                _("%(program)s is not offered in %(grade)s, the grade %(student)s will attend.")
                % {"program": program, "grade": student.get_grade_display(), "student": student.legal_first_name}
            )


@transaction.atomic
def submit_application(
    *,
    cycle: Cycle,
    student: Student,
    programs: Sequence[Program],
    claims: Sequence[Claim] = (),
    by: User,
    today: date,
    together_with: Application | None = None,
) -> Application:
    """Apply, or change the application, for one student: the ranked programs, first
    choice first, and the priorities claimed with their evidence. Editable until the
    deadline; a receipt each time."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)  # serialises against the freeze
    application = Application.objects.select_for_update().filter(cycle=cycle, student=student).first()
    late = application_window(cycle, today, application)
    _check_choices(cycle, student, programs)
    chosen_schools = {p.school_id for p in programs}
    for claim in claims:
        if claim.kind not in CLAIMABLE or claim.school_id not in chosen_schools:
            raise EnrollmentError(_("A priority can be claimed only at a school you rank."))
    if len({(c.school_id, c.kind) for c in claims}) != len(claims):
        raise EnrollmentError(_("Claim each priority once per school."))
    if application is not None and application.is_withdrawn:
        application.withdrawn_at = None
    created = application is None
    if created:
        application = Application(cycle=cycle, family=student.family, student=student, submitted_by=by, late=late)
        application.lottery_id = application.public_id
    if together_with is not None:
        if together_with.family_id != student.family_id or together_with.cycle_id != cycle.pk:
            raise EnrollmentError(_("Siblings apply together only within one family."))
        application.lottery_id = together_with.lottery_id
    else:  # applying on its own (again): its own number
        application.lottery_id = application.public_id
    application.residence = student.family.residences.first()
    application.updated_at = timezone.now()
    application.save()

    application.choices.all().delete()
    Choice.objects.bulk_create(
        Choice(application=application, rank=rank, program=program) for rank, program in enumerate(programs, 1)
    )
    _keep_claims(application, claims, programs)
    record_event(application, E.RECEIVED if created else E.UPDATED, actor=by)
    return application


def _keep_claims(application: Application, claims: Sequence[Claim], programs: Sequence[Program]) -> None:
    """The family's claims as now stated (a decided claim whose evidence did not change
    keeps its decision), and residence from the boundary lookup."""
    old = {(c.school_id, c.kind): c for c in application.claims.all()}
    keep = set()
    for claim in claims:
        row = old.get((claim.school_id, claim.kind))
        if row is None or row.evidence != claim.evidence.strip():
            if row is not None:
                row.delete()
            row = PriorityClaim.objects.create(
                application=application, school_id=claim.school_id, kind=claim.kind, evidence=claim.evidence.strip()
            )
        keep.add(row.pk)
    residence_claim = _residence_claim(application, programs)
    if residence_claim is not None:
        keep.add(residence_claim.pk)
    application.claims.exclude(pk__in=keep).delete()


def _residence_claim(application: Application, programs: Sequence[Program]) -> PriorityClaim | None:
    """Residents of a school's attendance area come first there (EC 35160.5(b)). The
    boundary lookup decides; an address it cannot place waits for staff like any claim."""
    residence = application.residence
    if residence is None:
        return None
    finding = school_of_residence(residence, application.student.grade, application.cycle.school_year.name)
    schools = {p.school_id for p in programs}
    if finding.school is not None and finding.school.pk in schools:
        claim, _created = PriorityClaim.objects.update_or_create(
            application=application,
            school=finding.school,
            kind=Priority.RESIDENT,
            defaults={"evidence": finding.rule, "status": PriorityClaim.Status.VERIFIED, "decided_at": timezone.now()},
        )
        return claim
    candidates = [s for s in finding.candidates if s.pk in schools]
    if finding.needs_review and candidates:
        claim, _created = PriorityClaim.objects.get_or_create(
            application=application,
            school=candidates[0],
            kind=Priority.RESIDENT,
            defaults={"evidence": finding.rule},
        )
        return claim
    return None


@transaction.atomic
def withdraw_application(*, application_id: int, by: User) -> Application:
    application = Application.objects.select_for_update().get(pk=application_id)
    if application.cycle.rounds.exists():
        raise EnrollmentError(_("The applications are frozen for the lottery; decline the offer instead."))
    if application.is_withdrawn:
        return application
    application.withdrawn_at = timezone.now()
    application.save(update_fields=["withdrawn_at"])
    record_event(application, E.WITHDRAWN, actor=by)
    return application


@transaction.atomic
def decide_claim(*, claim_id: int, verified: bool, by: User, note: str = "") -> PriorityClaim:
    """Staff verify or reject a claimed priority. A claim without evidence cannot be
    verified: it stays unapplied."""
    claim = PriorityClaim.objects.select_for_update().select_related("application__cycle").get(pk=claim_id)
    if claim.application.cycle.rounds.exists():
        raise EnrollmentError(_("The applications are frozen for the lottery."))
    if verified and not claim.evidence and claim.kind != Priority.RESIDENT:
        raise EnrollmentError(_("A priority without evidence cannot be verified."))
    claim.status = PriorityClaim.Status.VERIFIED if verified else PriorityClaim.Status.REJECTED
    claim.decided_by, claim.decided_at, claim.note = by, timezone.now(), note
    claim.save(update_fields=["status", "decided_by", "decided_at", "note"])
    return claim


# --- tours and information sessions --------------------------------------------------


class AlreadySignedUp(EnrollmentError):
    pass


@transaction.atomic
def sign_up_for_session(*, session_id: int, family, people: int) -> SessionSignup:
    """A family's places at a tour or information session. Counted under the session's
    row lock, so two families at once never take the same last places."""
    session = InfoSession.objects.select_for_update().get(pk=session_id)
    if session.starts_at <= timezone.now():
        raise EnrollmentError(_("This session has already taken place."))
    if SessionSignup.objects.filter(session=session, family=family).exists():
        raise AlreadySignedUp(_("You are already signed up for this session."))
    taken = session.signups.aggregate(n=Coalesce(Sum("people"), 0))["n"]
    if taken + people > session.capacity:
        left = max(session.capacity - taken, 0)
        if not left:
            raise EnrollmentError(_("This session is full."))
        raise EnrollmentError(
            ngettext("Only %(n)d place is left in this session.", "Only %(n)d places are left in this session.", left)
            % {"n": left}
        )
    return SessionSignup.objects.create(session=session, family=family, people=people)


# --- the drawing ------------------------------------------------------------------


@transaction.atomic
def publish_commitment(*, cycle_id: int, commitment: str, today: date) -> Cycle:
    """The SHA-256 of the district's secret, published before the deadline and never
    changed: a district that could change it could choose its seed."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
    commitment = commitment.strip().lower()
    if cycle.commitment:
        raise EnrollmentError(
            _("The commitment was published on %(day)s and cannot change.")
            % {"day": _day(timezone.localdate(cycle.committed_at))}
        )
    if not HEX64.match(commitment):
        raise EnrollmentError(_("A commitment is a SHA-256: 64 hexadecimal characters."))
    if today > cycle.applications_close_on:
        raise EnrollmentError(_("The commitment must be published before the application deadline."))
    cycle.commitment, cycle.committed_at = commitment, timezone.now()
    cycle.save(update_fields=["commitment", "committed_at"])
    return cycle


def _priority_classes(cycle: Cycle, application: Application, programs: list[Program]) -> dict[str, int]:
    best: dict[int, int] = {}
    for claim in application.claims.all():
        if claim.status == PriorityClaim.Status.VERIFIED and claim.kind in cycle.priority_order:
            cls = cycle.class_of(claim.kind)
            best[claim.school_id] = min(best.get(claim.school_id, cls), cls)
    return {p.code: best[p.school_id] for p in programs if p.school_id in best}


def export_records(cycle: Cycle, number: int) -> list[dict]:
    """The frozen applications, pseudonymous: public ids, program codes, priority
    classes, tier, late. No name, no birth date, no address."""
    records: list[dict] = [
        {
            "cycle": cycle.school_year.name,
            "round": number,
            "priority_order": list(cycle.priority_order),
            "lowest_class": cycle.lowest_class,
            "reserve_tiers": sorted(cycle.reserve_tiers),
            "precedence": cycle.reserve_precedence,
        }
    ]
    for program in cycle.programs.all():
        records.append({"program": program.code, "seats": program.seats, "reserved": program.reserved_seats})
    applications = (
        cycle.applications.filter(withdrawn_at__isnull=True)
        .prefetch_related("choices__program", "claims")
        .order_by("public_id")
    )
    for application in applications:
        programs = [c.program for c in application.choices.all()]
        records.append(
            {
                "applicant": application.public_id,
                "lottery_id": application.lottery_id,
                "choices": [p.code for p in programs],
                "priority": _priority_classes(cycle, application, programs),
                "tier": application.tier,
                "late": application.late,
            }
        )
    return records


@transaction.atomic
def freeze_applications(*, cycle_id: int, by: User, today: date) -> Round:
    """At the deadline: the canonical export of the applications and its SHA-256.
    After this, applications and priorities no longer change for the round."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
    if cycle.rounds.exists():
        raise EnrollmentError(_("The applications were already frozen."))
    if today <= cycle.applications_close_on:
        raise EnrollmentError(
            _("Applications are open until %(day)s; they are frozen after the deadline.")
            % {"day": _day(cycle.applications_close_on)}
        )
    if not cycle.commitment:
        raise EnrollmentError(_("Publish the commitment before freezing: the seed depends on it."))
    data = lottery.canonical_export(export_records(cycle, 1))
    return Round.objects.create(
        cycle=cycle,
        number=1,
        export=data.decode("ascii"),
        export_sha256=lottery.sha256_bytes(data),
        applicant_count=data.count(b'"applicant":'),
        frozen_by=by,
    )


DIGITS = re.compile(r"^[0-9]{1,50}$")


@transaction.atomic
def run_lottery(*, round_id: int, secret: str, digits: str, observers: str, by: User) -> Round:
    """The official run, once: the revealed secret must match the commitment, the export
    must be the frozen one; the seed, the numbers and the result follow from them alone."""
    drawing = Round.objects.select_for_update().select_related("cycle").get(pk=round_id)
    cycle = drawing.cycle
    if drawing.has_run:
        raise EnrollmentError(
            _("This lottery was already run on %(day)s.") % {"day": _day(timezone.localdate(drawing.ran_at))}
        )
    secret, digits = secret.strip(), digits.strip()
    if lottery.commitment_of(secret) != cycle.commitment:
        raise EnrollmentError(_("That secret does not match the published commitment."))
    if not DIGITS.match(digits):
        raise EnrollmentError(_("The publicly drawn digits are numbers only, 1 to 50 of them."))
    export = drawing.export.encode("ascii")
    if lottery.sha256_bytes(export) != drawing.export_sha256:
        raise EnrollmentError(_("The export differs from the one frozen; the lottery is refused."))
    seed = lottery.seed_of(secret, digits, drawing.export_sha256)
    derived = lottery.derive(export, seed)
    drawing.secret, drawing.public_digits, drawing.seed = secret, digits, seed
    drawing.code_version = lottery.code_version()
    drawing.result = derived.result_lines.decode("ascii")
    drawing.result_sha256 = derived.result_sha256
    drawing.ran_at, drawing.ran_by, drawing.observers = timezone.now(), by, observers.strip()
    drawing.save()
    _record_result(drawing, derived)
    return drawing


def _record_result(drawing: Round, derived: lottery.Derived) -> None:
    cycle = drawing.cycle
    programs = {p.code: p for p in cycle.programs.all()}
    applications = {a.public_id: a for a in cycle.applications.filter(public_id__in=derived.numbers)}
    placements, offers, entries = [], [], []
    for aid, number in derived.numbers.items():
        application = applications[aid]
        classes = derived.result.classes[aid]
        placements.append(Placement(round=drawing, application=application, number=number, classes=classes))
        placed = derived.result.placed[aid]
        if placed is not None:
            offers.append(
                Offer(
                    application=application,
                    program=programs[placed],
                    kind=Offer.Kind.LOTTERY,
                    respond_by=cycle.offer_deadline,
                )
            )
    for pid, waiting in derived.result.waitlists.items():
        for aid in waiting:
            application = applications[aid]
            entries.append(
                WaitlistEntry(
                    application=application,
                    program=programs[pid],
                    priority_class=derived.result.classes[aid][pid],
                    late=application.late,
                    number=derived.numbers[aid],
                )
            )
    Placement.objects.bulk_create(placements, batch_size=1000)
    Offer.objects.bulk_create(offers, batch_size=1000)
    WaitlistEntry.objects.bulk_create(entries, batch_size=1000)


def run_simulation(*, round_id: int, runs: int, by: User) -> Simulation:
    """Trial runs on the frozen export, before the drawing, with seeds that can never be
    the official one (enrollment.simulation); kept with their salt, which with the export
    repeats the same trial seeds."""
    drawing = Round.objects.get(pk=round_id)
    if drawing.has_run:
        raise EnrollmentError(_("The lottery has run: trial runs are for before the drawing."))
    summary = simulation.simulate(drawing.export.encode("ascii"), runs, salt=secrets.token_hex(8))
    return Simulation.objects.create(round=drawing, runs=runs, summary=summary, created_by=by)


@transaction.atomic
def publish_results(*, round_id: int, by: User) -> int:
    """Tell every family its result: one event per application, written in one short
    transaction; the workers render the letters and queue the emails afterwards."""
    drawing = Round.objects.select_for_update().get(pk=round_id)
    if not drawing.has_run:
        raise EnrollmentError(_("Run the lottery before publishing its results."))
    if drawing.published_at is not None:
        raise EnrollmentError(_("These results were already published."))
    drawing.published_at = timezone.now()
    drawing.save(update_fields=["published_at"])
    live = {
        o.application_id: o
        for o in Offer.objects.filter(application__cycle=drawing.cycle_id, status=Offer.Status.OFFERED)
    }
    events = [
        EnrollmentEvent(
            application_id=p.application_id,
            kind=E.OFFERED if p.application_id in live else E.NOT_PLACED,
            offer=live.get(p.application_id),
            actor=by,
        )
        for p in drawing.placements.all()
    ]
    EnrollmentEvent.objects.bulk_create(events, batch_size=1000)
    for event in events:
        event_recorded.send(sender=EnrollmentEvent, event=event)
    return len(events)


# --- offers and waitlists ---------------------------------------------------------


def _lock_application(application_id: int) -> Application:
    # One family's answers are serialised on its application's row.
    return Application.objects.select_for_update().select_related("cycle").get(pk=application_id)


def _ranks(application: Application) -> dict[int, int]:
    return dict(application.choices.values_list("program_id", "rank"))


def _free_seat(program_id: int, today: date) -> None:
    transaction.on_commit(lambda: fill_from_waitlist(program_id=program_id, today=today))


@transaction.atomic
def accept_offer(*, offer_id: int, by: User, today: date) -> Offer:
    """Accept: the seat is the student's; the student stays on the waitlists of higher
    choices only, and a seat held at a lower choice is given up for the next in line."""
    offer = Offer.objects.select_related("application").get(pk=offer_id)
    application = _lock_application(offer.application_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    if offer.status != Offer.Status.OFFERED:
        raise EnrollmentError(_("This offer was already answered."))
    if today > offer.respond_by:
        raise EnrollmentError(_("The answer was due by %(day)s.") % {"day": _day(offer.respond_by)})
    offer.status, offer.answered_at, offer.answered_by = Offer.Status.ACCEPTED, timezone.now(), by
    offer.save(update_fields=["status", "answered_at", "answered_by"])
    ranks = _ranks(application)
    rank = ranks[offer.program_id]
    lower = [p for p, r in ranks.items() if r > rank]
    for held in application.offers.select_for_update().filter(status__in=Offer.LIVE, program__in=lower):
        held.status, held.answered_at = Offer.Status.RELEASED, timezone.now()
        held.save(update_fields=["status", "answered_at"])
        _free_seat(held.program_id, today)
    application.waitlist_entries.filter(program__in=lower + [offer.program_id]).exclude(
        status=WaitlistEntry.Status.LEFT
    ).update(status=WaitlistEntry.Status.LEFT, left_at=timezone.now())
    record_event(application, E.ACCEPTED, offer=offer, actor=by)
    return offer


@transaction.atomic
def decline_offer(*, offer_id: int, by: User | None, today: date, expired: bool = False) -> Offer:
    """Decline (or, from the daily check, let lapse) an offer: the seat goes to the next
    on the waitlist. The student stays on the waitlists of higher choices."""
    offer = Offer.objects.get(pk=offer_id)
    application = _lock_application(offer.application_id)
    offer = Offer.objects.select_for_update().get(pk=offer_id)
    allowed = (Offer.Status.OFFERED,) if expired else Offer.LIVE
    if offer.status not in allowed:
        raise EnrollmentError(_("This offer was already answered."))
    offer.status = Offer.Status.EXPIRED if expired else Offer.Status.DECLINED
    offer.answered_at, offer.answered_by = timezone.now(), by
    offer.save(update_fields=["status", "answered_at", "answered_by"])
    application.waitlist_entries.filter(program=offer.program_id).update(
        status=WaitlistEntry.Status.LEFT, left_at=timezone.now()
    )
    record_event(application, E.EXPIRED if expired else E.DECLINED, offer=offer, actor=by)
    _free_seat(offer.program_id, today)
    return offer


def expire_offers(*, today: date) -> int:
    """The daily check: an offer not answered by its date is declined, the family is
    told, and the seat is offered on. One transaction per offer."""
    expired = 0
    late = Offer.objects.filter(status=Offer.Status.OFFERED, respond_by__lt=today).values_list("pk", flat=True)
    for offer_id in list(late):
        try:
            decline_offer(offer_id=offer_id, by=None, today=today, expired=True)
            expired += 1
        except EnrollmentError:
            continue  # answered meanwhile
    return expired


def seats_taken(program: Program) -> int:
    return program.offers.filter(status__in=Offer.LIVE).count()


@transaction.atomic
def fill_from_waitlist(*, program_id: int, today: date) -> list[Offer]:
    """Offer each free seat of a program to the next on its waitlist, in (priority, late,
    lottery number) order: never first come, first served."""
    program = Program.objects.select_for_update().select_related("cycle").get(pk=program_id)
    if not program.cycle.rounds.filter(published_at__isnull=False).exists():
        return []
    made = []
    free = program.seats - seats_taken(program)
    while free > 0:
        entry = (
            program.waitlist.select_for_update()
            .filter(status=WaitlistEntry.Status.WAITING)
            .order_by("priority_class", "late", "number")
            .first()
        )
        if entry is None:
            break
        entry.status = WaitlistEntry.Status.OFFERED
        entry.save(update_fields=["status"])
        offer = Offer.objects.create(
            application_id=entry.application_id,
            program=program,
            kind=Offer.Kind.WAITLIST,
            respond_by=today + timedelta(days=program.cycle.waitlist_answer_days),
        )
        record_event(entry.application, E.WAITLIST_OFFER, offer=offer)
        made.append(offer)
        free -= 1
    return made
