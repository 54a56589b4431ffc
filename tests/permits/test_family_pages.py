"""What a new family meets on its own pages: the home address a packet needs before it
is submitted, the information request where the family lands, the decision letter on
the dashboard, the county office on /policy/, and the demo's sender address."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.template.defaultfilters import linebreaksbr
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import strip_tags

from applicants.models import Family
from outbox.models import OutboxEmail
from permits import services
from permits.models import Letter, Permit, PermitEvent, PermitKind

from ..conftest import doc_type, login, required_types
from ..factories import StudentFactory, pdf_upload

ROOT = Path(__file__).resolve().parents[2]
COUNTY_OFFICE = (
    "Sierra Azul County Office of Education, Interdistrict Attendance Appeals\n"
    "400 County Center Drive, Sierra Azul, CA 90998\n(555) 010-3000"
)


def text_of(response) -> str:
    return " ".join(strip_tags(response.text).split())


def without_address(family: Family) -> None:
    Family.objects.filter(pk=family.pk).update(street="", unit="", city="", postal_code="")


def in_spanish(msgid: str) -> str:
    with translation.override("es"):
        return translation.gettext(msgid)


@pytest.fixture
def info_requested(submitted_in, tina):
    """Alice's incoming packet, waiting for this year's attendance record."""
    services.claim_permit(permit_id=submitted_in.pk, by=tina)
    request = services.request_information(
        permit_id=submitted_in.pk,
        by=tina,
        message="The attendance record must cover this school year.",
        document_types=[doc_type("attendance_record")],
    )
    submitted_in.refresh_from_db()
    return request


# --- 1. No packet leaves without a home address -------------------------------------


def test_it_refuses_to_submit_a_packet_without_a_home_address(draft_in, alice):
    without_address(alice.family)
    with pytest.raises(services.MissingAddress) as refused:
        services.submit_permit(permit_id=draft_in.pk, by=alice)
    assert isinstance(refused.value, services.PermitError)
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.DRAFT and draft_in.received_at is None
    assert not draft_in.events.filter(kind=PermitEvent.Kind.STATUS).exists()


def test_an_address_without_its_city_or_zip_code_is_no_address(draft_in, alice):
    Family.objects.filter(pk=alice.family_id).update(city="", postal_code="")
    with pytest.raises(services.MissingAddress):
        services.submit_permit(permit_id=draft_in.pk, by=alice)


@translation.override("en")  # not the language an earlier request left active
def test_an_incoming_packet_asks_for_the_address_outside_the_district():
    assert "outside the district" in str(services.MissingAddress(PermitKind.INTER_IN))
    for kind in (PermitKind.INTER_OUT, PermitKind.INTRA):
        message = str(services.MissingAddress(kind))
        assert "home address" in message and "outside the district" not in message


def test_the_confirm_page_says_so_before_submit_with_a_link_to_the_profile(alice, alice_client, draft_in):
    without_address(alice.family)
    response = alice_client.get(reverse("permit_confirm", args=[draft_in.pk]))
    assert response.status_code == 200
    assert str(services.MissingAddress(PermitKind.INTER_IN)) in text_of(response)
    assert f'href="{reverse("family_profile")}#id_family-street"' in response.text
    assert "Enter my home address" in response.text
    assert "Submit the request" not in response.text


def test_the_submit_view_refuses_without_an_address_and_submits_nothing(alice, alice_client, draft_in, handle_events):
    without_address(alice.family)
    response = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    assert response.status_code == 400
    assert str(services.MissingAddress(PermitKind.INTER_IN)) in text_of(response)
    assert reverse("family_profile") in response.text
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.DRAFT
    handle_events()
    assert not OutboxEmail.objects.filter(template="permit_received").exists()


def test_the_refusal_is_in_the_familys_language(alice, draft_in):
    without_address(alice.family)
    Family.objects.filter(pk=alice.family_id).update(preferred_language="es")
    response = login(alice).post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    assert response.status_code == 400 and '<html lang="es">' in response.text
    with translation.override("es"):
        spanish = str(services.MissingAddress(PermitKind.INTER_IN))
    assert spanish in text_of(response)


def test_an_outgoing_packet_without_an_address_is_refused_in_its_own_words(alice, alice_client, sofia, school_year):
    permit = services.start_permit(
        family=alice.family, student=sofia, school_year=school_year, kind=PermitKind.INTER_OUT, by=alice
    )
    without_address(alice.family)
    page = text_of(alice_client.get(reverse("permit_confirm", args=[permit.pk])))
    assert str(services.MissingAddress(PermitKind.INTER_OUT)) in page
    assert "outside the district" not in page


def test_with_an_address_the_confirm_page_shows_where_the_letters_go(alice, alice_client, draft_in):
    family = alice.family
    response = alice_client.get(reverse("permit_confirm", args=[draft_in.pk]))
    page = text_of(response)
    assert "Your home address, outside the district" in page
    assert family.address_lines() == [family.street, f"{family.city}, CA {family.postal_code}"]
    assert f"{family.street}<br>{family.city}, CA {family.postal_code}" in response.text
    assert "Submit the request" in response.text
    submitted = alice_client.post(reverse("permit_submit", args=[draft_in.pk]), {"attest": "on"})
    assert submitted.status_code == 302
    draft_in.refresh_from_db()
    assert draft_in.status == Permit.Status.SUBMITTED


# --- 2. The information request where the family lands ------------------------------


def test_the_dashboard_shows_the_information_request_with_a_button_to_answer(
    alice_client, submitted_in, info_requested
):
    response = alice_client.get(reverse("family_dashboard"))
    page = text_of(response)
    due = date_format(info_requested.due_date, "DATE_FORMAT")
    assert f"The district asks for more information by {due}:" in page
    assert "The attendance record must cover this school year." in page
    assert "Documents asked for: Attendance record" in page
    answer = reverse("permit_documents", args=[submitted_in.pk])
    assert re.search(rf'href="{answer}"[^>]*>Send the requested documents</a>', response.text)


def test_the_packet_page_shows_the_information_request_with_a_button_to_answer(
    alice_client, submitted_in, info_requested
):
    response = alice_client.get(reverse("permit_detail", args=[submitted_in.pk]))
    page = text_of(response)
    due = date_format(info_requested.due_date, "DATE_FORMAT")
    assert f"The district asks for more information by {due}:" in page
    assert "The attendance record must cover this school year." in page
    assert "Documents asked for: Attendance record" in page
    assert f"Please answer by {due}." in page
    answer = reverse("permit_documents", args=[submitted_in.pk])
    assert response.text.count(f'href="{answer}"') == 1


def test_a_request_naming_no_documents_asks_for_an_answer(alice_client, submitted_in, tina):
    services.request_information(
        permit_id=submitted_in.pk, by=tina, message="Which school does the older sibling attend?", document_types=[]
    )
    for name, args in (("family_dashboard", []), ("permit_detail", [submitted_in.pk])):
        response = alice_client.get(reverse(name, args=args))
        assert "Which school does the older sibling attend?" in response.text
        assert "Documents asked for" not in response.text
        assert "Answer the district" in response.text


def test_the_information_request_email_links_to_the_page_that_shows_it(
    alice_client, submitted_in, info_requested, handle_events
):
    handle_events()
    email = OutboxEmail.objects.get(template="permit_info_requested")
    path = urlsplit(re.search(r"https?://\S+", email.body_text)[0]).path
    page = text_of(alice_client.get(path))
    assert "The attendance record must cover this school year." in page
    assert date_format(info_requested.due_date, "DATE_FORMAT") in page
    assert "Send the requested documents" in page


def test_the_answered_request_leaves_the_dashboard(alice, alice_client, submitted_in, info_requested):
    services.add_document(
        permit_id=submitted_in.pk, document_type=doc_type("attendance_record"), upload=pdf_upload(), by=alice
    )
    services.answer_information_request(permit_id=submitted_in.pk, by=alice)
    for name, args in (("family_dashboard", []), ("permit_detail", [submitted_in.pk])):
        assert (
            "The attendance record must cover this school year." not in alice_client.get(reverse(name, args=args)).text
        )


def test_a_spanish_family_reads_the_information_request_in_spanish(alice, submitted_in, info_requested):
    Family.objects.filter(pk=alice.family_id).update(preferred_language="es")
    client = login(alice)
    with translation.override("es"):
        due = date_format(info_requested.due_date, "DATE_FORMAT")
    for name, args in (("family_dashboard", []), ("permit_detail", [submitted_in.pk])):
        page = text_of(client.get(reverse(name, args=args)))
        assert f"El distrito solicita más información a más tardar el {due}:" in page
        assert "Registro de asistencia" in page  # the document asked for, by its Spanish name
        assert in_spanish("Documents asked for:") in page
    assert "Enviar los documentos solicitados" in page


def test_the_dashboard_runs_a_constant_number_of_queries_with_requests_and_letters(
    alice, alice_client, info_requested, school_year, tina, diana, handle_events
):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert alice_client.get(reverse("family_dashboard")).status_code == 200
        return len(ctx.captured_queries)

    def submitted(student, kind):
        permit = services.start_permit(
            family=alice.family, student=student, school_year=school_year, kind=kind, by=alice
        )
        for document_type in required_types(kind):
            services.add_document(permit_id=permit.pk, document_type=document_type, upload=pdf_upload(), by=alice)
        return services.submit_permit(permit_id=permit.pk, by=alice)

    handle_events()
    small = count_queries()
    for _ in range(3):
        student = StudentFactory(family=alice.family)
        asked = submitted(student, PermitKind.INTRA)
        services.request_information(
            permit_id=asked.pk, by=tina, message="More please.", document_types=[doc_type("report_card")]
        )
        denied = submitted(student, PermitKind.INTER_IN)
        services.deny_permit(permit_id=denied.pk, by=diana, reasons=["no_space"], final=True)
    handle_events()
    page = alice_client.get(reverse("family_dashboard")).text
    assert page.count("More please.") == 3 and page.count("Decision letter: Denial") == 3
    assert count_queries() == small


# --- 3. The decision letter on the dashboard -----------------------------------------


def test_the_dashboard_links_each_decided_packets_latest_letter(alice_client, verified_in, tina, handle_events):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    handle_events()
    letter = Letter.objects.get(permit=verified_in)
    assert letter.kind == Letter.Kind.ACCEPTANCE and letter.is_rendered
    response = alice_client.get(reverse("family_dashboard"))
    url = reverse("family_letter", args=[letter.pk])
    date = date_format(letter.letter_date, "DATE_FORMAT")
    assert re.search(rf'href="{url}">Decision letter: Acceptance, {date} \(PDF\)</a>', response.text)
    assert alice_client.get(url)["Content-Type"] == "application/pdf"


def test_a_denied_packet_links_its_denial_letter(alice_client, submitted_in, diana, handle_events):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], note="Full.", final=True)
    handle_events()
    letter = Letter.objects.get(permit=submitted_in, kind=Letter.Kind.DENIAL)
    assert reverse("family_letter", args=[letter.pk]) in alice_client.get(reverse("family_dashboard")).text


def test_an_open_packet_links_no_decision_letter(alice_client, submitted_in, info_requested, handle_events):
    handle_events()
    letter = Letter.objects.get(permit=submitted_in)
    assert letter.kind == Letter.Kind.INFORMATION_REQUEST
    page = alice_client.get(reverse("family_dashboard")).text
    assert "Decision letter" not in page and reverse("family_letter", args=[letter.pk]) not in page


def test_the_dashboard_links_no_other_familys_letter(bob_client, verified_in, tina, handle_events):
    services.approve_permit(permit_id=verified_in.pk, by=tina)
    handle_events()
    letter = Letter.objects.get(permit=verified_in)
    assert reverse("family_letter", args=[letter.pk]) not in bob_client.get(reverse("family_dashboard")).text


# --- 4. The county office on /policy/ ------------------------------------------------


def test_the_policy_page_gives_the_county_offices_full_contact_where_it_states_the_county_appeal(
    client, district, school_year
):
    district.county_office = COUNTY_OFFICE
    district.save()
    response = client.get(reverse("policy"))
    # The same lines as a denial letter's appeal rights (templates/partials/appeal_rights.html).
    assert linebreaksbr(COUNTY_OFFICE) in response.text
    page = text_of(response)
    rights = page[page.index("Appeal rights by kind of request") :]
    county_appeals = rights[: rights.index("Intra-district requests (another school of the district)")]
    for line in COUNTY_OFFICE.splitlines():
        assert line in county_appeals
    assert "Where to file an appeal to the county board of education" in county_appeals


# --- 5. make run's sender ------------------------------------------------------------


def test_the_demo_sender_is_the_demo_districts_own_address(db, capsys):
    call_command("seed_demo")
    capsys.readouterr()
    call_command("demo_sender")
    assert capsys.readouterr().out.strip() == "Valle Verde Unified School District <permits@valleverde.example>"


def test_make_run_sends_from_the_demo_sender_unless_told_otherwise():
    script = (ROOT / "scripts" / "run.sh").read_text()
    setting = re.search(
        r'if \[\[ -z "\$\{DEFAULT_FROM_EMAIL:-\}" \]\]; then\n'
        r'\s+DEFAULT_FROM_EMAIL="\$\(\.venv/bin/python manage\.py demo_sender\)"\n'
        r"\s+export DEFAULT_FROM_EMAIL\n",
        script,
    )
    assert setting, "scripts/run.sh does not set DEFAULT_FROM_EMAIL from manage.py demo_sender"
    # After the demo district exists, before the processes that send mail start.
    assert script.index("seed_demo") < setting.start() < script.index("honcho start")


def test_the_demo_families_have_the_addresses_their_letters_go_to(db, capsys):
    call_command("seed_demo")
    for family in Family.objects.filter(permits__isnull=False).distinct():
        assert family.has_address
    incoming = Permit.objects.filter(kind=PermitKind.INTER_IN).select_related("family").first()
    assert incoming.family.city != "Valle Verde"  # they live outside the district
