"""What each enrollment event tells the family (enrollment.notices): one email per
guardian in the family's language, the offer letter, each sent once, and only what
applies to this family."""

import io
import re

from django.template.loader import get_template
from pypdf import PdfReader

from enrollment import services
from enrollment.models import EnrollmentEvent, Offer, OfferLetter
from enrollment.notices import EFFECTS
from enrollment.services import Claim
from outbox.models import OutboxEmail
from permits import clock

from ..factories import GuardianFactory
from .test_services import apply, drawn

MONTHS_ES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()


def pdf_text(data: bytes) -> str:
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def in_spanish(day) -> str:
    return f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year}"


def in_english(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def with_sibling_at(student, programs, school, by, tina):
    """An application whose sibling priority at `school` staff have verified."""
    application = apply(student, programs, by, claims=[Claim(school.pk, "sibling", "Brother Leo, grade 2")])
    services.decide_claim(claim_id=application.claims.get().pk, verified=True, by=tina)
    return application


def email(template: str, to: str) -> OutboxEmail:
    return OutboxEmail.objects.get(template=template, to=to)


def test_every_email_an_event_causes_has_its_three_templates():
    for effect in EFFECTS.values():
        for part in ("subject.txt", "body.txt", "body.html"):
            get_template(f"emails/{effect.email}-{part}")


def test_a_drawing_queues_one_offer_per_guardian_in_the_familys_language_once(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, tina, handle_enrollment_events
):
    GuardianFactory(family=bob.family, email="rosa@example.com", first_name="Rosa")
    bob.family.preferred_language = "es"
    bob.family.save()
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    with_sibling_at(bobs_student, [lincoln_4, roosevelt_4], lincoln_4.school, bob, tina)
    assert handle_enrollment_events() == 3  # the receipts
    drawn(lincoln_4.cycle, diana)

    assert handle_enrollment_events() == 3
    offers = OutboxEmail.objects.filter(template="enrollment_offer")
    assert sorted(offers.values_list("to", "language")) == [
        ("alice@example.com", "en"),
        ("bob@example.com", "es"),
        ("rosa@example.com", "es"),
    ]
    deadline = lincoln_4.cycle.offer_deadline
    bobs = offers.get(to="bob@example.com")
    assert "Hola, Bob:" in bobs.body_text and in_spanish(deadline) in bobs.body_text
    assert in_spanish(deadline) in bobs.subject and "Lincoln Elementary" in bobs.subject

    # Handled again, or after a worker died before marking the events: nothing more.
    assert handle_enrollment_events() == 0
    EnrollmentEvent.objects.update(notified_at=None)
    assert handle_enrollment_events() == 0
    assert OutboxEmail.objects.filter(template="enrollment_offer").count() == 3
    assert OfferLetter.objects.count() == 2


def test_the_offer_letter_names_the_school_the_lottery_number_and_the_answer_by_date(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, tina, handle_enrollment_events
):
    bob.family.preferred_language = "es"
    bob.family.save()
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    with_sibling_at(bobs_student, [lincoln_4, roosevelt_4], lincoln_4.school, bob, tina)
    drawing = drawn(lincoln_4.cycle, diana)
    handle_enrollment_events()

    letter = OfferLetter.objects.get(application__student=bobs_student)
    with letter.pdf.open("rb") as f:
        text = pdf_text(f.read())
    number = drawing.placements.get(application__student=bobs_student).number
    assert letter.language == "es"
    assert "Lincoln Elementary" in text and "Ben Brown" in text
    assert number in text.replace(" ", "")
    assert in_spanish(lincoln_4.cycle.offer_deadline) in text
    assert letter.application.public_id in text
    assert email("enrollment_offer", "bob@example.com").attachment.name == letter.pdf.name


def test_the_offer_lists_waitlists_only_for_the_family_that_has_some(
    alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana, tina, handle_enrollment_events
):
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    with_sibling_at(bobs_student, [lincoln_4, roosevelt_4], lincoln_4.school, bob, tina)
    drawn(lincoln_4.cycle, diana)
    handle_enrollment_events()

    number = Offer.objects.get(application__student=sofia).application.placements.get().number
    alices = email("enrollment_offer", "alice@example.com").body_text
    assert "offered a seat at Roosevelt Elementary · Grade 4" in alices
    assert "It is your choice number 2." in alices
    assert (
        "Accepting keeps Sofia on the waitlists of the schools you ranked above this one, and only on those" in alices
    )
    assert "Lincoln Elementary · Grade 4 (your choice number 1): number 1 on the waitlist" in alices
    assert f"The lottery number of Sofia is {number}." in alices
    assert in_english(lincoln_4.cycle.offer_deadline) in alices
    assert "the offer is declined and the seat goes to the next student on the waitlist" in alices
    assert "(555) 010-2000" in alices
    assert f"/enrollment/applications/{Offer.objects.get(application__student=sofia).application_id}/" in alices

    bobs = email("enrollment_offer", "bob@example.com").body_text
    assert "It is your first choice." in bobs
    assert "Accepting keeps" not in bobs and "Accepting takes" not in bobs and "on the waitlist of" not in bobs


def test_the_receipt_lists_the_choices_in_order_and_a_change_gets_its_own(
    alice, sofia, lincoln_4, roosevelt_4, handle_enrollment_events
):
    apply(sofia, [roosevelt_4, lincoln_4], alice, claims=[Claim(roosevelt_4.school_id, "sibling", "Brother Leo")])
    assert handle_enrollment_events() == 1
    receipt = email("enrollment_received", "alice@example.com")
    body = receipt.body_text
    assert "We received the open-enrollment application of Sofia Garcia" in receipt.subject
    first, second = body.index("1. Roosevelt Elementary · Grade 4"), body.index("2. Lincoln Elementary · Grade 4")
    assert first < second
    assert "Sibling at the school, Roosevelt Elementary: Waiting for verification" in body
    assert "only a verified priority counts in the drawing" in body
    cycle = lincoln_4.cycle
    assert f"until {in_english(cycle.applications_close_on)}, the last day" in body
    assert f"The public drawing is on {in_english(cycle.lottery_on)}." in body
    html = receipt.body_html
    assert html.index("Roosevelt Elementary") < html.index("Lincoln Elementary")

    apply(sofia, [lincoln_4], alice)
    assert handle_enrollment_events() == 1
    changed = OutboxEmail.objects.filter(template="enrollment_received").latest("pk")
    assert "receipt for the changed open-enrollment application" in changed.body_text
    assert "1. Lincoln Elementary · Grade 4" in changed.body_text and "Roosevelt" not in changed.body_text
    assert "No priority was claimed or found" in changed.body_text


def test_a_student_not_placed_is_told_the_waitlist_position_and_how_waitlists_move(
    alice, bob, sofia, bobs_student, lincoln_4, diana, tina, handle_enrollment_events
):
    apply(sofia, [lincoln_4], alice)
    with_sibling_at(bobs_student, [lincoln_4], lincoln_4.school, bob, tina)
    drawn(lincoln_4.cycle, diana)
    handle_enrollment_events()

    body = email("enrollment_not_placed", "alice@example.com").body_text
    assert "no seat could be offered to Sofia Garcia at any of the schools you ranked" in body
    assert "Lincoln Elementary · Grade 4 (your choice number 1): number 1 on the waitlist; no priority there" in body
    assert "ordered by priority, then by lottery number, never by the date of application" in body
    assert "you will have 5 days to answer" in body


def test_a_decline_and_an_expiry_say_which_it_was(
    alice,
    bob,
    sofia,
    bobs_student,
    lincoln_4,
    diana,
    tina,
    handle_enrollment_events,
    django_capture_on_commit_callbacks,
):
    apply(bobs_student, [lincoln_4], bob)
    with_sibling_at(sofia, [lincoln_4], lincoln_4.school, alice, tina)
    drawn(lincoln_4.cycle, diana)
    today = clock.today()
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_offer(offer_id=Offer.objects.get(application__student=sofia).pk, by=alice, today=today)
    handle_enrollment_events()
    declined = email("enrollment_declined", "alice@example.com")
    assert "You declined the seat for Sofia Garcia at Lincoln Elementary" == declined.subject
    assert f"On {in_english(today)} you declined the seat at Lincoln Elementary · Grade 4" in declined.body_text
    assert "on these waitlists" not in declined.body_text

    offer = Offer.objects.get(application__student=bobs_student, status=Offer.Status.OFFERED)
    bens = email("enrollment_offer", "bob@example.com").body_text
    assert "A seat has come free at Lincoln Elementary · Grade 4" in bens and in_english(offer.respond_by) in bens
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_offers(today=offer.respond_by.fromordinal(offer.respond_by.toordinal() + 1)) == 1
    handle_enrollment_events()
    expired = email("enrollment_declined", "bob@example.com")
    assert "was not answered in time" in expired.subject
    assert f"was not answered by {in_english(offer.respond_by)}, so it is declined" in expired.body_text


def test_a_withdrawal_is_confirmed_with_the_day_to_apply_again_by(alice, sofia, lincoln_4, handle_enrollment_events):
    application = apply(sofia, [lincoln_4], alice)
    services.withdraw_application(application_id=application.pk, by=alice)
    assert handle_enrollment_events() == 2
    withdrawn = email("enrollment_withdrawn", "alice@example.com")
    assert f"(reference {application.public_id}) was withdrawn on {in_english(clock.today())}" in withdrawn.body_text
    assert f"apply again until {in_english(lincoln_4.cycle.applications_close_on)}." in withdrawn.body_text
