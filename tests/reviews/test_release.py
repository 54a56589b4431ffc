"""Staff record a release that came another way (paper, the other district's
verification code) from the review page; the page shows when, by whom and how."""

from django.urls import reverse

from permits.models import Permit, PermitEvent

from ..conftest import login
from ..factories import pdf_upload

HOW = "Verification code ABC123 from Mesa Grande Unified"


def record_url(permit) -> str:
    return reverse("staff_record_release", args=[permit.pk])


def review_url(permit) -> str:
    return reverse("staff_permit", args=[permit.pk])


def test_a_technician_records_the_release_and_approves(release_pending_in, tina):
    permit = release_pending_in
    client = login(tina)
    page = client.get(review_url(permit)).text
    assert record_url(permit) in page and "How did the release arrive?" in page

    response = client.post(record_url(permit), {"release-how": HOW}, follow=True)
    assert f"The release of {permit.reference} is recorded." in response.text
    assert HOW in response.text and record_url(permit) not in response.text
    permit.refresh_from_db()
    assert not permit.release_pending
    assert (permit.release_received_by, permit.release_received_how) == (tina, HOW)
    assert permit.events.filter(kind=PermitEvent.Kind.RELEASE_RECEIVED, actor=tina, note=HOW).count() == 1

    client.post(reverse("staff_approve", args=[permit.pk]), {"approve-school": "", "approve-note": ""})
    permit.refresh_from_db()
    assert permit.status == Permit.Status.APPROVED


def test_how_it_arrived_is_required(release_pending_in, tina):
    response = login(tina).post(record_url(release_pending_in), {"release-how": "  "}, follow=True)
    assert "This field is required." in response.text
    release_pending_in.refresh_from_db()
    assert release_pending_in.release_pending
    assert not release_pending_in.events.filter(kind=PermitEvent.Kind.RELEASE_RECEIVED).exists()


def test_a_packet_not_waiting_for_a_release_is_refused_with_a_message(submitted_in, tina):
    client = login(tina)
    assert record_url(submitted_in) not in client.get(review_url(submitted_in)).text
    response = client.post(record_url(submitted_in), {"release-how": HOW}, follow=True)
    assert "This request is not waiting for a release." in response.text
    submitted_in.refresh_from_db()
    assert submitted_in.release_received_at is None


def test_the_page_says_when_the_family_uploaded_it(release_pending_in, alice_client, tina):
    alice_client.post(reverse("permit_release", args=[release_pending_in.pk]), {"file": pdf_upload("release.pdf")})
    page = login(tina).get(review_url(release_pending_in)).text
    assert "Release received" in page and "uploaded by the family" in page


def test_a_site_administrator_gets_a_403(release_pending_in, sam, school_a):
    Permit.objects.filter(pk=release_pending_in.pk).update(requested_school=school_a)
    client = login(sam)
    assert record_url(release_pending_in) not in client.get(review_url(release_pending_in)).text
    assert client.post(record_url(release_pending_in), {"release-how": HOW}).status_code == 403
    release_pending_in.refresh_from_db()
    assert release_pending_in.release_pending


def test_it_refuses_get(release_pending_in, tina):
    assert login(tina).get(record_url(release_pending_in)).status_code == 405
