"""What each enrollment event causes for the family: one table, EFFECTS.

The same machinery as a permit's (notifications.events): the services only write the
event; after commit a worker issues and renders the offer letter (WeasyPrint, the
permit letters' letterhead and stylesheet), then queues one email per guardian in the
family's language through the outbox, and marks the event done. Safe to run twice;
the sweeper (tasks.sweep_enrollment_events_task) finds what a lost message left.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.letters import keep_as_issued, logo_data_uri
from outbox.emails import queue_email
from permits import clock
from permits.models import District

from .models import EnrollmentEvent, OfferLetter
from .selectors import result_of

E = EnrollmentEvent.Kind


@dataclass(frozen=True)
class Effect:
    email: str  # templates/emails/<email>-subject.txt, -body.txt, -body.html
    letter: bool = False  # an offer letter, attached to the email


EFFECTS: dict[str, Effect] = {
    E.RECEIVED: Effect("enrollment_received"),
    E.UPDATED: Effect("enrollment_received"),
    E.WITHDRAWN: Effect("enrollment_withdrawn"),
    E.OFFERED: Effect("enrollment_offer", letter=True),
    E.WAITLIST_OFFER: Effect("enrollment_offer", letter=True),
    E.NOT_PLACED: Effect("enrollment_not_placed"),
    E.ACCEPTED: Effect("enrollment_accepted"),
    E.DECLINED: Effect("enrollment_declined"),
    E.EXPIRED: Effect("enrollment_declined"),
}


def event_context(event: EnrollmentEvent) -> dict:
    application = event.application
    return {
        "event": event,
        "application": application,
        "cycle": application.cycle,
        "student": application.student,
        "offer": event.offer,
        "result": result_of(application),
        "district": District.current(),
    }


def handle_event(event_id: int) -> int:
    """Do what one event causes, once. Returns the number of emails queued."""
    event = EnrollmentEvent.objects.select_related(
        "application__cycle__school_year", "application__student", "application__family", "offer__program__school"
    ).get(pk=event_id)
    if event.notified_at is not None:
        return 0
    effect = EFFECTS.get(event.kind)
    letter = None
    if effect and effect.letter:
        letter = render_offer_letter(_issue_letter(event).pk)
    queued = 0
    with transaction.atomic():
        locked = EnrollmentEvent.objects.select_for_update().get(pk=event_id)
        if locked.notified_at is not None:
            return 0
        if effect:
            context = event_context(event)
            for guardian in event.application.family.guardians.filter(is_active=True):
                email = queue_email(
                    key=f"enrollment:{event.pk}:{guardian.email}",
                    to=guardian.email,
                    template=effect.email,
                    language=guardian.language,
                    about=event.application,
                    attachment=letter.pdf.name if letter else "",
                    attachment_name=letter.filename if letter else "",
                    context={**context, "guardian": guardian},
                )
                queued += email is not None
        locked.notified_at = timezone.now()
        locked.save(update_fields=["notified_at"])
    return queued


def _issue_letter(event: EnrollmentEvent) -> OfferLetter:
    letter, _created = OfferLetter.objects.get_or_create(
        event=event,
        defaults={
            "application": event.application,
            "language": event.application.family.preferred_language,
            "letter_date": clock.local_date(event.created_at),
        },
    )
    return letter


def letter_html(letter: OfferLetter) -> str:
    district = District.current()
    with translation.override(letter.language):
        return render_to_string(
            "letters/enrollment_offer.html",
            {
                **event_context(letter.event),
                "letter": letter,
                "logo": logo_data_uri(district),
                "site_url": settings.SITE_URL,
                "family": letter.application.family,
                "guardians": list(letter.application.family.guardians.filter(is_active=True)),
            },
        )


def render_offer_letter(letter_id: int) -> OfferLetter:
    """Render and keep an offer letter once; a second call changes nothing."""
    with transaction.atomic():
        letter = (
            OfferLetter.objects.select_for_update(of=("self",))
            .select_related("event__offer__program__school", "application__student", "application__cycle")
            .get(pk=letter_id)
        )
        if letter.is_rendered:
            return letter
        keep_as_issued(letter, letter_html(letter), folder=f"enrollment/{letter.application_id}")
    return letter
