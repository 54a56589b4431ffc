"""What each permit event causes. One table, EFFECTS: open it to see what an approval
(or any other event) sends.

The services in `permits` only write the event. After their transaction commits, a
worker runs `handle_event`: it issues and renders the event's letter, then queues
the family's emails carrying it, and marks the event done (`notified_at`). It is
safe to run twice, and the sweeper (`tasks.sweep_events_task`) runs it again for any
event a lost message left undone, so a broker outage delays a letter but loses none.
Nothing here runs while the decision's rows are locked.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from outbox.emails import queue_email
from permits.models import Appeal, Letter, Permit, PermitEvent, PermitKind
from permits.services import ENDS_WITH_REVOKED_YEAR

from .context import event_context
from .letters import issue_letter, render_letter

S = Permit.Status
K = PermitEvent.Kind


def _approval_letter(event: PermitEvent) -> str:
    return {
        PermitKind.INTER_IN: Letter.Kind.ACCEPTANCE,
        PermitKind.INTER_OUT: Letter.Kind.RELEASE,
        PermitKind.INTRA: Letter.Kind.PLACEMENT,
    }[event.permit.kind]


def _final_denial_letter(event: PermitEvent) -> str | None:
    """The panel upheld the denial: the final denial, a letter of its own from which
    the county's 30 days count (permits.rights). A county's decision has its own."""
    return Letter.Kind.FINAL_DENIAL if event.note == Appeal.Outcome.UPHELD else None


def _refused_appeal(event: PermitEvent) -> dict | None:
    """An appeal that upheld the denial is told by its own email; an overturned or
    granted one approves the permit, whose approval is the news."""
    level, _, outcome = event.note.rpartition(" ")
    if outcome not in (Appeal.Outcome.UPHELD, Appeal.Outcome.DENIED):
        return None
    return {"appeal": event.permit.appeals.get(level=level or Appeal.Level.INTERNAL)}


@dataclass(frozen=True)
class Effect:
    """What one kind of event causes for the family."""

    email: str  # the template triplet templates/emails/<email>-*.txt|html
    letter: Callable[[PermitEvent], str | None] | str | None = None  # the Letter.Kind it issues
    # Extra context, or None when this particular event sends nothing.
    context: Callable[[PermitEvent], dict | None] = field(default=lambda event: {})
    # Who is emailed: the family's active guardians, or the staff member the packet
    # is assigned to (nobody while unassigned: the queue shows it to whoever claims it).
    audience: str = "family"

    def letter_kind(self, event: PermitEvent) -> str | None:
        return self.letter(event) if callable(self.letter) else self.letter


# (event kind, new status) -> effect. Events not listed cause nothing.
EFFECTS: dict[tuple[str, str], Effect] = {
    (K.STATUS, S.SUBMITTED): Effect("permit_received"),
    (K.STATUS, S.INFO_REQUESTED): Effect("permit_info_requested", letter=Letter.Kind.INFORMATION_REQUEST),
    (K.STATUS, S.APPROVED): Effect("permit_approved", letter=_approval_letter),
    (K.STATUS, S.DENIED): Effect("permit_denied", letter=Letter.Kind.DENIAL),
    # A later year of the term ending with the revoked one: that year's letter says it all.
    (K.STATUS, S.REVOKED): Effect(
        "permit_revoked",
        letter=Letter.Kind.REVOCATION,
        context=lambda e: None if e.note.startswith(ENDS_WITH_REVOKED_YEAR) else {},
    ),
    (K.STATUS, S.ABANDONED): Effect("permit_abandoned", letter=Letter.Kind.ABANDONMENT),
    (K.STATUS, S.VOIDED): Effect("permit_voided"),
    # A draft that was never submitted is nobody's business but the family's.
    (K.STATUS, S.WITHDRAWN): Effect("permit_withdrawn", context=lambda e: None if e.old_status == S.DRAFT else {}),
    (K.APPEAL_DECIDED, ""): Effect("appeal_decided", letter=_final_denial_letter, context=_refused_appeal),
    (K.DEEMED_DENIED, ""): Effect("permit_deemed_denied"),
    (K.RELEASE_RECEIVED, ""): Effect("staff_release_received", audience="assignee"),
    # A continuing year of a multi-year permit, created approved by the spring
    # rollover: the family confirms the student returns (the term's letter stands).
    (K.CREATED, S.APPROVED): Effect("permit_continuation"),
}


def effect_of(event: PermitEvent) -> Effect | None:
    return EFFECTS.get((event.kind, event.new_status))


def handle_event(event_id: int) -> int:
    """Do what one event causes, once: its letter issued and rendered, then one email
    per recipient (Effect.audience) in their language with the letter attached. Returns
    the number of emails queued (0 when done before or nothing is owed). Raises
    whatever rendering raises; the event then stays pending for a retry."""
    event = PermitEvent.objects.select_related(
        "permit__family",
        "permit__student",
        "permit__school_year",
        "permit__placed_school",
        "permit__requested_school",
        "permit__assigned_to",
    ).get(pk=event_id)
    if event.notified_at is not None:
        return 0
    effect = effect_of(event)
    extra = effect.context(event) if effect else None
    letter = None
    if effect and extra is not None and (kind := effect.letter_kind(event)):
        # Committed on its own: a retry after a failed email finds the letter rendered.
        letter = render_letter(issue_letter(event=event, kind=kind).pk)
    queued = 0
    with transaction.atomic():
        locked = PermitEvent.objects.select_for_update().get(pk=event_id)
        if locked.notified_at is not None:
            return 0  # another worker finished it while this one rendered
        if effect and extra is not None:
            queued = _email(event, effect, {**event_context(event), **extra}, letter)
        locked.notified_at = timezone.now()
        locked.save(update_fields=["notified_at"])
    return queued


def _recipients(event: PermitEvent, effect: Effect) -> list:
    if effect.audience == "assignee":
        assignee = event.permit.assigned_to
        return [assignee] if assignee is not None and assignee.is_active else []
    return list(event.permit.family.guardians.filter(is_active=True))


def _email(event: PermitEvent, effect: Effect, context: dict, letter: Letter | None) -> int:
    queued = 0
    for person in _recipients(event, effect):
        email = queue_email(
            key=f"event:{event.pk}:{person.email}:{effect.email}",
            to=person.email,
            template=effect.email,
            language=person.language,
            about=event.permit,
            attachment=letter.pdf.name if letter else "",
            attachment_name=letter.filename if letter else "",
            # The family's templates greet the "guardian", the staff's the "person".
            context={**context, "guardian": person, "person": person},
        )
        queued += email is not None
    return queued
