"""The school of residence in a real browser: a family enters its address and sees its
school, which the intra-district packet then starts from; anyone looks up an address
on the public page, in Spanish."""

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from ..factories import PASSWORD, GuardianFactory, StudentFactory
from ..permits.conftest import make_boundaries
from .conftest import AccessibilityAudit, assert_errors_tied_to_fields, button, field, link, log_in, spanish

pytestmark = pytest.mark.browser

PO_BOX = (
    "A post office box cannot be a home address. Enter the street address where the student lives; "
    "you can give a separate mailing address to the office."
)


def test_a_family_enters_its_address_sees_its_school_and_starts_from_it(page: Page, school_year, school_a, school_b):
    make_boundaries(school_a, school_b, school_year.name)
    guardian = GuardianFactory(email="nora.diaz@example.com", first_name="Nora")
    StudentFactory(family=guardian.family, legal_first_name="Leo", legal_last_name="Diaz")
    page.goto("/")
    log_in(page, guardian.email, PASSWORD)
    link(page, "My family").click()
    expect(link(page, "Enter your home address to see the school of residence")).to_be_visible()

    link(page, "Profile").click()
    field(page, "Street address").fill("120 Oak Avenue")
    field(page, "City").fill("Valle Verde")
    field(page, "ZIP code").fill("90999")
    button(page, "Save").click()
    expect(page.get_by_text("Your family profile is saved.")).to_be_visible()
    expect(page.get_by_text("School of residence in 2027-28: Lincoln Elementary")).to_be_visible()

    link(page, "Start a permit request").first.click()
    field(page, "Student").select_option(label="Leo Diaz")
    field(page, "School year").select_option(label=school_year.name)
    page.get_by_role("radio", name="Intra-district").check()
    button(page, "Start").click()
    expect(page.get_by_role("heading", name="Intra-district: Leo Diaz, 2027-28")).to_be_visible()
    expect(field(page, "School of residence").locator("option:checked")).to_have_text("Lincoln Elementary")


@pytest.mark.parametrize("browser_locale", ["es-MX"])
def test_anyone_finds_the_school_of_an_address_in_spanish(page: Page, school_year, school_a, school_b):
    es = spanish
    make_boundaries(school_a, school_b, school_year.name)
    cache.delete("find-school-rate:127.0.0.1")  # the live server sees every tab at this address
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    link(page, es("Find my school of residence")).click()
    expect(page.get_by_role("heading", name=es("Find my school"), exact=True)).to_be_visible()

    field(page, es("street address", cap=True)).fill("500 Pine Road")
    field(page, es("city", cap=True)).fill("Valle Verde")
    field(page, es("ZIP code", cap=True)).fill("90999")
    field(page, es("Grade")).select_option(label=es("Grade 4"))
    button(page, es("Find the school")).click()
    answer = es("School of residence in %(year)s: %(school)s") % {"year": "2027-28", "school": "Roosevelt Elementary"}
    expect(page.get_by_text(answer)).to_be_visible()
    audit = AccessibilityAudit(page, "es")
    audit.check("find my school, answered")

    field(page, es("street address", cap=True)).fill("Apartado postal 12")
    button(page, es("Find the school")).click()
    expect(page.get_by_text(es(PO_BOX)).first).to_be_visible()
    assert assert_errors_tied_to_fields(page) == 1
    audit.check("find my school, a post office box")
    audit.assert_clean()
    cache.delete("find-school-rate:127.0.0.1")
