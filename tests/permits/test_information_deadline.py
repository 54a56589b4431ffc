"""An information request must not let a request drift into a deemed denial: its
answer deadline ends before the request's legal due date, unless a director says why
(EC 46600.1(d)(1); permits.services.request_information)."""

from datetime import timedelta

import pytest

from permits import clock, services
from permits.models import Permit

from ..conftest import doc_type


@pytest.fixture
def legal_due(submitted_in):
    """The request's legal due date, set 20 days from today."""
    due = clock.today() + timedelta(days=20)
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=due)
    submitted_in.refresh_from_db()
    return due


def ask(permit, by, **kwargs):
    return services.request_information(
        permit_id=permit.pk, by=by, message="Send the report card.", document_types=[doc_type("report_card")], **kwargs
    )


def test_the_default_deadline_is_the_districts_number_of_days(submitted_in, legal_due):
    today = clock.today()
    assert services.default_information_due_date(submitted_in, today) == today + timedelta(days=10)


def test_the_default_deadline_ends_the_day_before_a_nearer_legal_due_date(submitted_in, legal_due, district):
    district.info_response_days = 30
    district.save()
    assert services.default_information_due_date(submitted_in, clock.today()) == legal_due - timedelta(days=1)


def test_it_refuses_a_deadline_on_the_legal_due_date(submitted_in, tina, legal_due):
    with pytest.raises(services.PermitError, match="must be before the legal due date"):
        ask(submitted_in, tina, due_date=legal_due)
    submitted_in.refresh_from_db()
    assert submitted_in.status == Permit.Status.SUBMITTED and not submitted_in.information_requests.exists()


def test_it_refuses_a_deadline_after_the_legal_due_date(submitted_in, tina, legal_due):
    with pytest.raises(services.PermitError, match="must be before the legal due date"):
        ask(submitted_in, tina, due_date=legal_due + timedelta(days=3))


def test_it_accepts_the_day_before_the_legal_due_date(submitted_in, tina, legal_due):
    request = ask(submitted_in, tina, due_date=legal_due - timedelta(days=1))
    submitted_in.refresh_from_db()
    assert submitted_in.status == Permit.Status.INFO_REQUESTED
    assert request.due_date == submitted_in.info_due_date == legal_due - timedelta(days=1)
    assert request.deadline_override_reason == ""


def test_a_reason_without_the_directors_say_so_changes_nothing(submitted_in, tina, legal_due):
    with pytest.raises(services.PermitError, match="only a director"):
        ask(submitted_in, tina, due_date=legal_due, override_reason="The family asked for more time.")


def test_a_director_may_set_a_later_deadline_with_a_reason(submitted_in, diana, legal_due):
    request = ask(
        submitted_in,
        diana,
        due_date=legal_due + timedelta(days=5),
        override_reason="  The records office is closed until then.  ",
        may_override=True,
    )
    request.refresh_from_db()
    assert request.due_date == legal_due + timedelta(days=5)
    assert request.deadline_override_reason == "The records office is closed until then."


def test_a_director_needs_a_reason_for_a_later_deadline(submitted_in, diana, legal_due):
    with pytest.raises(services.PermitError, match="Say why"):
        ask(submitted_in, diana, due_date=legal_due, override_reason="   ", may_override=True)
    assert not submitted_in.information_requests.exists()


def test_no_reason_is_kept_for_a_deadline_before_the_legal_due_date(submitted_in, diana, legal_due):
    request = ask(
        submitted_in, diana, due_date=legal_due - timedelta(days=2), override_reason="Not needed", may_override=True
    )
    assert request.deadline_override_reason == ""


def test_it_refuses_a_deadline_that_is_not_after_today(submitted_in, diana, legal_due):
    with pytest.raises(services.PermitError, match="after today"):
        ask(submitted_in, diana, due_date=clock.today(), override_reason="x", may_override=True)
