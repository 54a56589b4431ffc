from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import OutboxEmail
from permits.models import Document, Permit, PermitEvent, SeatAllocation
from reviews import services
from reviews.models import Appeal, SiteReview

from ..conftest import doc_type
from ..factories import pdf_upload

S = Permit.Status


def status_events(permit):
    return list(permit.events.filter(kind="status").values_list("old_status", "new_status"))


def test_claiming_assigns_and_starts_the_review(submitted_in, tina):
    services.claim_permit(permit_id=submitted_in.pk, by=tina)
    submitted_in.refresh_from_db()
    assert submitted_in.assigned_to == tina and submitted_in.status == S.UNDER_REVIEW
    assert status_events(submitted_in)[-1] == ("submitted", "under_review")
    assert submitted_in.events.filter(kind="assigned", actor=tina).exists()


def test_assigning_to_a_non_technician_is_refused(submitted_in, tina, diana):
    with pytest.raises(services.PermitError):
        services.assign_permit(permit_id=submitted_in.pk, to=diana, by=tina)


def test_rejecting_a_document_needs_a_reason_the_family_reads(submitted_in, tina):
    document = submitted_in.documents.first()
    with pytest.raises(services.PermitError):
        services.review_document(document_id=document.pk, by=tina, verified=False, reason=" ")
    services.review_document(document_id=document.pk, by=tina, verified=False, reason="Blurry scan")
    document.refresh_from_db()
    assert (document.review, document.rejection_reason) == ("rejected", "Blurry scan")
    assert submitted_in.events.filter(kind="document_rejected", actor=tina).exists()


def test_approval_needs_every_document_verified(submitted_in, seats_b, tina):
    with pytest.raises(services.PermitError, match="not verified"):
        services.approve_permit(permit_id=submitted_in.pk, by=tina)
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.SUBMITTED


def test_approval_of_inter_in_needs_the_release(verified_in, tina):
    Permit.objects.filter(pk=verified_in.pk).update(release_pending=True)
    with pytest.raises(services.PermitError, match="release"):
        services.approve_permit(permit_id=verified_in.pk, by=tina)


def test_approval_takes_a_seat_audits_and_emails(verified_in, tina, school_b):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED and verified_in.placed_school == school_b
    assert verified_in.decided_at
    assert status_events(verified_in)[-1] == ("submitted", "approved")
    assert OutboxEmail.objects.filter(template="permit_approved", permit=verified_in).count() == 1


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


def test_request_information_then_the_family_answers(submitted_in, tina, alice):
    request = services.request_information(
        permit_id=submitted_in.pk,
        by=tina,
        message="Please send the newest report card.",
        document_types=[doc_type("report_card")],
    )
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.INFO_REQUESTED
    assert request.due_date == timezone.localdate() + timedelta(days=10) == submitted_in.info_due_date
    email = OutboxEmail.objects.get(template="permit_info_requested")
    assert "newest report card" in email.body_text and "abandoned" in email.body_text
    with pytest.raises(services.PermitError, match="upload first"):
        services.answer_information_request(permit_id=submitted_in.pk, by=alice)
    from permits import services as permit_services

    permit_services.add_document(
        permit_id=submitted_in.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
    )
    services.answer_information_request(permit_id=submitted_in.pk, by=alice, answer="Here it is")
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.UNDER_REVIEW and submitted_in.info_due_date is None
    request.refresh_from_db()
    assert request.answer == "Here it is" and request.answered_at
    # The legal clock does not restart (DOMAIN §4).
    assert submitted_in.due_date == Permit.objects.get(pk=submitted_in.pk).legal_due_date


def test_a_technician_denial_is_a_recommendation_the_director_confirms(submitted_in, tina, diana):
    services.deny_permit(permit_id=submitted_in.pk, by=tina, reasons=["no_space"], note="Grade 4 is full.")
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.SUBMITTED and submitted_in.denial_pending_confirmation
    assert submitted_in.events.filter(kind="denial_recommended", actor=tina).exists()
    assert not OutboxEmail.objects.filter(template="permit_denied").exists()
    services.confirm_denial(permit_id=submitted_in.pk, by=diana)
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.DENIED and status_events(submitted_in)[-1] == ("submitted", "denied")
    email = OutboxEmail.objects.get(template="permit_denied")
    deadline = timezone.localdate() + timedelta(days=30)
    assert "county board of education within 30 calendar days" in email.body_text
    assert f"{deadline:%B} {deadline.day}, {deadline.year}" in email.body_text
    assert "No space at the school and grade requested" in email.body_text


def test_the_district_may_let_technicians_deny_directly(submitted_in, tina, district):
    district.technicians_can_deny = True
    district.save()
    services.deny_permit(permit_id=submitted_in.pk, by=tina, reasons=["grades"], note="")
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.DENIED


def test_a_denial_needs_a_reason(submitted_in, diana):
    with pytest.raises(services.PermitError):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=[], note="")


def test_an_intra_request_of_a_bullying_victim_cannot_be_denied(submitted_in, diana):
    Permit.objects.filter(pk=submitted_in.pk).update(kind="intra", bullying_victim=True)
    with pytest.raises(services.PermitError, match="bullying"):
        services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"])


def test_void_and_its_email(submitted_in, tina):
    services.void_permit(permit_id=submitted_in.pk, by=tina, reason="Duplicate of P-XYZ")
    submitted_in.refresh_from_db()
    assert submitted_in.status == S.VOIDED
    assert status_events(submitted_in)[-1] == ("submitted", "voided")
    assert OutboxEmail.objects.filter(template="permit_voided").count() == 1


@pytest.mark.parametrize("grade, allowed", [(4, True), (9, True), (10, False), (11, False), (12, False)])
def test_revocation_is_refused_for_students_entering_grade_11_or_12(verified_in, tina, diana, grade, allowed, seats_b):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    Permit.objects.filter(pk=verified_in.pk).update(grade=grade)
    if allowed:
        services.revoke_permit(
            permit_id=verified_in.pk, by=diana, reason="Attendance", effective_on=timezone.localdate()
        )
        verified_in.refresh_from_db()
        assert verified_in.status == S.REVOKED
        assert OutboxEmail.objects.filter(template="permit_revoked").count() == 1
    else:
        with pytest.raises(services.PermitError, match="grade 11 or 12"):
            services.revoke_permit(
                permit_id=verified_in.pk, by=diana, reason="Attendance", effective_on=timezone.localdate()
            )


def test_bulk_approval_checks_each_packet_on_its_own(verified_in, submitted_in, tina, alice, school_year):
    from permits import services as permit_services
    from tests.factories import StudentFactory

    other = StudentFactory(family=alice.family)
    second = permit_services.start_permit(
        family=alice.family, student=other, school_year=school_year, kind="inter_in", by=alice
    )
    result = services.bulk_approve(permit_ids=[verified_in.pk, second.pk], by=tina)
    assert [p.pk for p in result.approved] == [verified_in.pk]
    assert [p.pk for p, _ in result.refused] == [second.pk]
    assert Permit.objects.get(pk=second.pk).status == S.DRAFT


def test_site_review_records_a_recommendation(verified_in, tina, sam):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    with pytest.raises(services.PermitError):
        services.record_site_review(permit_id=verified_in.pk, by=sam, recommend_revocation=True, reason="")
    review = services.record_site_review(
        permit_id=verified_in.pk, by=sam, recommend_revocation=True, reason="Absent 20 days"
    )
    assert review.outcome == SiteReview.Outcome.RECOMMEND_REVOCATION
    assert verified_in.events.filter(kind="revocation_recommended", note="Absent 20 days").exists()


def _deny_finally(permit, diana):
    return services.deny_permit(permit_id=permit.pk, by=diana, reasons=["no_space"], note="Full")


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


def test_an_internal_appeal_upheld_keeps_the_denial_and_emails(verified_in, diana, alice):
    _deny_finally(verified_in, diana)
    appeal = services.file_internal_appeal(permit_id=verified_in.pk, by=alice, statement="Please.")
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=False)
    verified_in.refresh_from_db()
    assert verified_in.status == S.DENIED
    assert OutboxEmail.objects.filter(template="appeal_decided").exists()


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


def test_a_county_appeal_is_due_in_30_days_or_60_with_a_reason(verified_in, diana):
    _deny_finally(verified_in, diana)
    filed = timezone.localdate()
    appeal = services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=filed)
    assert appeal.county_due_date == filed + timedelta(days=30)
    appeal = services.record_county_appeal(
        permit_id=verified_in.pk, by=diana, filed_on=filed, extension_reason="Large county"
    )
    assert appeal.county_due_date == filed + timedelta(days=60)


def test_a_granted_county_appeal_admits_without_delay_even_when_full(verified_in, diana, seats_b):
    _deny_finally(verified_in, diana)
    seats_b.capacity = 0
    seats_b.save()
    appeal = services.record_county_appeal(permit_id=verified_in.pk, by=diana, filed_on=timezone.localdate())
    services.decide_county_appeal(appeal_id=appeal.pk, by=diana, granted=True, decided_on=timezone.localdate())
    verified_in.refresh_from_db()
    assert verified_in.status == S.APPROVED
    assert OutboxEmail.objects.filter(template="permit_approved").exists()


def test_every_staff_action_leaves_an_audit_row(verified_in, tina):
    before = PermitEvent.objects.count()
    services.claim_permit(permit_id=verified_in.pk, by=tina)
    services.add_note(permit_id=verified_in.pk, by=tina, text="Called the family")
    services.review_document(document_id=Document.objects.filter(permit=verified_in).first().pk, by=tina, verified=True)
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    kinds = list(PermitEvent.objects.order_by("pk").values_list("kind", flat=True)[before:])
    assert kinds == ["assigned", "status", "document_verified", "status"]
