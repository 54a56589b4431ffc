"""WCAG 2.1 AA in a real browser: axe-core on every page a family, a technician or
another district sees, in English and in Spanish, including forms shown with their
errors. A page fails on any violation that axe rates serious or critical; the
failure lists each rule, its help text and the elements to fix.

One browser tab per audience and language walks through its pages, so that a
sign-in serves many pages."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from permits import services as permit_services
from permits.models import DenialReason, PermitKind

from ..conftest import recovery_code, required_types
from ..factories import PASSWORD, GuardianFactory, StudentFactory, pdf_upload
from .conftest import (
    AccessibilityAudit,
    assert_errors_tied_to_fields,
    button,
    english,
    field,
    link,
    log_in,
    spanish,
)

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "es"]


def translator(language: str):
    return spanish if language == "es" else english


def open_in(page: Page, language: str) -> None:
    """The home page, switched to `language` with the navbar's button."""
    page.goto("/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    if language == "es":
        button(page, "Español").click()
        expect(html).to_have_attribute("lang", "es")


def post_with_errors(page: Page, audit: AccessibilityAudit, button_name: str, name: str) -> None:
    """Post the form as it is (empty, say) and audit the page with its errors, which
    must also be tied to their fields."""
    button(page, button_name).click()
    expect(page.locator("#form-errors")).to_be_visible()
    audit.check(name)
    assert_errors_tied_to_fields(page)


def open_every_disclosure(page: Page) -> None:
    page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")


def family_with_packets(language: str, school_year, school, director):
    """A family speaking `language` with three students: one with a complete draft,
    one with a submitted packet and one whose packet the director denied."""
    guardian = GuardianFactory(
        email=f"familia.{language}@example.com",
        first_name="Rosa",
        family__preferred_language=language,
    )
    family = guardian.family

    def complete_draft(first_name: str):
        student = StudentFactory(family=family, legal_first_name=first_name, legal_last_name="Rivera")
        permit = permit_services.start_permit(
            family=family,
            student=student,
            school_year=school_year,
            kind=PermitKind.INTER_IN,
            by=guardian,
        )
        permit.requested_school = school
        permit.home_district = "Mesa Grande Unified"
        permit.save()
        for document_type in required_types(PermitKind.INTER_IN):
            permit_services.add_document(
                permit_id=permit.pk,
                document_type=document_type,
                upload=pdf_upload(f"{document_type.code}.pdf"),
                by=guardian,
            )
        return permit

    draft = complete_draft("Sofia")
    submitted = permit_services.submit_permit(permit_id=complete_draft("Mateo").pk, by=guardian)
    denied = permit_services.submit_permit(permit_id=complete_draft("Lucia").pk, by=guardian)
    permit_services.deny_permit(
        permit_id=denied.pk,
        by=director,
        reasons=[DenialReason.NO_SPACE],
        note="Grade 4 at Roosevelt Elementary is full.",
        final=True,
    )
    return guardian, draft, submitted, denied


def password_reset_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/password/reset/{uid}/{default_token_generator.make_token(user)}/"


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages(page: Page, language, district, school_year):
    t = translator(language)
    guardian = GuardianFactory(email=f"olvido.{language}@example.com")
    open_in(page, language)
    audit = AccessibilityAudit(page, language)
    audit.check("home")
    audit.visit("/policy/", "policy")
    audit.visit("/accounts/login/", "sign in")
    post_with_errors(page, audit, t("Sign in"), "sign in, posted empty")
    audit.visit("/accounts/signup/", "sign up")
    post_with_errors(page, audit, t("Create account"), "sign up, posted empty")
    audit.visit("/accounts/password/reset/", "password reset")
    post_with_errors(page, audit, t("Send the link"), "password reset, posted empty")
    page.locator("[name=email]").fill(guardian.email)
    button(page, t("Send the link")).click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/sent/$"))
    audit.check("password reset, link sent")
    audit.visit(password_reset_path(guardian), "choose a new password")
    post_with_errors(page, audit, t("Save the new password"), "choose a new password, posted empty")
    audit.visit("/verify/XXXXXXXXXX/", "verification of an unknown code")
    audit.assert_clean()


@pytest.mark.parametrize("language", LANGUAGES)
def test_family_pages(page: Page, language, school_year, school_b, diana):
    t = translator(language)
    guardian, draft, submitted, denied = family_with_packets(language, school_year, school_b, diana)
    open_in(page, language)
    log_in(page, guardian.email, PASSWORD, t=t)
    audit = AccessibilityAudit(page, language)

    audit.visit("/family/", "family dashboard")
    audit.visit("/family/profile/", "profile")
    audit.visit("/family/students/new/", "add a student")
    post_with_errors(page, audit, t("Save student"), "add a student, posted empty")
    audit.visit("/family/permits/new/", "start a packet")
    post_with_errors(page, audit, t("Start"), "start a packet, no kind chosen")

    audit.visit(f"/family/permits/{draft.pk}/details/", "draft: details")
    page.locator("[name=home_district]").fill("")
    post_with_errors(page, audit, t("Save and continue"), "draft: details, district missing")
    audit.visit(f"/family/permits/{draft.pk}/documents/", "draft: documents")
    post_with_errors(page, audit, t("Upload"), "draft: documents, upload without a file")
    audit.visit(f"/family/permits/{draft.pk}/confirm/", "draft: review")
    post_with_errors(page, audit, t("Submit the request"), "draft: review, not attested")

    audit.visit(f"/family/permits/{submitted.pk}/", "submitted packet")
    open_every_disclosure(page)
    audit.check("submitted packet, withdrawal form open")
    audit.visit(f"/family/permits/{denied.pk}/", "denied packet")
    audit.visit(f"/family/permits/{denied.pk}/appeal/", "appeal")
    post_with_errors(page, audit, t("File the appeal"), "appeal, posted empty")
    audit.assert_clean()


def sign_in_staff(page: Page, audit: AccessibilityAudit, user, t) -> None:
    """Sign in with the password, then the second factor (a recovery code), auditing
    the second step's page, empty and with its error, on the way."""
    link(page, t("Sign in")).first.click()
    field(page, t("Email address")).fill(user.email)
    field(page, t("Password")).fill(PASSWORD)
    button(page, t("Sign in")).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    audit.check("second factor")
    post_with_errors(page, audit, t("Verify"), "second factor, posted empty")
    field(page, t("Code")).fill(recovery_code(user))
    button(page, t("Verify")).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/"))
    expect(button(page, t("Sign out"))).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_pages(page: Page, language, submitted_in, seats_b, tina):
    t = translator(language)
    permit_services.claim_permit(permit_id=submitted_in.pk, by=tina)
    open_in(page, language)
    audit = AccessibilityAudit(page, language)
    sign_in_staff(page, audit, tina, t)
    audit.visit("/staff/", "review queue")
    audit.visit(f"/staff/permits/{submitted_in.pk}/", "packet review")
    open_every_disclosure(page)
    audit.check("packet review, every disclosure open")
    audit.assert_clean()
