from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import OutboxEmail
from permits import services
from permits.models import Permit, PermitEvent, PermitKind, Reason

from ..conftest import doc_type, required_types
from ..factories import StudentFactory, pdf_upload


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


def test_it_submits_a_complete_packet_with_its_clock_event_and_receipt(draft_in, alice):
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
    email = OutboxEmail.objects.get(permit=permit)
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


def test_a_second_submission_is_refused_and_changes_nothing(draft_in, alice):
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    with pytest.raises(services.TransitionNotAllowed):
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert draft_in.events.filter(kind="status").count() == 1
    assert OutboxEmail.objects.count() == 1


def test_every_guardian_of_the_family_gets_the_receipt(draft_in, alice):
    from ..factories import GuardianFactory

    second = GuardianFactory(family=alice.family, email="second@example.com")
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert sorted(OutboxEmail.objects.values_list("to", flat=True)) == sorted([alice.email, second.email])


def test_the_receipt_is_in_the_familys_language(draft_in, alice):
    alice.family.preferred_language = "es"
    alice.family.save()
    services.submit_permit(permit_id=draft_in.pk, by=alice)
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
