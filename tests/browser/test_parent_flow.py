"""A parent's whole journey in a real browser: account, family, student, packet,
documents and submission, in English and in Spanish."""

import re

import pytest
from playwright.sync_api import Page, expect

from applicants.models import User
from outbox.models import OutboxEmail
from permits.models import DocumentType, Permit, PermitKind
from permits.selectors import rules_for

from ..factories import PASSWORD, GuardianFactory, StudentFactory
from .conftest import (
    button,
    checklist_item,
    field,
    link,
    log_in,
    spanish,
    upload_document,
    upload_rejected,
    write_fake_pdf,
    write_pdf,
)

pytestmark = pytest.mark.browser

VERIFY_LINK = re.compile(r"https?://\S+/accounts/verify/[^/\s]+/[^/\s]+/")
NOT_A_PDF = "This file is not a PDF, JPEG or PNG. Scan or save the document as one of those."


def required_documents(kind: str) -> list[DocumentType]:
    """The checklist of a packet of `kind` for a student without special education."""
    return [rule.document_type for rule in rules_for(kind=kind, reason=None, special_education=False)]


def test_a_new_family_signs_up_and_submits_a_packet_in_english(
    page: Page, tmp_path, school_year, school_a, school_b, handle_events
):
    email = "maria.lopez@example.com"

    # Sign up.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    link(page, "Create a family account").click()
    field(page, "Email address").fill(email)
    field(page, "First name").fill("Maria")
    field(page, "Last name").fill("Lopez")
    field(page, "Phone").fill("(555) 010-3344")
    field(page, "Preferred language for letters and emails").select_option(label="English")
    field(page, "Password").fill(PASSWORD)
    field(page, "Password again").fill(PASSWORD)
    button(page, "Create account").click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"We sent an email to {email}")

    # Confirm the address with the emailed link.
    verification = OutboxEmail.objects.get(template="verify_email", to=email)
    verify_url = VERIFY_LINK.search(verification.body_text)
    assert verify_url, verification.body_text
    page.goto(verify_url.group(0))
    expect(page.get_by_role("heading", name="My family's requests")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("your email address is confirmed")
    expect(page.get_by_text("Please add your home address to your profile")).to_be_visible()

    # Home address.
    link(page, "Profile").click()
    expect(page.get_by_role("heading", name="Family profile")).to_be_visible()
    field(page, "Street address").fill("742 Evergreen Terrace")
    field(page, "City").fill("Valle Verde")
    field(page, "ZIP code").fill("90999")
    button(page, "Save").click()
    expect(page.get_by_text("Your family profile is saved.")).to_be_visible()
    expect(page.get_by_text("Please add your home address to your profile")).to_have_count(0)

    # A student.
    link(page, "Add a student").click()
    expect(page.get_by_role("heading", name="Add a student")).to_be_visible()
    field(page, "Legal first name").fill("Lucia")
    field(page, "Legal last name").fill("Lopez")
    birth = field(page, "Date of birth")
    expect(birth).to_have_attribute("type", "date")
    birth.fill("2017-03-14")
    field(page, "Grade in the school year sought").select_option(label="Grade 4")
    field(page, "Current school").fill("Mesa Elementary")
    field(page, "Current school district").fill("Mesa Grande Unified")
    button(page, "Save student").click()
    expect(page.get_by_text("Lucia Lopez was added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Lucia Lopez · Grade 4")).to_be_visible()

    # Start the packet: the documents are listed before anything is created.
    link(page, "Start a permit request").first.click()
    expect(page.get_by_role("heading", name="Documents you will need")).to_be_visible()
    needed = required_documents(PermitKind.INTER_IN)
    assert needed, "the default checklist of an incoming packet is empty"
    for document_type in needed:
        expect(page.get_by_role("listitem").filter(has_text=document_type.name_en).first).to_be_visible()
    assert not Permit.objects.exists()
    field(page, "Student").select_option(label="Lucia Lopez")
    field(page, "School year").select_option(label=school_year.name)
    page.get_by_role("radio", name="Inter-district, incoming").check()
    button(page, "Start").click()

    # Details.
    expect(page.get_by_role("heading", name="Inter-district, incoming: Lucia Lopez, 2027-28")).to_be_visible()
    field(page, "Requested school").select_option(label=school_b.name)
    field(page, "District of residence").fill("Mesa Grande Unified")
    button(page, "Save and continue").click()

    # Documents: two good files, one refused, then the rest.
    expect(page.get_by_role("heading", name="Documents: Lucia Lopez")).to_be_visible()
    for document_type in needed:
        expect(checklist_item(page, document_type.name_en)).to_contain_text("Missing")
    first, second, *rest = needed
    for document_type in (first, second):
        pdf = write_pdf(tmp_path, f"{document_type.code}.pdf", document_type.name_en)
        upload_document(page, document_type.name_en, pdf)
    shown = upload_rejected(page, rest[0].name_en, write_fake_pdf(tmp_path))
    assert shown == NOT_A_PDF
    for document_type in (first, second):
        expect(checklist_item(page, document_type.name_en)).to_contain_text("Uploaded")
    expect(checklist_item(page, rest[0].name_en)).to_contain_text("Missing")
    page.reload()  # nothing was lost on the server either
    for document_type in (first, second):
        item = checklist_item(page, document_type.name_en)
        expect(item).to_contain_text("Uploaded")
        expect(item.get_by_role("link", name=f"{document_type.code}.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="not-really.pdf")).to_have_count(0)
    for document_type in rest:
        pdf = write_pdf(tmp_path, f"{document_type.code}.pdf", document_type.name_en)
        upload_document(page, document_type.name_en, pdf)

    # Review and submit.
    link(page, "Continue to review").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    field(
        page,
        "I declare that the information in this request is true and complete, and that the documents are genuine.",
    ).check()
    button(page, "Submit the request").click()

    permit = Permit.objects.get()
    expect(page).to_have_url(re.compile(rf"/family/permits/{permit.pk}/$"))
    expect(page.get_by_text(f"Your request {permit.reference} was received.")).to_be_visible()
    expect(page.locator(".badge", has_text="Submitted")).to_be_visible()
    expect(page.get_by_text("Decision due by")).to_be_visible()

    # The database agrees.
    permit.refresh_from_db()
    guardian = User.objects.get(email=email)
    assert permit.status == Permit.Status.SUBMITTED
    assert permit.received_at is not None
    assert permit.due_date is not None
    assert permit.family_id == guardian.family_id
    assert permit.requested_school == school_b
    assert permit.home_district == "Mesa Grande Unified"
    assert permit.documents.count() == len(needed)
    handle_events()  # what the worker does after each commit
    receipt = permit.emails.get(template="permit_received", to=email)
    assert receipt.language == "en"
    assert permit.reference in receipt.subject


def test_a_spanish_speaking_parent_submits_a_packet_in_spanish(
    page: Page, tmp_path, district, school_year, school_b, handle_events
):
    """Every label, button and message used here is looked up in the Spanish
    catalogue; `spanish()` fails when a text has no translation."""
    es = spanish
    guardian = GuardianFactory(email="rosa.hernandez@example.com", first_name="Rosa", family__preferred_language="es")
    StudentFactory(family=guardian.family, legal_first_name="Mateo", legal_last_name="Hernandez")

    # The navbar switches the site to Spanish before signing in.
    page.goto("/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    button(page, "Español").click()
    expect(html).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name=es("Student attendance permits"))).to_be_visible()
    log_in(page, guardian.email, PASSWORD, t=es)
    expect(html).to_have_attribute("lang", "es")

    # Start the packet.
    link(page, es("Go to my family's requests")).click()
    expect(page.get_by_role("heading", name=es("My family's requests"))).to_be_visible()
    link(page, es("Start a permit request")).first.click()
    expect(page.get_by_role("heading", name=es("Documents you will need"))).to_be_visible()
    needed = required_documents(PermitKind.INTER_IN)
    for document_type in needed:
        expect(page.get_by_role("listitem").filter(has_text=document_type.name_es).first).to_be_visible()
    field(page, es("Student")).select_option(label="Mateo Hernandez")
    field(page, es("School year")).select_option(label=school_year.name)
    page.get_by_role("radio", name=es("Inter-district, incoming")).check()
    button(page, es("Start")).click()

    # Details.
    field(page, es("requested school", cap=True)).select_option(label=school_b.name)
    field(page, es("district of residence", cap=True)).fill("Distrito Unificado Mesa Grande")
    button(page, es("Save and continue")).click()

    # Documents, with one refusal explained in Spanish.
    expect(page.get_by_role("heading", name=f"{es('Documents')}: Mateo Hernandez")).to_be_visible()
    first, *rest = needed
    upload_document(page, first.name_es, write_pdf(tmp_path, "permiso.pdf", first.name_en), t=es)
    shown = upload_rejected(page, rest[0].name_es, write_fake_pdf(tmp_path, "pagina.pdf"), t=es)
    assert shown == es(NOT_A_PDF)
    expect(checklist_item(page, first.name_es)).to_contain_text(es("Uploaded"))
    for document_type in rest:
        pdf = write_pdf(tmp_path, f"{document_type.code}.pdf", document_type.name_en)
        upload_document(page, document_type.name_es, pdf, t=es)

    # Review and submit.
    link(page, es("Continue to review")).click()
    expect(page.get_by_role("heading", name=es("Review and submit"))).to_be_visible()
    field(
        page,
        es("I declare that the information in this request is true and complete, and that the documents are genuine."),
    ).check()
    button(page, es("Submit the request")).click()

    permit = Permit.objects.get()
    expect(page).to_have_url(re.compile(rf"/family/permits/{permit.pk}/$"))
    expect(page.locator(".badge", has_text=es("Submitted"))).to_be_visible()
    expect(page.get_by_text(es("Decision due by"), exact=True)).to_be_visible()
    expect(html).to_have_attribute("lang", "es")

    permit.refresh_from_db()
    assert permit.status == Permit.Status.SUBMITTED
    assert permit.received_at is not None and permit.due_date is not None
    handle_events()  # what the worker does after each commit
    receipt = permit.emails.get(template="permit_received", to=guardian.email)
    assert receipt.language == "es"
    subject = "We received your permit request %(reference)s"
    reference = {"reference": permit.reference}
    assert receipt.subject == es(subject) % reference != subject % reference
    assert re.search(r"\bsolicitud\b", receipt.subject, re.IGNORECASE), receipt.subject
