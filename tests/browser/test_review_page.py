"""The staff review page and the queue in a real browser: the record of disclosures
holds only the documents a person opened; a technician's denial reads as the
recommendation it is, and the director finds and confirms it; the queue's filters
stay apart at the common laptop widths and on a phone."""

import re

import pytest
from django.core.signals import request_started
from playwright.sync_api import Page, expect

from permits.models import DenialReason, Permit
from reviews.models import RecordAccess

from ..factories import PASSWORD, SchoolFactory
from .conftest import button, disclosure, field, link, log_in

pytestmark = pytest.mark.browser

DOCUMENT_URL = re.compile(r"/staff/documents/(\d+)/$")
RECOMMENDED = "Denial recommended — awaiting the director"
# Every pair of a form's labels and controls whose boxes overlap, and any outside the page.
OVERLAPS = """form => {
  const boxes = Array.from(form.querySelectorAll("label, input:not([type=hidden]), select, button, a"))
    .map(e => {
      const r = e.getBoundingClientRect();
      return {name: `${e.tagName.toLowerCase()} ${(e.id || e.htmlFor || e.textContent).trim()}`,
              left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        overlaps.push(`${a.name} × ${b.name}`);
    }
  const width = document.documentElement.clientWidth;
  const outside = boxes.filter(b => b.left < -0.5 || b.right > width + 0.5).map(b => b.name);
  return {count: boxes.length, overlaps, outside, width,
          scrollWidth: document.documentElement.scrollWidth};
}"""


def status_badge(page: Page, status: str):
    return page.locator(".badge", has_text=re.compile(rf"^\s*{re.escape(status)}\s*$"))


def flash(page: Page, text: str):
    return page.get_by_role("status").filter(has_text=text)


@pytest.fixture
def served_documents():
    """The path of every request for a document that reached the server, in order.
    (Chromium's PDF viewer also lists a request of its own for the stream it was
    handed; that one never leaves the browser.)"""
    paths: list[str] = []

    def started(sender, environ=None, **kwargs):
        path = (environ or {}).get("PATH_INFO", "")
        if DOCUMENT_URL.search(path):
            paths.append(path)

    request_started.connect(started, weak=False)
    yield paths
    request_started.disconnect(started)


def settled(page: Page) -> None:
    """Wait until the page has loaded and fetched everything it fetches by itself."""
    page.wait_for_load_state("networkidle")


def test_only_the_document_a_person_opens_is_in_the_record_of_disclosures(
    new_page, served_documents, submitted_in, tina, diana
):
    permit = submitted_in
    documents = list(permit.documents.order_by("pk"))
    assert len(documents) >= 3
    verified, opened = documents[0], documents[1]
    staff = new_page()
    asked: list[str] = []  # every request for a document the page made
    staff.on("request", lambda r: asked.append(r.url) if DOCUMENT_URL.search(r.url) else None)
    staff.goto("/")
    log_in(staff, tina.email, PASSWORD)

    # The technician opens the packet and reloads it twice.
    staff.goto(f"/staff/permits/{permit.pk}/")
    expect(staff.get_by_role("heading", name=re.compile(re.escape(permit.reference)))).to_be_visible()
    settled(staff)
    for _ in range(2):
        staff.reload()
        settled(staff)

    # She verifies a document without opening it (the page reloads after the post).
    with staff.expect_navigation():
        button(staff, f"Verify {verified.original_name}").click()
    expect(staff.locator(f"#document-{verified.pk}").locator(".badge", has_text="Verified")).to_be_visible()
    settled(staff)
    assert asked == [] and served_documents == []
    assert not RecordAccess.objects.exists()

    # She opens one document, which the viewer shows.
    section = staff.locator(f"#document-{opened.pk}")
    with staff.expect_response(lambda r: r.url.endswith(f"/staff/documents/{opened.pk}/")) as shown:
        section.locator("summary", has_text="Show the document").click()
    assert shown.value.status == 200
    expect(section.locator("iframe")).to_be_visible()
    settled(staff)

    entries = list(RecordAccess.objects.values_list("user", "document"))
    assert entries == [(tina.pk, opened.pk)]
    assert served_documents == [f"/staff/documents/{opened.pk}/"]

    # The director's record of disclosures says the same.
    director = new_page()
    director.goto("/")
    log_in(director, diana.email, PASSWORD)
    link(director, "Disclosures").click()
    rows = director.get_by_role("row").filter(has=director.get_by_role("cell"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(opened.original_name)
    expect(rows).to_contain_text(permit.reference)


def test_a_technician_recommends_a_denial_and_the_director_finds_and_confirms_it(new_page, submitted_in, tina, diana):
    permit = submitted_in
    reason = DenialReason.NO_SPACE
    staff = new_page()
    staff.goto("/")
    log_in(staff, tina.email, PASSWORD)
    staff.goto(f"/staff/permits/{permit.pk}/")

    # The technician's button says what it does.
    expect(staff.locator("summary", has_text=re.compile(r"^\s*Deny\s*$"))).to_have_count(0)
    recommend = disclosure(staff, "Recommend denial")
    expect(recommend).to_contain_text("the director confirms the denial")
    recommend.get_by_role("checkbox", name=str(reason.label), exact=True).check()
    field(recommend, "Explanation for the family").fill("Grade 4 is full.")
    button(recommend, "Recommend denial").click()
    expect(flash(staff, f"Your recommendation to deny {permit.reference} is recorded.")).to_contain_text(
        "It is not a denial yet"
    )
    expect(status_badge(staff, RECOMMENDED)).to_be_visible()
    expect(status_badge(staff, "Submitted")).to_have_count(0)
    expect(button(staff, "Confirm the denial")).to_have_count(0)
    link(staff, "Queue").click()
    row = staff.get_by_role("row").filter(has=link(staff, permit.reference))
    expect(row.locator(".badge", has_text=RECOMMENDED)).to_be_visible()
    permit.refresh_from_db()
    assert permit.status == Permit.Status.SUBMITTED and permit.denial_recommended_by == tina

    # The director filters the queue to recommendations, opens it and confirms.
    director = new_page()
    director.goto("/")
    log_in(director, diana.email, PASSWORD)
    link(director, "Queue").click()
    director.get_by_label("Denials awaiting the director").check()
    button(director, "Filter").click()
    expect(director.get_by_label("Denials awaiting the director")).to_be_checked()
    row = director.get_by_role("row").filter(has=link(director, permit.reference))
    expect(row.locator(".badge", has_text=RECOMMENDED)).to_be_visible()
    link(director, permit.reference).click()
    expect(status_badge(director, RECOMMENDED)).to_be_visible()
    expect(director.locator("summary", has_text=re.compile(r"^\s*Deny\s*$"))).to_have_count(1)
    button(director, "Confirm the denial").click()
    expect(flash(director, f"{permit.reference} denied. The family is told of the right to appeal.")).to_be_visible()
    expect(status_badge(director, "Denied")).to_be_visible()


# Four overlapped before (bare selects as wide as their longest option); the phone
# checks the stacked layout and that the table scrolls inside its own box.
@pytest.mark.parametrize("width", [1200, 1280, 1366, 390])
def test_the_queue_filters_never_overlap_nor_overflow(page: Page, width, tina, submitted_in, school_year):
    SchoolFactory(name="Dr. Martin Luther King Jr. Academy of Science and Technology", code="MLK")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    log_in(page, tina.email, PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/staff/")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    form = page.get_by_role("form", name="Filters")
    report = form.evaluate(OVERLAPS)
    assert report["count"] >= 20, report  # every filter's label and control, and the buttons
    assert report["overlaps"] == [], f"at {width} px: {report['overlaps']}"
    assert report["outside"] == [], f"at {width} px: {report['outside']}"
    assert report["scrollWidth"] <= report["width"], f"at {width} px the page scrolls sideways: {report}"


@pytest.mark.parametrize("width", [1200, 1280, 1366])
def test_the_letter_filters_never_overlap(page: Page, width, diana):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    log_in(page, diana.email, PASSWORD)
    page.goto("/staff/letters/")
    report = page.locator("main form").first.evaluate(OVERLAPS)
    assert report["count"] >= 6, report  # three labels, three controls
    assert report["overlaps"] == [], f"at {width} px: {report['overlaps']}"
    assert report["scrollWidth"] <= report["width"], report
