"""Open enrollment in a real browser: a family applies, the district draws and
publishes, the family reads its lottery number and accepts its seat; anyone reads the
cycle's page in Spanish."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from applicants.models import Grade
from enrollment.models import Application, Cycle, Offer, PriorityClaim, Program
from permits import clock

from ..enrollment.conftest import drawn
from ..factories import PASSWORD
from .conftest import AccessibilityAudit, button, field, link, log_in, spanish

pytestmark = pytest.mark.browser


@pytest.fixture
def cycle(school_year, school_a, school_b) -> Cycle:
    """As in tests/enrollment/conftest.py: the window is open today; one grade 4 seat at
    Lincoln, one at Roosevelt."""
    today = clock.today()
    cycle = Cycle.objects.create(
        school_year=school_year,
        applications_open_on=today - timedelta(days=10),
        applications_close_on=today + timedelta(days=10),
        lottery_on=today + timedelta(days=15),
        offer_deadline=today + timedelta(days=30),
    )
    for school in (school_a, school_b):
        Program.objects.create(cycle=cycle, school=school, grade=Grade.G4, seats=1, code=f"{school.code}-4")
    return cycle


def test_a_family_applies_then_reads_its_number_and_accepts_its_seat(page: Page, alice, sofia, cycle, diana):
    page.goto("/")
    log_in(page, alice.email, PASSWORD)
    link(page, "My family").click()
    link(page, "Apply Sofia Garcia").click()
    expect(page.get_by_role("heading", name="Apply for Sofia Garcia")).to_be_visible()

    field(page, "Choice 1").select_option(label="Roosevelt Elementary")
    second = page.get_by_role("group", name="Choice 2")
    field(second, "Choice 2").select_option(label="Lincoln Elementary")
    priorities = second.locator("details")
    priorities.get_by_text("Priorities at this school (optional)").click()
    field(priorities, "Name of the brother or sister at this school").fill("Lucia Garcia")
    field(priorities, "Their grade this year").select_option(label="Grade 2")
    button(page, "Submit the application").click()

    expect(page.get_by_role("status").filter(has_text="The application for Sofia Garcia was received.")).to_be_visible()
    expect(page.get_by_text("Received; waiting for the drawing")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Lincoln Elementary")).to_contain_text(
        "Sibling at the school: Waiting for verification"
    )
    application = Application.objects.get(student=sofia)
    assert application.claims.get().status == PriorityClaim.Status.CLAIMED

    drawn(cycle, diana)
    page.reload()

    number = application.placements.get().number
    expect(page.get_by_text(" ".join(re.findall(".{8}", number)))).to_be_visible()
    offer = page.get_by_role("region", name="A seat at Roosevelt Elementary")
    expect(offer).to_contain_text("If you accept, the seat at Roosevelt Elementary is Sofia's.")
    audit = AccessibilityAudit(page, "en")
    audit.check("application with an offer")

    button(offer, "Accept the seat at Roosevelt Elementary").click()

    expect(
        page.get_by_role("status").filter(has_text="You accepted the seat at Roosevelt Elementary for Sofia Garcia.")
    ).to_be_visible()
    expect(page.get_by_text("Seat accepted at Roosevelt Elementary")).to_be_visible()
    assert Offer.objects.get(application=application).status == Offer.Status.ACCEPTED
    audit.check("application with the seat accepted")
    audit.assert_clean()


def test_anyone_reads_the_cycle_page_in_spanish(page: Page, cycle):
    cycle.intro_es = "Elija una escuela para el próximo año escolar."
    cycle.save(update_fields=["intro_es"])
    page.goto("/enrollment/")
    button(page, "Español").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    heading = spanish("Open enrollment for %(year)s") % {"year": "2027-28"}
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_text("Elija una escuela para el próximo año escolar.")).to_be_visible()
    expect(page.get_by_role("link", name=spanish("The lottery's public record"))).to_be_visible()
    audit = AccessibilityAudit(page, "es")
    audit.check("cycle page")
    audit.assert_clean()
