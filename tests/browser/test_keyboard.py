"""The portal without a mouse (WCAG 2.1.1, 2.1.2, 2.4.1, 2.4.3, 3.3.1): a parent does
the whole journey with Tab, Shift+Tab, Enter, Space and the arrow keys; the skip
link leads to the page's content; a form posted with mistakes takes the focus to
its list of errors, and each error is tied to its field for screen readers.

No click and no check() here: every control is reached by Tab and worked by a key.
Text is typed into the focused element; only the file chooser, a native dialog that
a page cannot drive, is given its file by set_input_files once the file input has
the focus."""

import re

import pytest
from playwright.sync_api import Page, expect

from permits.models import Permit, PermitKind
from permits.selectors import rules_for

from ..factories import PASSWORD, GuardianFactory
from .conftest import (
    assert_errors_tied_to_fields,
    button,
    checklist_item,
    choose_option,
    choose_radio,
    field,
    has_focus,
    link,
    press_on,
    tab_to,
    type_text,
    write_fake_pdf,
    write_pdf,
)

pytestmark = pytest.mark.browser

ATTESTATION = "I declare that the information in this request is true and complete, and that the documents are genuine."


def required_documents(kind: str):
    return [rule.document_type for rule in rules_for(kind=kind, reason=None, special_education=False)]


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(page: Page, district):
    page.goto("/")
    # On the way: the navbar's links show a white focus ring on its blue.
    tab_to(page, link(page, "Permit policy"))
    ring = link(page, "Permit policy").evaluate(
        "a => { const s = getComputedStyle(a); return [s.outlineStyle, s.outlineColor]; }"
    )
    assert ring == ["solid", "rgb(255, 255, 255)"], ring
    page.goto("/")
    page.keyboard.press("Tab")
    skip = link(page, "Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown while it has the focus
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    main = page.get_by_role("main")
    expect(main).to_be_focused()
    # The next Tab goes on inside the content, not back to the navbar.
    page.keyboard.press("Tab")
    assert main.evaluate("main => main.contains(document.activeElement)")
    expect(link(page, "Create a family account")).to_be_focused()


def test_a_form_with_mistakes_takes_the_focus_to_its_errors(page: Page, district, school_year):
    page.goto("/")
    press_on(page, link(page, "Create a family account"))
    expect(page.get_by_role("heading", name="Create a family account")).to_be_visible()
    type_text(page, field(page, "Email address"), "not an address")
    press_on(page, button(page, "Create account"))

    summary = page.locator("#form-errors")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please correct the following:")
    assert assert_errors_tied_to_fields(page) >= 4  # email, names, passwords
    email = field(page, "Email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    error_id = email.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text("Enter a valid email address.")
    # The summary's first link leads to the field.
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Email address")).to_be_focused()
    page.keyboard.press("Enter")
    expect(email).to_be_focused()
    # Shift+Tab leads back from the field to the summary's last link.
    page.keyboard.press("Shift+Tab")
    expect(summary.get_by_role("link").last).to_be_focused()


def test_a_parent_does_it_all_with_the_keyboard(page: Page, tmp_path, school_year, school_b):
    guardian = GuardianFactory(email="keyboard@example.com", first_name="Ana")
    needed = required_documents(PermitKind.INTER_IN)

    # Sign in.
    page.goto("/")
    press_on(page, link(page, "Sign in").first)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    type_text(page, field(page, "Email address"), guardian.email)
    type_text(page, field(page, "Password"), PASSWORD)
    press_on(page, button(page, "Sign in"))
    expect(button(page, "Sign out")).to_be_visible()

    # A student.
    press_on(page, link(page, "My family"))
    expect(page.get_by_role("heading", name="My family's requests")).to_be_visible()
    press_on(page, link(page, "Add a student"))
    expect(page.get_by_role("heading", name="Add a student")).to_be_visible()
    type_text(page, field(page, "Legal first name"), "Nina")
    type_text(page, field(page, "Legal last name"), "Park")
    type_text(page, field(page, "Date of birth"), "03142017")  # mm dd yyyy segments
    expect(field(page, "Date of birth")).to_have_value("2017-03-14")
    choose_option(page, field(page, "Grade in the school year sought"), "Grade 4")
    type_text(page, field(page, "Current school"), "Mesa Elementary")
    type_text(page, field(page, "Current school district"), "Mesa Grande Unified")
    press_on(page, button(page, "Save student"))
    expect(page.get_by_text("Nina Park was added.")).to_be_visible()

    # The packet: first posted without a kind, to see the errors of a radio group.
    press_on(page, link(page, "Start a permit request").first)
    expect(page.get_by_role("heading", name="Documents you will need")).to_be_visible()
    press_on(page, button(page, "Start"))
    expect(page.locator("#form-errors")).to_be_focused()
    assert_errors_tied_to_fields(page)
    choose_option(page, field(page, "Student"), "Nina Park")
    choose_option(page, field(page, "School year"), school_year.name)
    kinds = page.get_by_role("group", name=re.compile(r"^Kind of permit"))
    choose_radio(page, kinds, "Inter-district, incoming")
    press_on(page, button(page, "Start"))

    # Details.
    expect(page.get_by_role("heading", name="Inter-district, incoming: Nina Park, 2027-28")).to_be_visible()
    choose_option(page, field(page, "Requested school"), school_b.name)
    type_text(page, field(page, "District of residence"), "Mesa Grande Unified")
    press_on(page, button(page, "Save and continue"))

    # Documents. A refused file first: the message is tied to the file input, which
    # gets the focus back to choose another file.
    expect(page.get_by_role("heading", name="Documents: Nina Park")).to_be_visible()
    file_input = field(page, "File (PDF, JPEG or PNG)")
    choose_option(page, field(page, "Document"), needed[0].name_en)
    tab_to(page, file_input)
    file_input.set_input_files(write_fake_pdf(tmp_path))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents/")) as posted:
        press_on(page, button(page, "Upload"))
    assert posted.value.status == 400
    status = page.locator("#upload-status")
    expect(status).to_have_attribute("role", "alert")
    expect(status).to_contain_text("This file is not a PDF, JPEG or PNG.")
    expect(file_input).to_be_focused()
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(file_input).to_have_attribute("aria-describedby", re.compile(r"\bupload-status\b"))

    # Then each document, picked, chosen and uploaded from the keyboard.
    for document_type in needed:
        pdf = write_pdf(tmp_path, f"{document_type.code}.pdf", document_type.name_en)
        choose_option(page, field(page, "Document"), document_type.name_en)
        file_input = field(page, "File (PDF, JPEG or PNG)")
        tab_to(page, file_input)
        file_input.set_input_files(pdf)  # the native file dialog cannot be driven
        assert has_focus(file_input)
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents/")) as posted:
            press_on(page, button(page, "Upload"))
        assert posted.value.status == 200
        expect(checklist_item(page, document_type.name_en)).to_contain_text("Uploaded")
    for document_type in needed:
        expect(checklist_item(page, document_type.name_en)).to_contain_text("Uploaded")

    # Review, attest and submit.
    press_on(page, link(page, "Continue to review"))
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    attest = field(page, ATTESTATION)
    press_on(page, attest, "Space")
    expect(attest).to_be_checked()
    # A step back with Shift+Tab and forward again: the focus is not held anywhere.
    page.keyboard.press("Shift+Tab")
    expect(attest).not_to_be_focused()
    tab_to(page, attest)
    press_on(page, button(page, "Submit the request"))

    permit = Permit.objects.get()
    expect(page).to_have_url(re.compile(rf"/family/permits/{permit.pk}/$"))
    expect(page.get_by_text(f"Your request {permit.reference} was received.")).to_be_visible()
    expect(page.locator(".badge", has_text="Submitted")).to_be_visible()
    permit.refresh_from_db()
    assert permit.status == Permit.Status.SUBMITTED
    assert permit.family_id == guardian.family_id
    assert permit.requested_school == school_b
    assert permit.documents.count() == len(needed)
