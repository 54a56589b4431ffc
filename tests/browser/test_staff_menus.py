"""The technician and the director walk through every entry of their menu, on a desk's
screen and on a phone: each page opens, fits the screen's width and passes axe-core.
One sign-in per person and width."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from applicants.addresses import standardize
from applicants.services import record_residence
from boundaries.services import decide_review, place_residence
from permits.models import Permit
from reviews.access import menu_for, scope_of
from reviews.models import LetterBatch, RecordAccess

from ..conftest import recovery_code
from ..factories import PASSWORD
from .conftest import AccessibilityAudit, button, field, link

pytestmark = pytest.mark.browser

DESK, PHONE = 1280, 390


def navigation(page: Page):
    return page.get_by_role("navigation", name="Main")


def open_menu(page: Page) -> None:
    """On a narrow screen the menu is behind its button: open it, as a person would."""
    toggle = button(navigation(page), "Menu")
    if toggle.is_visible():
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(link(navigation(page), "Permit policy")).to_be_visible()


def sign_in(page: Page, user) -> None:
    page.goto("/")
    open_menu(page)
    link(navigation(page), "Sign in").click()
    field(page, "Email address").fill(user.email)
    field(page, "Password").fill(PASSWORD)
    button(page, "Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    field(page, "Code").fill(recovery_code(user))
    button(page, "Verify").click()
    expect(page.get_by_role("heading", name="Second step of sign-in")).to_have_count(0)


def staff_links(page: Page) -> list[str]:
    return navigation(page).evaluate(
        """nav => Array.from(nav.querySelectorAll("a[href^='/staff/']"), a => a.textContent.trim())"""
    )


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (a sideways scroll)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def desk_in_use(submitted_in, tina, diana):
    """A packet in the queue, a line in the record of disclosures and a batch print,
    so that the pages show rows, not only their empty states."""
    document = submitted_in.documents.first()
    RecordAccess.objects.create(
        user=tina,
        permit=submitted_in,
        document=document,
        purpose=RecordAccess.Purpose.PERMIT_REVIEW,
        address="192.0.2.1",
    )
    LetterBatch.objects.create(requested_by=diana, description="day=2026-11-30, kind=denial", total=0)
    # An address waiting for a school of residence (its form), and one decided.
    for street in ("Behind the old mill", "Past the water tower"):
        residence = record_residence(
            family=submitted_in.family,
            address=standardize(street, "", "Valle Verde", "CA", "90999"),
            entered=street,
            since=date(2026, 6, 1),
            by=None,
        )
        place_residence(residence, submitted_in.grade, submitted_in.school_year.name)
    Permit.objects.filter(pk=submitted_in.pk).update(residence=residence)
    decide_review(
        review_id=residence.reviews.get().pk, school=submitted_in.requested_school, by=tina, why="Parcel map."
    )
    return submitted_in


@pytest.mark.parametrize("width", [DESK, PHONE])
@pytest.mark.parametrize("who", ["tina", "diana"])
def test_every_menu_entry_opens_fits_the_screen_and_passes_axe(page: Page, who, width, request, desk_in_use):
    user = request.getfixturevalue(who)
    entries = menu_for(scope_of(user))
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, user)
    audit = AccessibilityAudit(page, "en")
    open_menu(page)
    assert staff_links(page) == [str(entry.label) for entry in entries]
    problems = []
    for entry in entries:
        open_menu(page)
        with page.expect_navigation() as navigated:
            link(navigation(page), str(entry.label)).click()
        name = f"{entry.label} at {width}px"
        if navigated.value.status != 200:
            problems.append(f"{name}: {navigated.value.status}")
            continue
        if (wider := overflow(page)) > 0:
            problems.append(f"{name}: {wider}px wider than the screen")
        open_menu(page)  # audited with the menu open, on a phone too
        expect(link(navigation(page), str(entry.label))).to_have_attribute("aria-current", "page")
        if (wider := overflow(page)) > 0:
            problems.append(f"{name}, menu open: {wider}px wider than the screen")
        audit.check(name)
    assert not problems, "\n".join(problems)
    audit.assert_clean()
