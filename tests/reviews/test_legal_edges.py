"""Two actions that touch the legal clock, from the review page: voiding (the director
only, for a listed reason, and the family is told why) and an information request's
deadline (before the legal due date unless a director says why)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from outbox.models import OutboxEmail
from permits import clock, services
from permits.models import Permit, VoidReason

from ..conftest import login


def review_page(client, permit) -> str:
    return client.get(reverse("staff_permit", args=[permit.pk])).text


def void(client, permit, **data):
    return client.post(reverse("staff_void", args=[permit.pk]), {f"void-{k}": v for k, v in data.items()}, follow=True)


# --- Voiding ----------------------------------------------------------------------


def test_a_technician_may_not_void(tina, submitted_in):
    response = login(tina).post(reverse("staff_void", args=[submitted_in.pk]), {"void-reason": "duplicate"})
    assert response.status_code == 403
    assert Permit.objects.get(pk=submitted_in.pk).status == Permit.Status.SUBMITTED


def test_only_the_director_sees_the_void_form(tina, diana, submitted_in):
    action = reverse("staff_void", args=[submitted_in.pk])
    assert action not in review_page(login(tina), submitted_in)
    page = review_page(login(diana), submitted_in)
    assert action in page and "Withdrawn by the family in writing" in page


def test_the_director_voids_for_a_listed_reason_and_the_family_is_told_why(diana, submitted_in, alice, handle_events):
    response = void(login(diana), submitted_in, reason="entered_in_error", note="")
    assert f"{submitted_in.reference} voided." in response.text
    submitted_in.refresh_from_db()
    assert (submitted_in.status, submitted_in.void_reason) == (Permit.Status.VOIDED, "entered_in_error")
    handle_events()
    email = OutboxEmail.objects.get(template="permit_voided")
    assert (email.to, email.language) == (alice.email, "en")
    assert "Reason: Entered in error" in email.body_text and "Entered in error" in email.body_html
    assert "no longer runs on the legal clock" in email.body_text
    assert "you may submit a new request" in email.body_text
    assert "The district's note" not in email.body_text  # none was given


def test_the_voided_email_names_the_reason_in_spanish(diana, submitted_in, alice, handle_events):
    alice.family.preferred_language = "es"
    alice.family.save()
    void(login(diana), submitted_in, reason="withdrawn_in_writing", note="Carta del 3 de marzo")
    handle_events()
    email = OutboxEmail.objects.get(template="permit_voided")
    with translation.override("es"):
        spanish = str(VoidReason.WITHDRAWN_IN_WRITING.label)
        link_label = translation.gettext("Your request:")
    assert spanish != "Withdrawn by the family in writing", "the reason has no Spanish translation"
    assert email.language == "es"
    assert f"Motivo: {spanish}" in email.body_text and spanish in email.body_html
    assert "Carta del 3 de marzo" in email.body_text
    assert "ya no corre el plazo legal" in email.body_text and link_label in email.body_text


def test_a_reason_not_in_the_list_is_refused(diana, submitted_in):
    response = void(login(diana), submitted_in, reason="Duplicate of P-XYZ")
    assert "Select a valid choice" in response.text
    submitted_in.refresh_from_db()
    assert (submitted_in.status, submitted_in.void_reason) == (Permit.Status.SUBMITTED, "")
    assert not submitted_in.events.filter(new_status="voided").exists()


# --- Information deadlines --------------------------------------------------------


@pytest.fixture
def legal_due(submitted_in):
    """The request's legal due date, 20 days from today."""
    due = clock.today() + timedelta(days=20)
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=due)
    submitted_in.refresh_from_db()
    return due


def request_info(client, permit, **data):
    data = {"message": "Send the report card.", **data}
    return client.post(
        reverse("staff_request_info", args=[permit.pk]), {f"info-{k}": v for k, v in data.items()}, follow=True
    )


def test_a_technician_cannot_set_the_deadline_on_the_legal_due_date(tina, submitted_in, legal_due):
    response = request_info(login(tina), submitted_in, due_date=legal_due.isoformat())
    assert "The answer deadline must be before the legal due date" in response.text
    submitted_in.refresh_from_db()
    assert submitted_in.status == Permit.Status.SUBMITTED and not submitted_in.information_requests.exists()


def test_a_technician_may_set_the_day_before_the_legal_due_date(tina, submitted_in, legal_due):
    day_before = legal_due - timedelta(days=1)
    response = request_info(login(tina), submitted_in, due_date=day_before.isoformat())
    assert "Information requested; the family has until" in response.text
    submitted_in.refresh_from_db()
    assert (submitted_in.status, submitted_in.info_due_date) == (Permit.Status.INFO_REQUESTED, day_before)


def test_a_technicians_reason_does_not_override_the_legal_due_date(tina, submitted_in, legal_due):
    response = request_info(
        login(tina), submitted_in, due_date=legal_due.isoformat(), override_reason="The family asked for time."
    )
    assert "only a director may set a later one" in response.text
    assert not submitted_in.information_requests.exists()


def test_a_director_may_set_a_later_deadline_with_a_reason(diana, submitted_in, legal_due):
    client = login(diana)
    later = legal_due + timedelta(days=5)
    response = request_info(
        client, submitted_in, due_date=later.isoformat(), override_reason="The records office is closed until then."
    )
    assert "Information requested" in response.text
    request = submitted_in.information_requests.get()
    assert (request.due_date, request.deadline_override_reason) == (later, "The records office is closed until then.")
    page = review_page(client, submitted_in)
    assert "Deadline on or after the legal due date, because:" in page
    assert "The records office is closed until then." in page


def test_a_director_needs_a_reason_for_a_later_deadline(diana, submitted_in, legal_due):
    response = request_info(login(diana), submitted_in, due_date=legal_due.isoformat(), override_reason="")
    assert "Say why the answer deadline runs past the legal due date." in response.text
    assert not submitted_in.information_requests.exists()


def test_the_review_page_shows_the_days_left_and_proposes_a_deadline_before_them(tina, diana, submitted_in, legal_due):
    page = review_page(login(tina), submitted_in)
    assert f"20 days remain on the legal clock (legal due date {date_format(legal_due)})." in page
    proposed = services.default_information_due_date(submitted_in, clock.today())
    assert proposed < legal_due
    assert f'name="info-due_date" value="{proposed.isoformat()}"' in page
    # Only a director is offered the override.
    assert 'name="info-override_reason"' not in page
    assert 'name="info-override_reason"' in review_page(login(diana), submitted_in)


@pytest.mark.parametrize(
    "days, says",
    [
        (1, "1 day remains on the legal clock"),
        (0, "The legal due date is today"),
        (-3, "has passed"),
    ],
)
def test_the_review_page_says_when_little_or_no_time_is_left(tina, submitted_in, days, says):
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=clock.today() + timedelta(days=days))
    assert says in review_page(login(tina), submitted_in)
