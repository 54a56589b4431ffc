"""The home district's release arriving after an incoming packet was submitted
(issue 11): the family uploads it from its packet page, or staff record that it came
another way; either clears `release_pending` and tells the assigned technician.
`release_pending_in` (tests/conftest.py) is such a packet, claimed by Tina."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outbox.models import OutboxEmail
from permits import services
from permits.models import Document, Permit, PermitEvent

from ..factories import pdf_upload

S = Permit.Status


def not_a_pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("release.pdf", b"<html><body>not a pdf</body></html>", content_type="application/pdf")


def release_events(permit):
    return permit.events.filter(kind=PermitEvent.Kind.RELEASE_RECEIVED)


def upload_url(permit) -> str:
    return reverse("permit_release", args=[permit.pk])


def test_the_family_uploads_the_release_later_and_the_packet_is_approved(
    release_pending_in, alice, alice_client, tina, handle_events
):
    permit = release_pending_in
    with pytest.raises(services.PermitError, match="release from the home district has not arrived"):
        services.approve_permit(permit_id=permit.pk, by=tina)

    response = alice_client.post(upload_url(permit), {"file": pdf_upload("release.pdf")})
    assert response.status_code == 302 and response["Location"] == reverse("permit_detail", args=[permit.pk])
    permit.refresh_from_db()
    assert not permit.release_pending
    assert permit.release_received_at and permit.release_received_by == alice
    assert permit.release_received_how == ""
    release = permit.documents.get(document_type__code="release")
    assert release.original_name == "release.pdf" and release.review == Document.Review.PENDING
    event = release_events(permit).get()
    assert event.actor == alice and "release.pdf" in event.note

    handle_events()
    email = OutboxEmail.objects.get(template="staff_release_received")
    assert email.to == tina.email
    assert permit.reference in email.subject

    # The uploaded file is a document like any other: staff verify it first.
    with pytest.raises(services.PermitError, match="not reviewed yet"):
        services.approve_permit(permit_id=permit.pk, by=tina)
    Document.objects.filter(pk=release.pk).update(review=Document.Review.VERIFIED)
    assert services.approve_permit(permit_id=permit.pk, by=tina).status == S.APPROVED


def test_the_family_sees_the_upload_form_only_while_the_release_is_awaited(release_pending_in, alice_client):
    permit = release_pending_in
    detail = reverse("permit_detail", args=[permit.pk])
    assert upload_url(permit) in alice_client.get(detail).text
    alice_client.post(upload_url(permit), {"file": pdf_upload("release.pdf")})
    page = alice_client.get(detail).text
    assert upload_url(permit) not in page
    assert "Release received" in page


def test_no_upload_form_on_a_packet_that_is_not_waiting_for_a_release(submitted_in, alice_client):
    assert upload_url(submitted_in) not in alice_client.get(reverse("permit_detail", args=[submitted_in.pk])).text


def test_staff_record_a_release_that_came_on_paper_and_approve_without_a_file(release_pending_in, tina, handle_events):
    permit = services.receive_release(
        permit_id=release_pending_in.pk, by=tina, how="  Paper release received at the counter  "
    )
    permit.refresh_from_db()
    assert not permit.release_pending
    assert (permit.release_received_by, permit.release_received_how) == (tina, "Paper release received at the counter")
    assert release_events(permit).get().note == "Paper release received at the counter"
    assert not permit.documents.filter(document_type__code="release").exists()
    handle_events()
    assert OutboxEmail.objects.filter(template="staff_release_received", to=tina.email).count() == 1
    assert services.approve_permit(permit_id=permit.pk, by=tina).status == S.APPROVED


def test_it_refuses_a_closed_request(release_pending_in, alice):
    permit = release_pending_in
    services.withdraw_permit(permit_id=permit.pk, by=alice)
    with pytest.raises(services.PermitError, match="no longer open"):
        services.receive_release(permit_id=permit.pk, by=alice, upload=pdf_upload("release.pdf"))
    permit.refresh_from_db()
    assert permit.release_pending and not release_events(permit).exists()
    assert not permit.documents.filter(document_type__code="release").exists()


def test_it_refuses_a_packet_that_is_not_waiting_for_a_release(submitted_in, tina):
    with pytest.raises(services.PermitError, match="not waiting for a release"):
        services.receive_release(permit_id=submitted_in.pk, by=tina, how="Verification code ABC123")
    submitted_in.refresh_from_db()
    assert submitted_in.release_received_at is None and not release_events(submitted_in).exists()


def test_it_refuses_neither_a_file_nor_how_it_arrived(release_pending_in, tina):
    with pytest.raises(services.PermitError, match="Upload the release, or say how it arrived"):
        services.receive_release(permit_id=release_pending_in.pk, by=tina, how="   ")
    release_pending_in.refresh_from_db()
    assert release_pending_in.release_pending and not release_events(release_pending_in).exists()


def test_a_bad_file_is_refused_with_a_clear_error_and_nothing_is_lost(release_pending_in, alice_client):
    permit = release_pending_in
    documents = set(permit.documents.values_list("pk", flat=True))
    response = alice_client.post(upload_url(permit), {"file": not_a_pdf()}, follow=True)
    assert "This file is not a PDF, JPEG or PNG" in response.text
    permit.refresh_from_db()
    assert permit.release_pending and permit.release_received_at is None
    assert set(permit.documents.values_list("pk", flat=True)) == documents
    assert not release_events(permit).exists()
    assert upload_url(permit) in response.text  # the form is still there to try again


def test_posting_without_a_file_says_so(release_pending_in, alice_client):
    response = alice_client.post(upload_url(release_pending_in), {}, follow=True)
    assert "This field is required." in response.text
    release_pending_in.refresh_from_db()
    assert release_pending_in.release_pending


def test_a_closed_request_says_why_on_the_packet_page(release_pending_in, alice, alice_client):
    permit = release_pending_in
    services.withdraw_permit(permit_id=permit.pk, by=alice)
    response = alice_client.post(upload_url(permit), {"file": pdf_upload("release.pdf")}, follow=True)
    assert "it is no longer open" in response.text
    assert upload_url(permit) not in response.text  # a closed request offers no upload
    assert not permit.documents.filter(document_type__code="release").exists()


def test_another_familys_packet_is_a_404(release_pending_in, bob_client):
    permit = release_pending_in
    response = bob_client.post(upload_url(permit), {"file": pdf_upload("release.pdf")})
    assert response.status_code == 404
    permit.refresh_from_db()
    assert permit.release_pending and not permit.documents.filter(document_type__code="release").exists()


def test_a_rejected_release_makes_the_request_wait_for_one_again(release_pending_in, alice, tina, alice_client):
    from reviews import services as desk

    services.receive_release(permit_id=release_pending_in.pk, by=alice, upload=pdf_upload("release.pdf"))
    release = release_pending_in.documents.get(document_type__code="release")
    desk.review_document(document_id=release.pk, by=tina, verified=False, reason="Unsigned")
    release_pending_in.refresh_from_db()
    assert release_pending_in.release_pending
    page = alice_client.get(f"/family/permits/{release_pending_in.pk}/").content.decode()
    assert "Upload the release" in page
