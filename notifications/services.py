from permits.models import PermitEvent

from .emails import queue_email


def notify_family(*, event: PermitEvent, template: str, context: dict | None = None) -> int:
    """Queue one email per guardian of the permit's family, in the family's language,
    inside the caller's transaction. Returns how many were queued."""
    permit = event.permit
    family = permit.family
    queued = 0
    for guardian in family.guardians.filter(is_active=True):
        email = queue_email(
            key=f"event:{event.pk}:{guardian.email}:{template}",
            to=guardian.email,
            template=template,
            language=family.preferred_language,
            permit=permit,
            event=event,
            context={"permit": permit, "guardian": guardian, "event": event, **(context or {})},
        )
        queued += email is not None
    return queued
