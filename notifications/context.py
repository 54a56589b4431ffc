"""What an event's email and letter say about it, built once from the event: the same
dates and the same information request in both."""

from permits import clock
from permits.models import District, PermitEvent


def event_context(event: PermitEvent) -> dict:
    """The template context of the family's email and letter for one event. Dates are
    those of the event (the day of the decision), not of the moment it is rendered."""
    permit = event.permit
    district = District.current()
    decided_on = clock.local_date(event.created_at)
    appeal_deadlines = clock.appeal_deadlines(decided_on, internal_appeal_days=district.internal_appeal_days)
    return {
        "permit": permit,
        "event": event,
        "district": district,
        "county_appeal_deadline": appeal_deadlines.county,
        "internal_appeal_deadline": appeal_deadlines.internal,
        "information_request": permit.information_requests.filter(created_at__lte=event.created_at).first(),
    }
