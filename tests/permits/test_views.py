import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from outbox.models import OutboxEmail
from permits import services
from permits.models import Document, Permit, PermitKind

from ..conftest import doc_type
from ..factories import StudentFactory, pdf_upload


def pk_url_names() -> set[str]:
    """Every named URL outside the admin whose pattern takes an id."""
    resolver = get_resolver()
    names = set()
    for name in resolver.reverse_dict:
        if isinstance(name, str) and not name.startswith("admin"):
            for possibilities, *_ in resolver.reverse_dict.getlist(name):
                if any("pk" in params for _, params in possibilities):
                    names.add(name)
    return names


OBJECT_OF = {
    "permit_detail": "permit",
    "permit_details": "permit",
    "permit_documents": "permit",
    "permit_confirm": "permit",
    "permit_submit": "permit",
    "permit_withdraw": "permit",
    "permit_answer": "permit",
    "permit_appeal": "permit",
    "permit_release": "permit",
    "permit_confirm_return": "permit",
    "document_download": "document",
    "document_delete": "document",
    "student_edit": "student",
}


@pytest.fixture
def alices_objects(draft_in):
    return {"permit": draft_in.pk, "document": draft_in.documents.first().pk, "student": draft_in.student_id}


def test_every_url_with_an_id_is_covered_by_an_access_test():
    from ..enrollment.test_staff_views import STAFF_ENROLLMENT_OBJECT_OF
    from ..enrollment.test_views import FAMILY_OBJECT_OF, PUBLIC_OBJECT_OF
    from ..notifications.test_letters import LETTER_OBJECT_OF
    from ..reviews.test_access import STAFF_OBJECT_OF
    from ..reviews.test_residence_reviews import ADDRESS_OBJECT_OF

    # A new view with an id must be added to one of the tables, and so to the tests.
    tables = set(OBJECT_OF) | set(STAFF_OBJECT_OF) | set(LETTER_OBJECT_OF) | set(ADDRESS_OBJECT_OF)
    tables |= set(FAMILY_OBJECT_OF) | set(PUBLIC_OBJECT_OF) | set(STAFF_ENROLLMENT_OBJECT_OF)
    assert pk_url_names() == tables


@pytest.mark.parametrize("name", sorted(OBJECT_OF))
def test_another_familys_object_is_a_404(name, alices_objects, bob_client):
    url = reverse(name, args=[alices_objects[OBJECT_OF[name]]])
    statuses = {bob_client.get(url).status_code, bob_client.post(url).status_code}
    # The method the view does not take is a 405 before any lookup; the one it
    # takes finds nothing.
    assert 404 in statuses
    assert statuses <= {404, 405}


@pytest.mark.parametrize("name", sorted(OBJECT_OF))
def test_an_anonymous_visitor_is_sent_to_sign_in(name, alices_objects):
    response = Client().get(reverse(name, args=[alices_objects[OBJECT_OF[name]]]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_bobs_actions_on_alices_packet_change_nothing(draft_in, bob_client):
    bob_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    bob_client.post(reverse("permit_withdraw", args=[draft_in.pk]))
    bob_client.post(reverse("document_delete", args=[draft_in.documents.first().pk]))
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.DRAFT
    assert draft_in.documents.count() == 4


@pytest.mark.parametrize(
    "name", ["permit_submit", "permit_withdraw", "permit_release", "permit_confirm_return", "document_delete"]
)
def test_action_views_refuse_get(name, alices_objects, alice_client):
    response = alice_client.get(reverse(name, args=[alices_objects[OBJECT_OF[name]]]))
    assert response.status_code == 405


def test_the_start_page_lists_the_documents_before_starting(alice_client, sofia, school_year):
    response = alice_client.get(reverse("permit_start"))
    assert response.status_code == 200
    assert "Documents you will need" in response.text
    assert "Approved release from the home district" in response.text
    assert "Employer letter with the physical work address" in response.text


def test_the_wizard_creates_fills_and_saves_for_later(alice_client, sofia, school_year, school_b):
    response = alice_client.post(
        reverse("permit_start"), {"student": sofia.pk, "school_year": school_year.pk, "kind": "inter_in"}
    )
    permit = Permit.objects.get()
    assert response["Location"] == reverse("permit_details", args=[permit.pk])
    response = alice_client.post(
        reverse("permit_details", args=[permit.pk]),
        {"requested_school": school_b.pk, "home_district": "Mesa Grande Unified", "save_and_exit": ""},
    )
    assert response["Location"] == reverse("family_dashboard")
    permit.refresh_from_db()
    assert (permit.requested_school, permit.home_district) == (school_b, "Mesa Grande Unified")
    dashboard = alice_client.get(reverse("family_dashboard"))
    assert "Continue this request" in dashboard.text


def test_a_missing_field_is_explained_and_the_rest_kept(alice_client, draft_in):
    response = alice_client.post(
        reverse("permit_details", args=[draft_in.pk]), {"requested_school": "", "home_district": "Elsewhere"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert 'value="Elsewhere"' in response.text


def test_a_rejected_upload_says_why_and_loses_nothing(alice_client, draft_in):
    before = set(draft_in.documents.values_list("pk", flat=True))
    bad = pdf_upload("report.pdf")
    bad.file.seek(0)
    bad.file.write(b"<html><body>not a pdf</body></html>")
    bad.file.truncate()
    bad.file.seek(0)
    bad.size = len(b"<html><body>not a pdf</body></html>")
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("report_card").pk, "file": bad},
    )
    assert response.status_code == 400
    assert "This file is not a PDF, JPEG or PNG" in response.text
    assert set(draft_in.documents.values_list("pk", flat=True)) == before


def test_an_oversize_upload_says_why_as_json(alice_client, draft_in, district):
    district.max_file_mb = 0
    district.save()
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("report_card").pk, "file": pdf_upload()},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "largest file accepted" in response.json()["errors"][0]


def test_a_good_upload_is_stored_and_listed(alice_client, draft_in):
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("report_card").pk, "file": pdf_upload("second.pdf")},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"redirect": reverse("permit_documents", args=[draft_in.pk])}
    assert draft_in.documents.filter(original_name="second.pdf").exists()


def test_a_document_for_a_type_outside_the_checklist_is_refused(alice_client, draft_in):
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("military_orders").pk, "file": pdf_upload()},
    )
    assert response.status_code == 400
    assert not draft_in.documents.filter(document_type__code="military_orders").exists()


def test_the_download_is_an_attachment_that_cannot_be_sniffed(alice_client, draft_in):
    document = draft_in.documents.first()
    response = alice_client.get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_submit_needs_the_attestation(alice_client, draft_in):
    response = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {})
    assert response.status_code == 400
    assert "Please confirm that the information is true." in response.text
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.DRAFT


def test_submit_lists_what_is_missing(alice_client, draft_in):
    draft_in.documents.filter(document_type__code="behavior_report").delete()
    response = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    assert response.status_code == 400
    assert "Behavior and discipline report" in response.text


def test_a_double_submit_keeps_the_first_and_says_so(alice_client, draft_in, handle_events):
    first = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    second = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"}, follow=True)
    assert first.status_code == 302
    assert "This request was already submitted." in second.text
    assert draft_in.events.filter(new_status="submitted").count() == 1
    handle_events()
    assert OutboxEmail.objects.filter(template="permit_received").count() == 1


def test_the_family_withdraws_from_the_packet_page(alice_client, draft_in, alice):
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    response = alice_client.post(reverse("permit_withdraw", args=[draft_in.pk]), {"note": "moved"})
    assert response.status_code == 302
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.WITHDRAWN


def test_wizard_pages_of_a_submitted_packet_show_the_packet(alice_client, draft_in, alice):
    services.submit_permit(permit_id=draft_in.pk, by=alice)
    for name in ("permit_details", "permit_documents", "permit_confirm"):
        response = alice_client.get(reverse(name, args=[draft_in.pk]))
        assert response["Location"] == reverse("permit_detail", args=[draft_in.pk])


def test_the_dashboard_runs_a_constant_number_of_queries(alice, alice_client, draft_in, school_year):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert alice_client.get(reverse("family_dashboard")).status_code == 200
        return len(ctx.captured_queries)

    small = count_queries()
    for _ in range(5):
        student = StudentFactory(family=alice.family)
        for kind in (PermitKind.INTRA, PermitKind.INTER_OUT):
            permit = services.start_permit(
                family=alice.family, student=student, school_year=school_year, kind=kind, by=alice
            )
            services.add_document(
                permit_id=permit.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
            )
    assert count_queries() == small


def test_the_packet_page_runs_a_constant_number_of_queries(alice_client, draft_in, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert alice_client.get(reverse("permit_detail", args=[draft_in.pk])).status_code == 200
        return len(ctx.captured_queries)

    small = count_queries()
    for _ in range(6):
        services.add_document(
            permit_id=draft_in.pk, document_type=doc_type("report_card"), upload=pdf_upload(), by=alice
        )
    assert Document.objects.filter(permit=draft_in).count() == 10
    assert count_queries() == small


def test_behind_nginx_the_download_is_handed_over_after_the_permission_check(
    alice_client, bob_client, draft_in, settings
):
    settings.PORTAL_ACCEL_REDIRECT = "/protected-files/"
    document = draft_in.documents.first()
    response = alice_client.get(reverse("document_download", args=[document.pk]))
    assert response["X-Accel-Redirect"] == f"/protected-files/{document.file.name}"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response.content == b""
    assert "X-Accel-Redirect" not in bob_client.get(reverse("document_download", args=[document.pk]))


def test_the_packet_page_shows_its_communication_log(alice_client, draft_in, alice, handle_events):
    from outbox.models import OutboxEmail

    services.submit_permit(permit_id=draft_in.pk, by=alice)
    handle_events()
    page = alice_client.get(reverse("permit_detail", args=[draft_in.pk])).text
    assert "waiting to be sent" in page and draft_in.reference in page
    OutboxEmail.objects.update(status="failed")
    assert "could not be delivered" in alice_client.get(reverse("permit_detail", args=[draft_in.pk])).text
