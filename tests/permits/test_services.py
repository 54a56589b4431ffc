from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from outbox.models import OutboxEmail
from permits import services
from permits.models import Appeal, District, Permit, PermitEvent, PermitKind, Reason, SeatAllocation

from ..conftest import doc_type, required_types
from ..factories import StudentFactory, pdf_upload

S = Permit.Status


def test_it_starts_a_draft_with_an_audit_event(alice, sofia, school_year):
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTRA, by=alice
    )
    assert permit.status == Permit.Status.DRAFT
    assert permit.grade == sofia.grade
    assert list(permit.events.values_list("kind", "actor")) == [("created", alice.pk)]


def test_it_refuses_a_second_live_packet_for_the_same_student_year_and_kind(draft_in, alice, sofia, school_year):
    with pytest.raises(services.PermitError, match="already has a request"):
        services.start_permit(
            family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_IN, by=alice
        )


def test_it_allows_a_new_packet_after_a_withdrawal(draft_in, alice, sofia, school_year):
    services.withdraw_permit(permit_id=draft_in.pk, by=alice)
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_IN, by=alice
    )
    assert permit.pk != draft_in.pk


def test_it_refuses_another_familys_student(alice, bobs_student, school_year):
    with pytest.raises(services.PermitError):
        services.start_permit(
            family=alice.family, student=bobs_student, school_year=school_year, kind=PermitKind.INTRA, by=alice
        )


def test_it_refuses_a_year_outside_its_application_window(alice, sofia, school_year):
    school_year.applications_open_on = timezone.localdate() + timedelta(days=5)
    school_year.save()
    with pytest.raises(services.PermitError, match="accepted from"):
        services.start_permit(
            family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTRA, by=alice
        )


def test_it_submits_a_complete_packet_with_its_clock_event_and_receipt(draft_in, alice, handle_events):
    permit = services.submit_permit(permit_id=draft_in.pk, by=alice)
    permit.refresh_from_db()
    assert permit.status == Permit.Status.SUBMITTED
    assert permit.received_at is not None
    assert permit.year_type == "future"  # the year starts next August
    assert permit.legal_due_date == permit.school_year.first_day_of_instruction + timedelta(days=14)
    assert permit.due_date == permit.legal_due_date
    assert permit.attested_by == alice
    event = permit.events.get(kind=PermitEvent.Kind.STATUS)
    assert (event.old_status, event.new_status, event.actor) == ("draft", "submitted", alice)
    assert handle_events() == 1
    email = permit.emails.get()
    assert email.to == alice.email and email.template == "permit_received"
    assert permit.reference in email.subject
    assert email.status == OutboxEmail.Status.PENDING


def test_the_district_target_sets_an_earlier_due_date(draft_in, alice, district):
    district.service_level_days = 30
    district.save()
    permit = services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert permit.district_due_date == timezone.localdate() + timedelta(days=30)
    assert permit.due_date == permit.district_due_date < permit.legal_due_date


def test_it_refuses_an_incomplete_packet_and_lists_what_is_missing(draft_in, alice):
    draft_in.documents.filter(document_type__code="attendance_record").delete()
    with pytest.raises(services.MissingDocuments) as refused:
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert [t.code for t in refused.value.missing] == ["attendance_record"]
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.DRAFT
    assert not OutboxEmail.objects.exists()


def test_the_release_may_be_pending_but_must_be_marked_so(draft_in, alice):
    draft_in.documents.filter(document_type__code="release").delete()
    with pytest.raises(services.MissingDocuments):
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    Permit.objects.filter(pk=draft_in.pk).update(release_pending=True)
    assert services.submit_permit(permit_id=draft_in.pk, by=alice).status == Permit.Status.SUBMITTED


def test_the_iep_is_required_only_for_special_education(draft_in, alice, sofia):
    sofia.special_education = True
    sofia.save()
    with pytest.raises(services.MissingDocuments) as refused:
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert [t.code for t in refused.value.missing] == ["iep"]


def test_an_outgoing_packet_needs_the_documents_of_its_reason(alice, sofia, school_year):
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_OUT, by=alice
    )
    permit.reason = Reason.objects.get(code="employment")
    permit.destination_district = "Costa Clara Unified"
    permit.save()
    with pytest.raises(services.MissingDocuments) as refused:
        services.submit_permit(permit_id=permit.pk, by=alice)
    assert [t.code for t in refused.value.missing] == ["employer_letter"]
    services.add_document(permit_id=permit.pk, document_type=doc_type("employer_letter"), upload=pdf_upload(), by=alice)
    assert services.submit_permit(permit_id=permit.pk, by=alice).status == Permit.Status.SUBMITTED


def test_a_second_submission_is_refused_and_changes_nothing(draft_in, alice, handle_events):
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    with pytest.raises(services.TransitionNotAllowed):
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    handle_events()
    assert draft_in.events.filter(kind="status").count() == 1
    assert OutboxEmail.objects.count() == 1


def test_every_guardian_of_the_family_gets_the_receipt(draft_in, alice, handle_events):
    from ..factories import GuardianFactory

    second = GuardianFactory(family=alice.family, email="second@example.com")
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    assert sorted(OutboxEmail.objects.values_list("to", flat=True)) == sorted([alice.email, second.email])


def test_the_receipt_is_in_the_familys_language(draft_in, alice, handle_events):
    alice.family.preferred_language = "es"
    alice.family.save()
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    email = OutboxEmail.objects.get()
    assert email.language == "es"
    assert "Recibimos" in email.subject


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_it_withdraws_before_a_decision(draft_in, alice, status):
    if status == "submitted":
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    services.withdraw_permit(permit_id=draft_in.pk, by=alice, note="moved")
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.WITHDRAWN
    event = draft_in.events.filter(kind="status").last()
    assert (event.old_status, event.new_status, event.note) == (status, "withdrawn", "moved")


def test_it_refuses_to_withdraw_twice(draft_in, alice):
    services.withdraw_permit(permit_id=draft_in.pk, by=alice)
    with pytest.raises(services.TransitionNotAllowed):
        services.withdraw_permit(permit_id=draft_in.pk, by=alice)


@pytest.mark.parametrize(
    "old, new",
    [(old, new) for old in Permit.Status for new in Permit.Status if new not in Permit.TRANSITIONS[old]],
)
def test_change_status_refuses_every_transition_not_in_the_table(draft_in, alice, old, new):
    Permit.objects.filter(pk=draft_in.pk).update(status=old)
    draft_in.refresh_from_db()
    with pytest.raises(services.TransitionNotAllowed):
        services.change_status(draft_in, new, by=alice)
    assert not draft_in.events.filter(kind="status").exists()


@pytest.mark.parametrize("old, new", [(old, new) for old in Permit.Status for new in Permit.TRANSITIONS[old]])
def test_change_status_audits_every_allowed_transition(draft_in, alice, old, new):
    Permit.objects.filter(pk=draft_in.pk).update(status=old)
    draft_in.refresh_from_db()
    event = services.change_status(draft_in, new, by=alice, note="why")
    assert (event.old_status, event.new_status, event.actor, event.note) == (old, new, alice, "why")
    draft_in.refresh_from_db()
    assert draft_in.status == new


def test_a_document_for_a_submitted_packet_is_refused(draft_in, alice):
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    with pytest.raises(services.PermitError):
        services.add_document(
            permit_id=draft_in.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
        )


def test_the_packet_size_limit_is_enforced(draft_in, alice, district):
    district.max_packet_mb = 0
    district.save()
    with pytest.raises(services.PermitError, match="limit"):
        services.add_document(
            permit_id=draft_in.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
        )


def test_two_families_uploading_the_same_name_get_different_keys(draft_in, alice, bob, school_year):
    bobs = StudentFactory(family=bob.family)
    theirs = services.start_permit(
        family=bob.family, student=bobs, school_year=school_year, kind=PermitKind.INTRA, by=bob
    )
    mine = services.add_document(
        permit_id=draft_in.pk, document_type=doc_type("report_card"), upload=pdf_upload("report.pdf", "mine"), by=alice
    )
    other = services.add_document(
        permit_id=theirs.pk, document_type=doc_type("report_card"), upload=pdf_upload("report.pdf", "theirs"), by=bob
    )
    assert mine.file.name != other.file.name
    assert "report" not in mine.file.name
    assert mine.file.read() != other.file.read()
    assert mine.original_name == other.original_name == "report.pdf"


def test_removing_a_document_deletes_its_file_and_audits_it(draft_in, alice, django_capture_on_commit_callbacks):
    document = draft_in.documents.first()
    storage, name = document.file.storage, document.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_document(document_id=document.pk, by=alice)
    assert not storage.exists(name)
    assert draft_in.events.filter(kind="document_removed").count() == 1


def test_required_types_match_the_default_checklist(district):
    assert [t.code for t in required_types(PermitKind.INTER_IN)] == [
        "release",
        "report_card",
        "behavior_report",
        "attendance_record",
    ]


# --- Staff decisions (moved from the staff desk with the state machine) ---


def status_events(permit):
    return list(permit.events.filter(kind="status").values_list("old_status", "new_status"))


def test_claiming_assigns_and_starts_the_review(submitted_in, tina):
    services.claim_permit(permit_id=submitted_in.pk, by=tina)
    submitted_in.refresh_from_db()
    assert submitted_in.assigned_to == tina and submitted_in.status == S.UNDER_REVIEW
    assert status_events(submitted_in)[-1] == ("submitted", "under_review")
    assert submitted_in.events.filter(kind="assigned", actor=tina).exists()


def test_approval_needs_every_document_verified(submitted_in, seats_b, tina):
    with pytest.raises(services.PermitError, match="not verified"):
        services.approve_permit(permit_id=submitted_in.pk, by=tina)
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.SUBMITTED


def test_approval_of_inter_in_needs_the_release(verified_in, tina):
    Permit.objects.filter(pk=verified_in.pk).update(release_pending=True)
    with pytest.raises(services.PermitError, match="release"):
        services.approve_permit(permit_id=verified_in.pk, by=tina)


def test_approval_takes_a_seat_audits_and_emails(verified_in, tina, school_b, handle_events):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    handle_events()
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED and verified_in.placed_school == school_b
    assert verified_in.decided_at
    assert status_events(verified_in)[-1] == ("submitted", "approved")
    assert verified_in.emails.filter(template="permit_approved").count() == 1


def test_approval_may_place_the_student_at_another_school(verified_in, tina, school_a, school_year):
    SeatAllocation.objects.create(school=school_a, school_year=school_year, grade=4, capacity=1)
    services.approve_permit(permit_id=verified_in.pk, by=tina, school=school_a)
    verified_in.refresh_from_db()
    assert verified_in.placed_school == school_a


def test_approval_is_refused_when_no_seat_is_left(verified_in, tina, seats_b):
    seats_b.capacity = 0
    seats_b.save()
    with pytest.raises(services.NoSeatLeft):
        services.approve_permit(permit_id=verified_in.pk, by=tina)
    verified_in.refresh_from_db()
    assert verified_in.status == S.SUBMITTED and not OutboxEmail.objects.filter(template="permit_approved").exists()


def test_request_information_then_the_family_answers(submitted_in, tina, alice, handle_events):
    request = services.request_information(
        permit_id=submitted_in.pk,
        by=tina,
        message="Please send the newest report card.",
        document_types=[doc_type("report_card")],
    )
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.INFO_REQUESTED
    assert request.due_date == timezone.localdate() + timedelta(days=10) == submitted_in.info_due_date
    handle_events()
    email = OutboxEmail.objects.get(template="permit_info_requested")
    assert "newest report card" in email.body_text and "abandoned" in email.body_text
    # The answer-by date is in the email itself, not only in the attached letter.
    due = date_format(request.due_date, "DATE_FORMAT")
    assert f"Please answer by {due}." in email.body_text and due in email.body_html
    with pytest.raises(services.PermitError, match="upload first"):
        services.answer_information_request(permit_id=submitted_in.pk, by=alice)
    services.add_document(
        permit_id=submitted_in.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
    )
    services.answer_information_request(permit_id=submitted_in.pk, by=alice, answer="Here it is")
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.UNDER_REVIEW and submitted_in.info_due_date is None
    request.refresh_from_db()
    assert request.answer == "Here it is" and request.answered_at
    # The legal clock does not restart (DOMAIN §4).
    assert submitted_in.due_date == Permit.objects.get(pk=submitted_in.pk).legal_due_date


def test_a_denial_that_is_not_final_is_a_recommendation_the_director_confirms(submitted_in, tina, diana, handle_events):
    services.deny_permit(permit_id=submitted_in.pk, by=tina, reasons=["no_space"], note="Grade 4 is full.", final=False)
    handle_events()
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.SUBMITTED and submitted_in.denial_pending_confirmation
    assert submitted_in.events.filter(kind="denial_recommended", actor=tina).exists()
    assert not OutboxEmail.objects.filter(template="permit_denied").exists()
    services.confirm_denial(permit_id=submitted_in.pk, by=diana)
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.DENIED and status_events(submitted_in)[-1] == ("submitted", "denied")
    handle_events()
    email = OutboxEmail.objects.get(template="permit_denied")
    # The district offers an internal appeal: the denial is final when its window
    # closes unappealed, and the county's 30 days count from then (permits.rights).
    final_on = timezone.localdate() + timedelta(days=District.current().internal_appeal_days)
    county_until = final_on + timedelta(days=30)
    assert "county board of education within 30 calendar days of the final denial" in email.body_text
    assert f"until {county_until:%B} {county_until.day}, {county_until.year}" in email.body_text
    assert "No space at the school and grade requested" in email.body_text


def test_a_denial_needs_a_reason(submitted_in, diana):
    with pytest.raises(services.PermitError):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=[], note="", final=True)


def test_an_intra_request_of_a_bullying_victim_cannot_be_denied(submitted_in, diana):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra", bullying_victim=True)
    with pytest.raises(services.PermitError, match="bullying"):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], final=True)


def test_void_and_its_email(submitted_in, diana, handle_events):
    services.void_permit(permit_id=submitted_in.pk, by=diana, reason="duplicate", note="Same as P-XYZ")
    handle_events()
    submitted_in.refresh_from_db()
    assert (submitted_in.status, submitted_in.void_reason) == (S.VOIDED, "duplicate")
    assert status_events(submitted_in)[-1] == ("submitted", "voided")
    assert submitted_in.events.last().note == "A duplicate of another request — Same as P-XYZ"
    email = OutboxEmail.objects.get(template="permit_voided")
    assert "Reason: A duplicate of another request" in email.body_text
    assert "Same as P-XYZ" in email.body_text and "Same as P-XYZ" in email.body_html


def test_it_refuses_to_void_for_a_reason_not_in_the_list(submitted_in, diana):
    with pytest.raises(services.PermitError, match="Choose why"):
        services.void_permit(permit_id=submitted_in.pk, by=diana, reason="Duplicate of P-XYZ")
    submitted_in.refresh_from_db()
    assert (submitted_in.status, submitted_in.void_reason) == (S.SUBMITTED, "")
    assert status_events(submitted_in)[-1] != ("submitted", "voided")


@pytest.mark.parametrize("grade, allowed", [(4, True), (9, True), (10, False), (11, False), (12, False)])
def test_revocation_is_refused_for_students_entering_grade_11_or_12(
    verified_in, tina, diana, grade, allowed, seats_b, handle_events
):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    Permit.objects.filter(pk=verified_in.pk).update(grade=grade)
    if allowed:
        services.revoke_permit(
            permit_id=verified_in.pk, by=diana, reason="Attendance", effective_on=timezone.localdate()
        )
        verified_in.refresh_from_db()
        assert verified_in.status == S.REVOKED
        handle_events()
        assert OutboxEmail.objects.filter(template="permit_revoked").count() == 1
    else:
        with pytest.raises(services.PermitError, match="grade 11 or 12"):
            services.revoke_permit(
                permit_id=verified_in.pk, by=diana, reason="Attendance", effective_on=timezone.localdate()
            )


def _deny_finally(permit, diana):
    return services.deny_permit(permit_id=permit.pk, by=diana, reasons=["no_space"], note="Full", final=True)


def test_an_internal_appeal_overturned_approves_the_permit(verified_in, diana, alice):
    _deny_finally(verified_in, diana)
    appeal = services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="My work is next door.")
    assert verified_in.events.filter(kind="appeal_filed", actor=alice).exists()
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=True)
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED
    assert status_events(verified_in)[-1] == ("denied", "approved")
    appeal.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.OVERTURNED


def test_an_internal_appeal_upheld_keeps_the_denial_and_emails(verified_in, diana, alice, handle_events):
    _deny_finally(verified_in, diana)
    appeal = services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="Please.")
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=False)
    verified_in.refresh_from_db()
    assert verified_in.status == S.DENIED
    handle_events()
    email = OutboxEmail.objects.get(template="appeal_decided")
    assert "upheld" in email.body_text


def test_an_internal_appeal_after_the_window_is_refused(verified_in, diana, alice, district):
    _deny_finally(verified_in, diana)
    Permit.objects.filter(pk=verified_in.pk).update(
        decided_at=timezone.now() - timedelta(days=district.internal_appeal_days + 1)
    )
    with pytest.raises(services.PermitError, match="deadline"):
        services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="Late")


def test_an_appeal_of_an_open_request_is_refused(submitted_in, alice):
    with pytest.raises(services.PermitError):
        services.file_internal_appeal(permit_id=submitted_in.pk, by=alice, statement="?")


def test_a_county_appeal_is_due_in_30_days_or_60_with_a_reason_in_a_class_1_or_2_county(verified_in, diana):
    _deny_finally(verified_in, diana)
    filed = timezone.localdate()
    appeal = services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=filed)
    assert appeal.county_due_date == filed + timedelta(days=30)
    with pytest.raises(services.PermitError, match="class 1 or 2"):
        services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=filed, extension_reason="Busy")
    District.objects.filter(pk=1).update(county_class=2)
    District.forget_current()
    appeal = services.record_county_appeal(
        permit_id=verified_in.pk, by=diana, filed_on=filed, extension_reason="Large county"
    )
    assert appeal.county_due_date == filed + timedelta(days=60)
    District.objects.filter(pk=1).update(county_class=3)
    District.forget_current()
    with pytest.raises(services.PermitError, match="class 1 or 2"):
        services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=filed, extension_reason="Busy")


def test_a_granted_county_appeal_admits_without_delay_even_when_full(verified_in, diana, seats_b, handle_events):
    _deny_finally(verified_in, diana)
    seats_b.capacity = 0
    seats_b.save()
    appeal = services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=timezone.localdate())
    services.decide_county_appeal(appeal_id=appeal.pk, by=diana, granted=True, decided_on=timezone.localdate())
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED
    handle_events()
    assert OutboxEmail.objects.filter(template="permit_approved").exists()
    assert not OutboxEmail.objects.filter(template="appeal_decided").exists()
