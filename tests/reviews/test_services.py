import pytest

from permits import services
from permits.models import Document, Permit, PermitEvent
from reviews import services as desk
from reviews.access import scope_of
from reviews.models import SiteReview

S = Permit.Status


def test_assigning_to_a_non_technician_is_refused(submitted_in, tina, diana):
    with pytest.raises(services.PermitError):
        desk.assign_permit(permit_id=submitted_in.pk, to=diana, by=tina)


def test_rejecting_a_document_needs_a_reason_the_family_reads(submitted_in, tina):
    document = submitted_in.documents.first()
    with pytest.raises(services.PermitError):
        desk.review_document(document_id=document.pk, by=tina, verified=False, reason=" ")
    desk.review_document(document_id=document.pk, by=tina, verified=False, reason="Blurry scan")
    document.refresh_from_db()
    assert (document.review, document.rejection_reason) == ("rejected", "Blurry scan")
    assert submitted_in.events.filter(kind="document_rejected", actor=tina).exists()


def test_a_denial_is_final_for_a_director_and_for_technicians_only_where_the_district_allows(
    tina, diana, sam, district
):
    assert scope_of(diana).may_deny_finally(district)
    assert not scope_of(tina).may_deny_finally(district)
    district.technicians_can_deny = True
    district.save()
    assert scope_of(tina).may_deny_finally(district) and not scope_of(sam).may_deny_finally(district)


def test_bulk_approval_checks_each_packet_on_its_own(verified_in, submitted_in, tina, alice, school_year):
    from permits import services as permit_services
    from tests.factories import StudentFactory

    other = StudentFactory(family=alice.family)
    second = permit_services.start_permit(
        family=alice.family, student=other, school_year=school_year, kind="inter_in", by=alice
    )
    result = desk.bulk_approve(permit_ids=[verified_in.pk, second.pk], by=tina)
    assert [p.pk for p in result.approved] == [verified_in.pk]
    assert [p.pk for p, _ in result.refused] == [second.pk]
    assert Permit.objects.get(pk=second.pk).status == S.DRAFT


def test_site_review_records_a_recommendation(verified_in, tina, sam):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    with pytest.raises(services.PermitError):
        desk.record_site_review(permit_id=verified_in.pk, by=sam, recommend_revocation=True, reason="")
    review = desk.record_site_review(
        permit_id=verified_in.pk, by=sam, recommend_revocation=True, reason="Absent 20 days"
    )
    assert review.outcome == SiteReview.Outcome.RECOMMEND_REVOCATION
    assert verified_in.events.filter(kind="revocation_recommended", note="Absent 20 days").exists()


def test_every_staff_action_leaves_an_audit_row(verified_in, tina):
    before = PermitEvent.objects.count()
    services.claim_permit(permit_id=verified_in.pk, by=tina)
    desk.add_note(permit_id=verified_in.pk, by=tina, text="Called the family")
    desk.review_document(document_id=Document.objects.filter(permit=verified_in).first().pk, by=tina, verified=True)
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    kinds = list(PermitEvent.objects.order_by("pk").values_list("kind", flat=True)[before:])
    assert kinds == ["assigned", "status", "document_verified", "status"]
