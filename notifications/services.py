from permits.models import PermitEvent

from .emails import queue_email
from .letters import issue_letter


def notify_family(*, event: PermitEvent, template: str, context: dict | None = None) -> int:
    """Queue one email per guardian of the permit's family, in the family's language,
    inside the caller's transaction, with the event's decision letter (if it issues
    one) attached. Returns how many were queued."""
    permit = event.permit
    family = permit.family
    letter = issue_letter(event=event)
    queued = 0
    for guardian in family.guardians.filter(is_active=True):
        email = queue_email(
            key=f"event:{event.pk}:{guardian.email}:{template}",
            to=guardian.email,
            template=template,
            language=family.preferred_language,
            permit=permit,
            event=event,
            letter=letter,
            context={"permit": permit, "guardian": guardian, "event": event, **(context or {})},
        )
        queued += email is not None
    return queued
