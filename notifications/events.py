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

from .context import event_context
from .letters import issue_letter, render_letter

S = Permit.Status
K = PermitEvent.Kind


def _approval_letter(permit: Permit) -> str:
    return {
        PermitKind.INTER_IN: Letter.Kind.ACCEPTANCE,
        PermitKind.INTER_OUT: Letter.Kind.RELEASE,
        PermitKind.INTRA: Letter.Kind.PLACEMENT,
    }[permit.kind]


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
    letter: Callable[[Permit], str] | str | None = None  # the Letter.Kind it issues
    # Extra context, or None when this particular event sends nothing.
    context: Callable[[PermitEvent], dict | None] = field(default=lambda event: {})

    def letter_kind(self, permit: Permit) -> str | None:
        return self.letter(permit) if callable(self.letter) else self.letter


# (event kind, new status) -> effect. Events not listed cause nothing.
EFFECTS: dict[tuple[str, str], Effect] = {
    (K.STATUS, S.SUBMITTED): Effect("permit_received"),
    (K.STATUS, S.INFO_REQUESTED): Effect("permit_info_requested", letter=Letter.Kind.INFORMATION_REQUEST),
    (K.STATUS, S.APPROVED): Effect("permit_approved", letter=_approval_letter),
    (K.STATUS, S.DENIED): Effect("permit_denied", letter=Letter.Kind.DENIAL),
    (K.STATUS, S.REVOKED): Effect("permit_revoked", letter=Letter.Kind.REVOCATION),
    (K.STATUS, S.ABANDONED): Effect("permit_abandoned", letter=Letter.Kind.ABANDONMENT),
    (K.STATUS, S.VOIDED): Effect("permit_voided"),
    # A draft that was never submitted is nobody's business but the family's.
    (K.STATUS, S.WITHDRAWN): Effect("permit_withdrawn", context=lambda e: None if e.old_status == S.DRAFT else {}),
    (K.APPEAL_DECIDED, ""): Effect("appeal_decided", context=_refused_appeal),
}


def effect_of(event: PermitEvent) -> Effect | None:
    return EFFECTS.get((event.kind, event.new_status))


def handle_event(event_id: int) -> int:
    """Do what one event causes, once: its letter issued and rendered, then one email
    per active guardian in the family's language with the letter attached. Returns
    the number of emails queued (0 when done before or nothing is owed). Raises
    whatever rendering raises; the event then stays pending for a retry."""
    event = PermitEvent.objects.select_related(
        "permit__family", "permit__student", "permit__school_year", "permit__placed_school", "permit__requested_school"
    ).get(pk=event_id)
    if event.notified_at is not None:
        return 0
    effect = effect_of(event)
    extra = effect.context(event) if effect else None
    letter = None
    if effect and extra is not None and (kind := effect.letter_kind(event.permit)):
        # Committed on its own: a retry after a failed email finds the letter rendered.
        letter = render_letter(issue_letter(event=event, kind=kind).pk)
    queued = 0
    with transaction.atomic():
        locked = PermitEvent.objects.select_for_update().get(pk=event_id)
        if locked.notified_at is not None:
            return 0  # another worker finished it while this one rendered
        if effect and extra is not None:
            queued = _email_family(event, effect, {**event_context(event), **extra}, letter)
        locked.notified_at = timezone.now()
        locked.save(update_fields=["notified_at"])
    return queued


def _email_family(event: PermitEvent, effect: Effect, context: dict, letter: Letter | None) -> int:
    queued = 0
    for guardian in event.permit.family.guardians.filter(is_active=True):
        email = queue_email(
            key=f"event:{event.pk}:{guardian.email}:{effect.email}",
            to=guardian.email,
            template=effect.email,
            language=guardian.language,
            about=event.permit,
            attachment=letter.pdf.name if letter else "",
            attachment_name=letter.filename if letter else "",
            context={**context, "guardian": guardian},
        )
        queued += email is not None
    return queued
