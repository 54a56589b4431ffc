"""Multi-year inter-district permits (EC 46600(a)(1)-(2)): the term on approval and in
the letters, the spring rollover, the family's confirmation, the reminder and what no
answer does, and revocation in a later year of the term."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxEmail
from permits import services, terms
from permits.models import (
    District,
    Document,
    Letter,
    Permit,
    PermitEvent,
    PermitKind,
    Reason,
    SeatAllocation,
)
from reviews.deadlines import run_daily_checks

from ..conftest import doc_type
from ..factories import SchoolYearFactory, pdf_upload
from ..notifications.test_letters import issued, pdf_text, stored_bytes

S = Permit.Status


def set_district(**fields):
    District.objects.filter(pk=1).update(**fields)
    District.forget_current()


def year_after(year, name, **fields):
    first = year.first_day_of_instruction
    return SchoolYearFactory(name=name, first_day_of_instruction=first.replace(year=first.year + 1), **fields)


@pytest.fixture
def next_year(school_year):
    """2028-29, whose continuing students confirm within 30 days."""
    return year_after(school_year, "2028-29", continuation_confirm_by=timezone.localdate() + timedelta(days=30))


@pytest.fixture
def seats_next(school_b, next_year):
    return SeatAllocation.objects.create(school=school_b, school_year=next_year, grade=5, capacity=5)


@pytest.fixture
def approved_in(verified_in, diana):
    """Sofia's incoming permit for 2027-28 at Roosevelt, grade 4, on the default term."""
    return services.approve_permit(permit_id=verified_in.pk, by=diana)


def roll(to_year):
    return services.roll_over_continuing_permits(to_year=to_year, today=timezone.localdate())


def emails(template):
    return list(OutboxEmail.objects.filter(template=template).order_by("pk"))


# --- The term ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, years, last",
    [("2027-28", 4, "2031-32"), ("2027-2028", 1, "2028-2029"), ("2099-00", 1, "2100-01"), ("Fall term", 2, "")],
)
def test_the_last_year_is_named_from_the_first_years_numbers(name, years, last):
    assert terms.year_name_after(name, years) == last


def test_an_inter_district_approval_carries_the_districts_term(verified_in, diana):
    set_district(permit_term_years=3)
    permit = services.approve_permit(permit_id=verified_in.pk, by=diana)
    permit.refresh_from_db()
    assert permit.term_years == 3
    term = terms.term_of(permit)
    assert (term.first_year, term.last_year, term.year_number) == ("2027-28", "2029-30", 1)


def test_an_intra_district_placement_lasts_one_year(district):
    assert terms.term_years_on_approval(Permit(kind=PermitKind.INTRA), district) == 1
    assert terms.term_years_on_approval(Permit(kind=PermitKind.INTER_OUT), district) == 5


def test_the_acceptance_and_the_approval_email_state_the_terms_last_year(approved_in, alice):
    text = pdf_text(stored_bytes(issued(approved_in, "acceptance")))
    assert "valid for the school years 2027-28 to 2031-32" in text
    assert "never for a student entering grade 11 or 12" in text
    assert "for up to five school years" not in text
    email = OutboxEmail.objects.get(template="permit_approved", to=alice.email)
    assert "valid for the school years 2027-28 to 2031-32" in email.body_text
    assert "valid for the school years 2027-28 to 2031-32" in email.body_html


def test_a_one_year_term_states_that_one_year_only(verified_in, diana, alice):
    set_district(permit_term_years=1)
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    text = pdf_text(stored_bytes(issued(verified_in, "acceptance")))
    assert "valid for the 2027-28 school year" in text and "submit a new request" in text
    assert "school years 2027-28 to" not in text
    assert "valid for the 2027-28 school year" in OutboxEmail.objects.get(template="permit_approved").body_text


def test_the_release_states_the_term_too(alice, sofia, school_year, diana):
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_OUT, by=alice
    )
    Permit.objects.filter(pk=permit.pk).update(
        reason=Reason.objects.get(code="employment"), destination_district="Costa Clara Unified"
    )
    services.add_document(permit_id=permit.pk, document_type=doc_type("employer_letter"), upload=pdf_upload(), by=alice)
    services.submit_permit(permit_id=permit.pk, by=alice)
    Document.objects.filter(permit=permit).update(review=Document.Review.VERIFIED)
    services.approve_permit(permit_id=permit.pk, by=diana)
    text = pdf_text(stored_bytes(issued(permit, "release")))
    assert "releases the student to attend Costa Clara Unified" in text
    assert "valid for the school years 2027-28 to 2031-32" in text


# --- The spring rollover -------------------------------------------------------------


def test_the_rollover_creates_next_years_row_once_and_asks_the_family(
    approved_in, next_year, seats_next, alice, handle_events
):
    handle_events()
    summary = roll(next_year)
    assert len(summary.rolled) == 1 and summary.over_capacity == []
    row = summary.rolled[0]
    assert (row.status, row.grade, row.school_year, row.placed_school_id) == (
        S.APPROVED,
        5,
        next_year,
        approved_in.placed_school_id,
    )
    assert row.continues == approved_in and row.term_years == 5 and row.family_id == alice.family_id
    assert terms.term_of(row).year_number == 2 and terms.term_of(row).first_year == "2027-28"
    event = row.events.get()
    assert (event.kind, event.new_status, event.actor) == ("created", S.APPROVED, None)
    assert approved_in.reference in event.note

    assert handle_events() == 1
    (email,) = emails("permit_continuation")
    assert email.to == alice.email and email.about == row
    deadline = next_year.continuation_confirm_by
    assert (
        f"Please confirm by {deadline:%B} {deadline.day}, {deadline.year} that Sofia Garcia returns" in email.body_text
    )
    assert "Roosevelt Elementary in Grade 5 in the 2028-29 school year" in email.body_text
    assert reverse("permit_detail", args=[row.pk]) in email.body_text
    # No approval letter: the first year's states the term.
    assert not Letter.objects.filter(permit=row).exists()

    again = roll(next_year)
    assert again.rolled == [] and Permit.objects.filter(school_year=next_year).count() == 1
    assert handle_events() == 0


def test_a_continuing_student_takes_a_seat_even_past_capacity(approved_in, next_year, school_b):
    SeatAllocation.objects.create(school=school_b, school_year=next_year, grade=5, capacity=0)
    summary = roll(next_year)
    assert summary.rolled == summary.over_capacity and len(summary.rolled) == 1
    taken = Permit.objects.filter(status=S.APPROVED, placed_school=school_b, school_year=next_year, grade=5)
    assert taken.count() == 1


def test_the_rolled_row_counts_in_the_seats(approved_in, next_year, seats_next, school_b):
    from reviews import reports

    roll(next_year)
    (row,) = [s for s in reports.build(school_year_id=next_year.pk).seats if s["grade"] == "Grade 5"]
    assert (row["capacity"], row["approved"]) == (5, 1)


def test_a_student_past_grade_12_or_whose_school_stops_is_reported_not_rolled(
    approved_in, next_year, sofia, bob, school_b
):
    Permit.objects.filter(pk=approved_in.pk).update(grade=12)
    summary = roll(next_year)
    assert summary.rolled == [] and summary.finished_school == [approved_in]
    Permit.objects.filter(pk=approved_in.pk).update(grade=4)
    school_b.highest_grade = 4
    school_b.save()
    summary = roll(next_year)
    assert summary.rolled == [] and summary.to_place == [approved_in]
    assert not Permit.objects.filter(school_year=next_year).exists()


def test_a_student_with_a_new_request_for_the_year_is_reported_not_rolled(approved_in, next_year, alice, sofia):
    Permit.objects.create(
        family=alice.family, student=sofia, school_year=next_year, kind=PermitKind.INTER_IN, grade=5, created_by=alice
    )
    summary = roll(next_year)
    assert summary.rolled == [] and summary.already_requested == [approved_in]


def test_the_rollover_stops_after_the_last_year_of_the_term(verified_in, diana, next_year, seats_next):
    set_district(permit_term_years=2)
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    assert len(roll(next_year).rolled) == 1
    third = year_after(next_year, "2029-30", continuation_confirm_by=timezone.localdate() + timedelta(days=30))
    summary = roll(third)
    assert summary.rolled == [] and summary.terms_ended == 1
    assert not Permit.objects.filter(school_year=third).exists()


def test_a_one_year_permit_is_not_rolled(verified_in, diana, next_year, seats_next):
    set_district(permit_term_years=1)
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    assert roll(next_year).rolled == []


def test_the_rollover_needs_a_confirmation_date_that_has_not_passed(approved_in, next_year):
    next_year.continuation_confirm_by = None
    next_year.save()
    with pytest.raises(services.PermitError, match="Set the date"):
        roll(next_year)
    next_year.continuation_confirm_by = timezone.localdate() - timedelta(days=1)
    next_year.save()
    with pytest.raises(services.PermitError, match="has passed"):
        roll(next_year)
    assert not Permit.objects.filter(school_year=next_year).exists()


def test_the_command_rolls_over_and_prints_the_summary(approved_in, next_year, seats_next):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rollover_permits", "--to-year", "2028-29", stdout=out)
    assert "Rolled 1 permit(s) from 2027-28 into 2028-29" in out.getvalue()
    assert Permit.objects.filter(school_year=next_year, continues=approved_in).count() == 1


# --- The family confirms -------------------------------------------------------------


@pytest.fixture
def continuing(approved_in, next_year, seats_next):
    return roll(next_year).rolled[0]


def test_the_family_confirms_the_return_from_the_packet_page(continuing, alice_client, alice):
    url = reverse("permit_detail", args=[continuing.pk])
    page = alice_client.get(url).text
    assert "Confirm that Sofia Garcia returns" in page
    assert "valid for the school years 2027-28 to 2031-32" in page
    response = alice_client.post(reverse("permit_confirm_return", args=[continuing.pk]))
    assert response.status_code == 302 and response["Location"] == url
    continuing.refresh_from_db()
    assert continuing.continuation_confirmed_at is not None
    event = continuing.events.get(kind=PermitEvent.Kind.CONTINUATION_CONFIRMED)
    assert event.actor == alice
    assert "Confirm that Sofia Garcia returns" not in alice_client.get(url).text
    again = alice_client.post(reverse("permit_confirm_return", args=[continuing.pk]), follow=True)
    assert "You already confirmed" in again.text
    assert continuing.events.filter(kind=PermitEvent.Kind.CONTINUATION_CONFIRMED).count() == 1


def test_another_family_cannot_confirm(continuing, bob_client):
    response = bob_client.post(reverse("permit_confirm_return", args=[continuing.pk]))
    assert response.status_code == 404
    continuing.refresh_from_db()
    assert continuing.continuation_confirmed_at is None


def test_confirming_refuses_get(continuing, alice_client):
    assert alice_client.get(reverse("permit_confirm_return", args=[continuing.pk])).status_code == 405


def test_only_a_continuing_year_is_confirmed(approved_in, alice):
    with pytest.raises(services.PermitError):
        services.confirm_continuation(permit_id=approved_in.pk, by=alice)


# --- The reminder and no answer ------------------------------------------------------


def test_the_family_is_reminded_once_before_the_deadline(continuing, next_year, alice):
    deadline = next_year.continuation_confirm_by
    run_daily_checks(today=deadline - timedelta(days=8))
    assert emails("permit_continuation_reminder") == []
    summary = run_daily_checks(today=deadline - timedelta(days=7))
    assert summary.continuation_reminders == 1
    (email,) = emails("permit_continuation_reminder")
    assert email.to == alice.email and email.about == continuing
    assert "You have not yet confirmed that Sofia Garcia returns" in email.body_text
    for day in (6, 1, 0):
        run_daily_checks(today=deadline - timedelta(days=day))
    assert len(emails("permit_continuation_reminder")) == 1
    continuing.refresh_from_db()
    assert continuing.continuation_reminded_at is not None


def test_a_confirmed_family_is_not_reminded(continuing, next_year, alice):
    services.confirm_continuation(permit_id=continuing.pk, by=alice)
    run_daily_checks(today=next_year.continuation_confirm_by - timedelta(days=3))
    assert emails("permit_continuation_reminder") == []


def test_release_seat_ends_an_unconfirmed_year_the_day_after_the_deadline(continuing, next_year, handle_events, alice):
    set_district(unconfirmed_continuation=District.UnconfirmedContinuation.RELEASE_SEAT)
    deadline = next_year.continuation_confirm_by
    run_daily_checks(today=deadline)
    continuing.refresh_from_db()
    assert continuing.status == S.APPROVED
    summary = run_daily_checks(today=deadline + timedelta(days=1))
    continuing.refresh_from_db()
    assert summary.lapsed_continuations == 1 and continuing.status == S.ABANDONED
    event = continuing.events.get(kind=PermitEvent.Kind.STATUS)
    assert (event.old_status, event.new_status) == (S.APPROVED, S.ABANDONED)
    handle_events()
    text = pdf_text(stored_bytes(Letter.objects.get(permit=continuing, kind="abandonment")))
    assert "does not continue into the 2028-29 school year" in text
    assert "did not receive your confirmation" in text and "more information" not in text
    (email,) = emails("permit_abandoned")
    assert "You did not confirm by" in email.body_text and "more information" not in email.body_text
    assert Permit.objects.filter(status=S.APPROVED, school_year=next_year).count() == 0


def test_keep_seat_leaves_an_unconfirmed_year_approved(continuing, next_year):
    set_district(unconfirmed_continuation=District.UnconfirmedContinuation.KEEP_SEAT)
    summary = run_daily_checks(today=next_year.continuation_confirm_by + timedelta(days=1))
    continuing.refresh_from_db()
    assert summary.lapsed_continuations == 0 and continuing.status == S.APPROVED


def test_a_confirmed_year_never_lapses(continuing, next_year, alice):
    set_district(unconfirmed_continuation=District.UnconfirmedContinuation.RELEASE_SEAT)
    services.confirm_continuation(permit_id=continuing.pk, by=alice)
    run_daily_checks(today=next_year.continuation_confirm_by + timedelta(days=1))
    continuing.refresh_from_db()
    assert continuing.status == S.APPROVED


# --- Revocation during the term ------------------------------------------------------


def third_year_row(approved_in, next_year, grade_in_first_year):
    """The third year of Sofia's term, rolled from a first year in the given grade."""
    Permit.objects.filter(pk=approved_in.pk).update(grade=grade_in_first_year)
    roll(next_year)
    third = year_after(next_year, "2029-30", continuation_confirm_by=timezone.localdate() + timedelta(days=30))
    (row,) = roll(third).rolled
    assert terms.term_of(row).year_number == 3
    return row


def test_a_student_entering_grade_11_cannot_be_revoked_in_the_third_year(approved_in, next_year, diana):
    row = third_year_row(approved_in, next_year, grade_in_first_year=8)
    assert row.grade == 10 and not row.can_be_revoked
    with pytest.raises(services.PermitError, match="grade 11 or 12"):
        services.revoke_permit(permit_id=row.pk, by=diana, reason="Attendance", effective_on=timezone.localdate())
    row.refresh_from_db()
    assert row.status == S.APPROVED


def test_a_student_in_grade_8_can_be_revoked_in_the_third_year(approved_in, next_year, diana):
    row = third_year_row(approved_in, next_year, grade_in_first_year=6)
    assert row.grade == 8 and row.can_be_revoked
    services.revoke_permit(permit_id=row.pk, by=diana, reason="Attendance", effective_on=timezone.localdate())
    row.refresh_from_db()
    assert row.status == S.REVOKED


def test_the_first_letter_verifies_as_revoked_once_a_later_year_is_revoked(continuing, approved_in, diana):
    from django.test import Client

    letter = issued(approved_in, "acceptance")
    client = Client()
    assert "Valid" in client.get(reverse("verify_letter", args=[letter.verification_code])).text
    services.revoke_permit(permit_id=continuing.pk, by=diana, reason="Attendance", effective_on=timezone.localdate())
    assert "Revoked" in client.get(reverse("verify_letter", args=[letter.verification_code])).text


def test_revoking_a_year_ends_the_later_years_already_rolled_with_one_letter(
    continuing, approved_in, diana, handle_events
):
    handle_events()
    services.revoke_permit(permit_id=approved_in.pk, by=diana, reason="Attendance", effective_on=timezone.localdate())
    continuing.refresh_from_db()
    assert continuing.status == S.REVOKED
    handle_events()
    assert Letter.objects.filter(kind="revocation").count() == 1
    assert Letter.objects.get(kind="revocation").permit_id == approved_in.pk


def test_the_review_page_shows_the_term_and_whether_the_return_is_confirmed(continuing, diana):
    from ..conftest import login

    page = login(diana).get(f"/staff/permits/{continuing.pk}/").content.decode()
    assert "year 2 of 5" in page and "return not confirmed yet" in page
