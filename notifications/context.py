"""What an event's email and letter say about it, built once from the event: the same
dates, the same appeal rights and the same information request in both."""

from permits import clock, rights, terms
from permits.models import Appeal, District, Permit, PermitEvent

K = PermitEvent.Kind


def appeal_rights_of(event: PermitEvent) -> rights.AppealRights | None:
    """The appeal rights an event tells the family about, dated by the event (the day
    of the denial, of the panel's decision, of the deemed denial); None for events
    that open none."""
    permit = event.permit
    if event.kind == K.STATUS and event.new_status == Permit.Status.DENIED:
        return rights.for_denial(permit, clock.local_date(event.created_at))
    if event.kind == K.APPEAL_DECIDED and event.note == Appeal.Outcome.UPHELD and permit.decided_at:
        return rights.for_denial(
            permit, clock.local_date(permit.decided_at), upheld_on=clock.local_date(event.created_at)
        )
    if event.kind == K.DEEMED_DENIED:
        # The day the daily check recorded, even when it caught up on missed days.
        return rights.for_deemed_denial(permit, permit.deemed_denial_risk_since or clock.local_date(event.created_at))
    return None


def event_context(event: PermitEvent) -> dict:
    """The template context of the family's email and letter for one event. Dates are
    those of the event (the day of the decision), not of the moment it is rendered."""
    permit = event.permit
    return {
        "permit": permit,
        "event": event,
        "district": District.current(),
        "appeal_rights": appeal_rights_of(event),
        "information_request": permit.information_requests.filter(created_at__lte=event.created_at).first(),
        "term": terms.term_of(permit),
    }
