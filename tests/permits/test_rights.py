"""Appeal rights by kind, the final denial and deemed denials (issue 11, items 2-4):
what permits.rights says, what the services accept, and what the letters and emails
read back say."""

import io
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from outbox.models import OutboxEmail
from permits import rights, services
from permits.models import Appeal, District, Letter, Permit

S = Permit.Status


def spelled(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def letter_text(permit: Permit, kind: str) -> str:
    letter = Letter.objects.get(permit=permit, kind=kind)
    with letter.pdf.open("rb") as f:
        pages = PdfReader(io.BytesIO(f.read())).pages
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in pages)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def set_district(**fields):
    District.objects.filter(pk=1).update(**fields)
    District.forget_current()


def deny(permit, by, reasons=("no_space",)):
    services.deny_permit(permit_id=permit.pk, by=by, reasons=list(reasons), note="", final=True)
    permit.refresh_from_db()
    return permit


# --- permits.rights, at its edges ----------------------------------------------------


def test_an_inter_district_denial_with_an_internal_appeal_is_final_when_its_window_closes(submitted_in):
    set_district(offers_internal_appeal=True, internal_appeal_days=10)
    r = rights.for_denial(submitted_in, date(2027, 12, 20))
    assert r.internal_until == date(2027, 12, 30)
    assert r.final_on == date(2027, 12, 30)
    assert r.county_until == date(2028, 1, 29)
    assert r.internal_open_on(date(2027, 12, 30)) and not r.internal_open_on(date(2027, 12, 31))


def test_without_an_internal_appeal_the_first_denial_is_final_and_the_county_counts_from_it(submitted_in):
    set_district(offers_internal_appeal=False)
    r = rights.for_denial(submitted_in, date(2027, 12, 20))
    assert not r.internal and r.final_on == date(2027, 12, 20)
    assert r.county_until == date(2028, 1, 19)


def test_an_upheld_internal_appeal_is_the_final_denial_and_the_county_counts_from_it(submitted_in):
    r = rights.for_denial(submitted_in, date(2027, 12, 20), upheld_on=date(2028, 1, 6))
    assert r.after_internal_appeal and not r.internal
    assert r.final_on == date(2028, 1, 6) and r.county_until == date(2028, 2, 5)


def test_an_outgoing_denial_goes_to_the_county_too(submitted_in):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="inter_out")
    submitted_in.refresh_from_db()
    assert rights.for_denial(submitted_in, date(2027, 12, 20)).county


def test_an_intra_district_denial_has_no_county_appeal(submitted_in):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    submitted_in.refresh_from_db()
    r = rights.for_denial(submitted_in, date(2027, 12, 20))
    assert not r.county and r.internal and r.appealable


def test_a_denial_for_lack_of_a_release_is_not_appealable(submitted_in, diana):
    deny(submitted_in, diana, reasons=["no_release"])
    r = rights.current(submitted_in)
    assert not r.appealable and not r.county and not r.internal


def test_a_deemed_denial_counts_from_the_day_after_the_legal_due_date(submitted_in):
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=date(2027, 12, 20))
    submitted_in.refresh_from_db()
    assert rights.deemed_denial_day(submitted_in) == date(2027, 12, 21)
    r = rights.for_deemed_denial(submitted_in, date(2027, 12, 21))
    assert r.deemed and r.county_until == date(2028, 1, 20)


def test_an_internal_appeal_of_a_current_year_request_is_decided_inside_the_legal_clock(submitted_in):
    set_district(internal_appeal_decision_days=15)
    Permit.objects.filter(pk=submitted_in.pk).update(year_type="current", legal_due_date=date(2027, 12, 28))
    submitted_in.refresh_from_db()
    assert rights.internal_appeal_decision_due(submitted_in, date(2027, 12, 20)) == date(2027, 12, 28)
    assert rights.internal_appeal_decision_due(submitted_in, date(2027, 12, 10)) == date(2027, 12, 25)
    # Past the legal date already (a late denial): the district's own days.
    assert rights.internal_appeal_decision_due(submitted_in, date(2027, 12, 29)) == date(2028, 1, 13)
    Permit.objects.filter(pk=submitted_in.pk).update(year_type="future")
    submitted_in.refresh_from_db()
    assert rights.internal_appeal_decision_due(submitted_in, date(2027, 12, 20)) == date(2028, 1, 4)


# --- What the services accept -----------------------------------------------------------


def test_no_release_is_a_reason_for_incoming_requests_only_and_given_alone(submitted_in, diana):
    with pytest.raises(services.PermitError, match="alone"):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_release", "no_space"], final=True)
    Permit.objects.filter(pk=submitted_in.pk).update(kind="inter_out")
    with pytest.raises(services.PermitError, match="incoming"):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_release"], final=True)


def test_no_internal_appeal_where_the_district_offers_none(submitted_in, diana, alice):
    set_district(offers_internal_appeal=False)
    deny(submitted_in, diana)
    with pytest.raises(services.PermitError, match="does not offer"):
        services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="Please")


def test_no_appeal_of_a_denial_for_lack_of_a_release(submitted_in, diana, alice):
    deny(submitted_in, diana, reasons=["no_release"])
    with pytest.raises(services.PermitError):
        services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="Please")
    with pytest.raises(services.PermitError, match="not appealable"):
        services.record_county_appeal(permit_id=submitted_in.pk, by=diana, filed_on=timezone.localdate())


def test_an_intra_district_denial_cannot_be_taken_to_the_county(submitted_in, diana):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    deny(submitted_in, diana)
    with pytest.raises(services.PermitError, match="Intra-district"):
        services.record_county_appeal(permit_id=submitted_in.pk, by=diana, filed_on=timezone.localdate())


def test_the_internal_appeal_window_closes_on_its_last_day(submitted_in, diana, alice):
    deny(submitted_in, diana)
    Permit.objects.filter(pk=submitted_in.pk).update(
        decided_at=timezone.now() - timedelta(days=District.current().internal_appeal_days + 1)
    )
    with pytest.raises(services.PermitError, match="deadline"):
        services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="Please")


def test_a_deemed_denial_can_go_to_the_county_and_the_district_may_still_approve(verified_in, diana, seats_b):
    Permit.objects.filter(pk=verified_in.pk).update(legal_due_date=timezone.localdate() - timedelta(days=1))
    assert services.record_deemed_denials(today=timezone.localdate()) == 1
    assert services.record_deemed_denials(today=timezone.localdate()) == 0
    appeal = services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=timezone.localdate())
    assert appeal.county_due_date == timezone.localdate() + timedelta(days=30)
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED


def test_no_deemed_denial_on_the_legal_due_date_itself(submitted_in):
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=timezone.localdate())
    assert services.record_deemed_denials(today=timezone.localdate()) == 0


def test_an_upheld_internal_appeal_issues_the_final_denial_letter_with_the_county_date(
    submitted_in, diana, alice, handle_events
):
    deny(submitted_in, diana)
    appeal = services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="Please reconsider.")
    assert appeal.decision_due_date is not None
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=False)
    handle_events()
    today = timezone.localdate()
    county = today + timedelta(days=30)
    text = letter_text(submitted_in, "final_denial")
    assert "final denial" in text
    assert f"until {spelled(county)}" in text
    assert "internal appeal) until" not in text  # no second internal appeal is offered
    email = OutboxEmail.objects.get(template="appeal_decided")
    assert email.attachment and f"until {spelled(county)}" in email.body_text


def test_a_granted_internal_appeal_approves_under_the_seat_rules(verified_in, diana, alice, seats_b):
    deny(verified_in, diana)
    seats_b.capacity = 0
    seats_b.save()
    appeal = services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="Please reconsider.")
    with pytest.raises(services.NoSeatLeft):
        services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=True)
    assert Appeal.objects.get(pk=appeal.pk).outcome == Appeal.Outcome.PENDING  # nothing half-done


# --- Letters and emails say exactly the rule that applies -----------------------------


def test_an_intra_district_denial_letter_and_email_promise_no_county_appeal(submitted_in, diana, handle_events):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    deny(submitted_in, diana)
    handle_events()
    text = letter_text(submitted_in, "denial")
    email = OutboxEmail.objects.get(template="permit_denied")
    for said in (text, " ".join(email.body_text.split())):
        assert "cannot be appealed to the county board of education" in said
        assert "within 30 calendar days" not in said
        assert "(internal appeal) until" in said


def test_an_intra_district_denial_without_a_district_appeal_is_final(submitted_in, diana, handle_events):
    set_district(offers_internal_appeal=False)
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    deny(submitted_in, diana)
    handle_events()
    text = letter_text(submitted_in, "denial")
    assert "does not offer an appeal of it; this decision is final" in text
    assert "internal appeal" not in text


def test_a_denial_for_lack_of_a_release_says_it_is_not_appealable(submitted_in, diana, handle_events):
    deny(submitted_in, diana, reasons=["no_release"])
    handle_events()
    text = letter_text(submitted_in, "denial")
    assert "not a denial that can be appealed" in text and "Mesa Grande Unified" in text
    assert "county board of education within" not in text


def test_the_family_page_states_the_rights_of_its_denial(submitted_in, diana, alice_client):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    deny(submitted_in, diana)
    page = alice_client.get(f"/family/permits/{submitted_in.pk}/").content.decode()
    assert "cannot be appealed to the county board" in page
    assert "Appeal the decision" in page


# --- Protected transfers (item 8) -------------------------------------------------------


def test_a_protected_outgoing_request_is_not_denied_on_usual_grounds(submitted_in, diana):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="inter_out", military_family=True)
    for reasons in (["no_space"], ["grades"], ["other"]):
        with pytest.raises(services.PermitError, match="may not prohibit"):
            services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=reasons, note="", final=True)
    deny(submitted_in, diana, reasons=["reason_not_supported"])
    assert submitted_in.status == S.DENIED and submitted_in.decision_rule == "outgoing_protected"


def test_a_protected_incoming_request_is_never_refused_for_grades_attendance_or_behavior(submitted_in, diana):
    Permit.objects.filter(pk=submitted_in.pk).update(bullying_victim=True)
    for reason in ("grades", "attendance", "behavior"):
        with pytest.raises(services.PermitError, match="Not a reason"):
            services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=[reason], note="", final=True)
    deny(submitted_in, diana, reasons=["no_space"])
    assert submitted_in.decision_rule == "incoming_priority"


def test_the_rule_that_applied_is_recorded_on_an_approval(verified_in, diana):
    Permit.objects.filter(pk=verified_in.pk).update(military_family=True)
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    verified_in.refresh_from_db()
    assert verified_in.decision_rule == "incoming_priority"


def test_an_unprotected_request_records_no_rule(verified_in, diana):
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    verified_in.refresh_from_db()
    assert verified_in.decision_rule == ""


def test_the_denial_form_offers_only_the_allowed_reasons(submitted_in, diana):
    from ..conftest import login

    Permit.objects.filter(pk=submitted_in.pk).update(bullying_victim=True)
    page = login(diana).get(f"/staff/permits/{submitted_in.pk}/").content.decode()
    assert 'value="no_space"' in page and 'value="grades"' not in page and 'value="behavior"' not in page
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra")
    page = login(diana).get(f"/staff/permits/{submitted_in.pk}/").content.decode()
    assert "This request cannot be denied" in page and 'value="no_space"' not in page


def test_a_rule_set_where_silence_is_no_denial_records_no_deemed_denial(submitted_in, monkeypatch):
    import dataclasses

    from permits import clock

    approving = tuple(dataclasses.replace(r, no_decision_counts_as="approval") for r in clock.RULE_SETS)
    monkeypatch.setattr(clock, "RULE_SETS", approving)
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=timezone.localdate() - timedelta(days=3))
    assert services.record_deemed_denials(today=timezone.localdate()) == 0


def test_a_deemed_denial_is_dated_the_day_after_the_legal_due_date(submitted_in):
    legal = timezone.localdate() - timedelta(days=3)
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=legal)
    services.record_deemed_denials(today=timezone.localdate())
    submitted_in.refresh_from_db()
    assert submitted_in.deemed_denial_risk_since == legal + timedelta(days=1)
    assert submitted_in.events.filter(kind="deemed_denied").count() == 1
