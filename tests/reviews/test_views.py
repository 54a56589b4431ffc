import csv
import io
import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxEmail
from permits import services
from permits import services as permit_services
from permits.models import Document, Permit, SeatAllocation
from reviews import services as desk
from reviews.access import scope_of
from reviews.selectors import QueueFilters, queue

from ..conftest import doc_type, login, required_types
from ..factories import GuardianFactory, StudentFactory, pdf_upload


def make_packets(n, school_year, school, *, kind="inter_in", verified=True):
    """n submitted packets, each of its own family, with documents (optionally verified)."""
    permits = []
    for _ in range(n):
        guardian = GuardianFactory()
        student = StudentFactory(family=guardian.family)
        permit = permit_services.start_permit(
            family=guardian.family, student=student, school_year=school_year, kind=kind, by=guardian
        )
        Permit.objects.filter(pk=permit.pk).update(requested_school=school, home_district="Elsewhere USD")
        for document_type in required_types(kind):
            permit_services.add_document(
                permit_id=permit.pk, document_type=document_type, upload=pdf_upload(), by=guardian
            )
        permit_services.submit_permit(permit_id=permit.pk, by=guardian)
        if verified:
            Document.objects.filter(permit=permit).update(review=Document.Review.VERIFIED)
        permits.append(permit)
    return permits


def test_the_queue_shows_open_packets_by_due_date_with_days_left(tina, submitted_in):
    response = login(tina).get(reverse("staff_queue"))
    assert response.status_code == 200
    assert submitted_in.reference in response.text
    days = (submitted_in.due_date - timezone.localdate()).days
    assert f"{days} days left" in response.text


def test_the_queue_filters(tina, submitted_in, school_a, school_b):
    client = login(tina)
    assert submitted_in.reference in client.get(reverse("staff_queue"), {"school": school_b.pk}).text
    assert submitted_in.reference not in client.get(reverse("staff_queue"), {"school": school_a.pk}).text
    assert submitted_in.reference in client.get(reverse("staff_queue"), {"q": "garcia"}).text
    assert submitted_in.reference in client.get(reverse("staff_queue"), {"q": submitted_in.reference.lower()}).text
    assert submitted_in.reference not in client.get(reverse("staff_queue"), {"assigned": "me"}).text
    assert submitted_in.reference in client.get(reverse("staff_queue"), {"assigned": "none"}).text
    assert submitted_in.reference not in client.get(reverse("staff_queue"), {"release_pending": "on"}).text
    assert submitted_in.reference not in client.get(reverse("staff_queue"), {"kind": "intra"}).text


def test_a_site_administrator_sees_only_their_school_in_the_queue(sam, submitted_in, school_a):
    assert submitted_in.reference not in login(sam).get(reverse("staff_queue")).text
    Permit.objects.filter(pk=submitted_in.pk).update(requested_school=school_a)
    assert submitted_in.reference in login(sam).get(reverse("staff_queue")).text


def test_keyset_pages_cover_every_packet_once_in_due_date_order(tina, school_year, school_b):
    permits = make_packets(7, school_year, school_b, verified=False)
    # Spread the due dates, with ties, to exercise the (due_date, id) cursor.
    for i, permit in enumerate(permits):
        Permit.objects.filter(pk=permit.pk).update(due_date=timezone.localdate() + timedelta(days=i // 2))
    scope = scope_of(tina)
    seen, after = [], ""
    while True:
        page = queue(scope, QueueFilters(), user=tina, after=after, size=3)
        seen += [p.pk for p in page.permits]
        if not page.next_cursor:
            break
        after = page.next_cursor
    expected = list(Permit.objects.order_by("due_date", "pk").values_list("pk", flat=True))
    assert seen == expected and len(seen) == 7


def test_the_queue_runs_a_constant_number_of_queries_at_any_depth(tina, school_year, school_b):
    client = login(tina)

    def count(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("staff_queue"), params).status_code == 200
        return len(ctx.captured_queries)

    make_packets(2, school_year, school_b, verified=False)
    few = count({})
    make_packets(8, school_year, school_b, verified=False)
    many = count({})
    last = Permit.objects.order_by("due_date", "pk")[5]
    deep = count({"after": f"{last.due_date.isoformat()}_{last.pk}"})
    assert few == many == deep


def test_approve_from_the_review_page(tina, verified_in):
    client = login(tina)
    response = client.post(
        reverse("staff_approve", args=[verified_in.pk]), {"approve-school": "", "approve-note": ""}, follow=True
    )
    assert "approved" in response.text
    verified_in.refresh_from_db()
    assert verified_in.status == "approved"


def test_the_review_page_shows_seats_history_notes_and_related_packets(tina, verified_in, alice, school_year):
    other_student = StudentFactory(family=alice.family, legal_first_name="Hermano")
    sibling = permit_services.start_permit(
        family=alice.family, student=other_student, school_year=school_year, kind="intra", by=alice
    )
    Permit.objects.filter(pk=sibling.pk).update(status="submitted")
    desk.add_note(permit_id=verified_in.pk, by=tina, text="Spoke with the mother")
    text = login(tina).get(reverse("staff_permit", args=[verified_in.pk])).text
    assert "5 seats · 0 approved · 1 pending · 5 left" in text
    assert "Spoke with the mother" in text
    assert sibling.reference in text
    assert "Submitted" in text


def test_internal_notes_never_reach_the_family(tina, submitted_in, alice_client):
    desk.add_note(permit_id=submitted_in.pk, by=tina, text="Secret staff remark")
    assert "Secret staff remark" not in alice_client.get(reverse("permit_detail", args=[submitted_in.pk])).text


def test_the_document_viewer_serves_inline_with_nosniff(tina, submitted_in):
    document = submitted_in.documents.first()
    response = login(tina).get(reverse("staff_document", args=[document.pk]))
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_verify_and_reject_documents_from_the_page(tina, submitted_in):
    first, second = submitted_in.documents.all()[:2]
    client = login(tina)
    client.post(reverse("staff_verify_document", args=[first.pk]))
    client.post(reverse("staff_reject_document", args=[second.pk]), {"reason": "Wrong student"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.review == "verified" and (second.review, second.rejection_reason) == ("rejected", "Wrong student")


def test_bulk_approve_shows_what_was_refused_and_why(tina, school_year, school_b, seats_b):
    ok = make_packets(2, school_year, school_b)
    pending = make_packets(1, school_year, school_b, verified=False)
    response = login(tina).post(reverse("staff_bulk_approve"), {"permits": [p.pk for p in ok + pending]})
    assert "2 packets approved" in response.text and "1 packet refused" in response.text
    assert "is not verified" in response.text
    assert Permit.objects.filter(status="approved").count() == 2


def test_the_information_request_round_trip_through_the_pages(tina, submitted_in, alice_client):
    client = login(tina)
    client.post(
        reverse("staff_request_info", args=[submitted_in.pk]),
        {
            "info-message": "Send the attendance record for this year.",
            "info-document_types": [doc_type("attendance_record").pk],
        },
    )
    submitted_in.refresh_from_db()
    assert submitted_in.status == "info_requested"
    page = alice_client.get(reverse("permit_documents", args=[submitted_in.pk]))
    assert "Send the attendance record for this year." in page.text
    alice_client.post(
        reverse("permit_documents", args=[submitted_in.pk]),
        {"document_type": doc_type("attendance_record").pk, "file": pdf_upload("att.pdf")},
    )
    alice_client.post(reverse("permit_answer", args=[submitted_in.pk]), {"answer": "Attached."})
    submitted_in.refresh_from_db()
    assert submitted_in.status == "under_review"


def test_the_family_files_an_internal_appeal_from_the_dashboard(diana, verified_in, alice_client):
    services.deny_permit(permit_id=verified_in.pk, by=diana, reasons=["no_space"], note="Full", final=True)
    detail = alice_client.get(reverse("permit_detail", args=[verified_in.pk])).text
    assert "Appeal the decision" in detail and "county board of education" in detail
    response = alice_client.post(
        reverse("permit_appeal", args=[verified_in.pk]),
        {"statement": "My employer is next to the school.", "file": pdf_upload("letter.pdf")},
    )
    assert response.status_code == 302
    appeal = verified_in.appeals.get()
    assert appeal.statement == "My employer is next to the school."
    assert verified_in.documents.filter(document_type__code="appeal_evidence").exists()


def test_the_report_counts_outcomes_and_downloads_as_csv(diana, tina, verified_in, school_year, school_b):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    denied = make_packets(1, school_year, school_b)[0]
    services.deny_permit(permit_id=denied.pk, by=diana, reasons=["grades"], final=True)
    make_packets(1, school_year, school_b)
    client = login(diana)
    response = client.get(reverse("staff_reports"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:4] == ["school_year", "kind", "received", "approved"]
    assert (row["received"], row["approved"], row["denied"], row["pending"]) == ("3", "1", "1", "1")
    assert row["decided"] == "2" and row["decided_by_legal_due_date"] == "2" and row["share_in_time"] == "1.000"
    assert float(row["median_days_to_decision"]) < 1
    assert ["2027-28", "Roosevelt Elementary", "Grade 4", "5", "1"] in rows


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_approvals_for_five_seats_give_exactly_five(
    district, school_year, school_b, tina, handle_events
):
    SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)
    permits = make_packets(20, school_year, school_b)
    barrier = threading.Barrier(20)
    outcomes = {}

    def approve(permit_id):
        try:
            barrier.wait()
            services.approve_permit(permit_id=permit_id, by=tina)
            outcomes[permit_id] = "approved"
        except services.NoSeatLeft as error:
            outcomes[permit_id] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(p.pk,)) for p in permits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(outcomes.values()).count("approved") == 5
    refusals = [v for v in outcomes.values() if v != "approved"]
    assert len(refusals) == 15 and all(r.startswith("No seat left at") for r in refusals)
    assert Permit.objects.filter(status="approved").count() == 5
    handle_events()
    assert OutboxEmail.objects.filter(template="permit_approved").count() == 5


def test_every_staff_view_of_a_document_is_in_the_record_of_disclosures(tina, diana, submitted_in):
    from reviews.models import RecordAccess

    document = submitted_in.documents.first()
    login(tina).get(reverse("staff_document", args=[document.pk]), REMOTE_ADDR="10.0.0.7")
    entry = RecordAccess.objects.get()
    assert (entry.user, entry.permit, entry.document, entry.purpose, entry.address) == (
        tina,
        submitted_in,
        document,
        "permit_review",
        "10.0.0.7",
    )
    page = login(diana).get(reverse("staff_access_log"), {"reference": submitted_in.reference})
    assert document.original_name in page.text and "Tina" in page.text
    assert login(tina).get(reverse("staff_access_log")).status_code == 403


def test_a_family_downloading_its_own_document_is_not_a_disclosure(alice_client, submitted_in):
    from reviews.models import RecordAccess

    alice_client.get(reverse("document_download", args=[submitted_in.documents.first().pk]))
    assert not RecordAccess.objects.exists()


def test_the_review_page_runs_the_same_queries_however_many_documents(tina, verified_in, district):
    client = login(tina)
    url = reverse("staff_permit", args=[verified_in.pk])

    def page_queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    page_queries()  # warm: content types are looked up once per process
    few = page_queries()
    template = verified_in.documents.first()
    for n in range(8):  # more documents, pending and of types off the checklist too
        Document.objects.create(
            permit=verified_in,
            document_type=doc_type("appeal_evidence") if n % 2 else template.document_type,
            file=template.file.name,
            original_name=f"extra-{n}.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            uploaded_by=verified_in.created_by,
        )
    many = page_queries()
    assert len(many) == len(few), "\n".join(sorted(set(few) ^ set(many)))
    assert "extra-7.pdf" in client.get(url).text
    # The district row is read once per request, whatever asks for it.
    assert sum('FROM "permits_district"' in sql for sql in many) == 1


def test_a_technician_records_and_ends_a_provisional_attendance_on_the_review_page(
    tina, submitted_in, school_b, year_in_session
):
    client = login(tina)
    url = reverse("staff_permit", args=[submitted_in.pk])
    assert "Record a provisional attendance" in client.get(url).text
    response = client.post(
        reverse("staff_start_provisional", args=[submitted_in.pk]),
        {"provisional-school": school_b.pk, "provisional-started_on": "2026-10-05", "provisional-reason": "Moved."},
        follow=True,
    )
    assert "Provisional attendance recorded: allowed until November 27, 2026." in response.text
    attendance = submitted_in.provisional_attendances.get()
    assert (attendance.school, attendance.started_on, attendance.recorded_by) == (school_b, date(2026, 10, 5), tina)
    assert "End the provisional attendance" in response.text
    response = client.post(
        reverse("staff_end_provisional", args=[submitted_in.pk]),
        {"provisional_end-ended_on": "2026-10-30"},
        follow=True,
    )
    assert "Provisional attendance ended." in response.text
    attendance.refresh_from_db()
    assert attendance.ended_on == date(2026, 10, 30)
    # Nothing open is left to end.
    assert client.post(reverse("staff_end_provisional", args=[submitted_in.pk])).status_code == 404


def test_a_provisional_attendance_without_a_reason_is_refused_with_a_message(
    tina, submitted_in, school_b, year_in_session
):
    response = login(tina).post(
        reverse("staff_start_provisional", args=[submitted_in.pk]),
        {"provisional-school": school_b.pk, "provisional-started_on": "2026-10-05", "provisional-reason": " "},
        follow=True,
    )
    assert "This field is required." in response.text
    assert not submitted_in.provisional_attendances.exists()


def test_a_site_administrator_cannot_record_a_provisional_attendance(sam, submitted_in, school_a, year_in_session):
    Permit.objects.filter(pk=submitted_in.pk).update(requested_school=school_a)
    response = login(sam).post(
        reverse("staff_start_provisional", args=[submitted_in.pk]),
        {"provisional-school": school_a.pk, "provisional-started_on": "2026-10-05", "provisional-reason": "Moved."},
    )
    assert response.status_code == 403
    assert not submitted_in.provisional_attendances.exists()


def test_the_review_page_asks_to_end_a_provisional_attendance_once_decided(
    diana, verified_in, school_b, year_in_session
):
    services.start_provisional_attendance(
        permit_id=verified_in.pk, by=diana, school=school_b, started_on=date(2026, 10, 5), reason="Moved."
    )
    client = login(diana)
    url = reverse("staff_permit", args=[verified_in.pk])
    assert "no appeal is pending: end the provisional attendance" not in client.get(url).text
    services.approve_permit(permit_id=verified_in.pk, by=diana)
    text = client.get(url).text
    assert "no appeal is pending: end the provisional attendance" in text
    assert "End the provisional attendance" in text
