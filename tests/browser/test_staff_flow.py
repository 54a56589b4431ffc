"""A packet through the district's hands in a real browser: a technician asks the
family for a document, the family answers, the technician verifies and approves;
and a technician's recommended denial that the director confirms. The staff and
the parent each work in their own browser context, as they would at their desks."""

import re

import pytest
from playwright.sync_api import Page, expect

from outbox.models import OutboxEmail
from permits import services as permit_services
from permits.models import DenialReason, Document, Permit, SeatAllocation

from ..conftest import doc_type
from ..factories import PASSWORD
from .conftest import (
    button,
    checklist_item,
    disclosure,
    field,
    link,
    log_in,
    log_out,
    upload_document,
    write_pdf,
)

pytestmark = pytest.mark.browser

STUDENT = "Sofia Garcia"


@pytest.fixture
def submitted(draft_in, alice, school_b, school_year) -> Permit:
    """Alice's submitted inter_in packet for Sofia (grade 4), with seats free at the
    requested school (what tests/reviews builds as `seats_b` and `submitted_in`)."""
    SeatAllocation.objects.create(school=school_b, school_year=school_year, grade=4, capacity=5)
    return permit_services.submit_permit(permit_id=draft_in.pk, by=alice)


def status_badge(page: Page, status: str):
    return page.locator(".badge", has_text=re.compile(rf"^\s*{re.escape(status)}\s*$"))


def flash(page: Page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def open_packet_from_queue(page: Page, permit: Permit) -> None:
    """From anywhere on the staff side: the queue, searched by reference, then the packet."""
    link(page, "Queue").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    field(page, "Student or reference").fill(permit.reference)
    button(page, "Filter").click()
    row = page.get_by_role("row").filter(has=link(page, permit.reference))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Garcia, Sofia")
    link(page, permit.reference).click()
    expect(page.get_by_role("heading", name=f"{permit.reference}: {STUDENT}", exact=True)).to_be_visible()


def claim(page: Page, permit: Permit) -> None:
    button(page, "Claim this packet").click()
    expect(flash(page, f"You are now reviewing {permit.reference}.")).to_be_visible()
    expect(button(page, "Claim this packet")).to_have_count(0)
    expect(status_badge(page, "Under review")).to_be_visible()


def test_a_technician_asks_for_a_document_then_approves(
    new_page, tmp_path, submitted, alice, tina, school_b, handle_events
):
    permit = submitted
    attendance = doc_type("attendance_record")
    message = "The attendance record is from last year. Please send this year's record."
    staff, parent = new_page(), new_page()

    # The technician finds the packet in the queue and claims it.
    staff.goto("/")
    log_in(staff, tina.email, PASSWORD)
    open_packet_from_queue(staff, permit)
    expect(status_badge(staff, "Submitted")).to_be_visible()
    claim(staff, permit)

    # She asks for this year's attendance record.
    ask = disclosure(staff, "Request information")
    ask.get_by_role("checkbox", name=attendance.name_en, exact=True).check()
    field(ask, "Message to the family").fill(message)
    button(ask, "Send the request").click()
    expect(flash(staff, "Information requested; the family has until")).to_be_visible()
    expect(status_badge(staff, "Information requested")).to_be_visible()

    # The parent sees the request, uploads the document and answers.
    parent.goto("/")
    log_in(parent, alice.email, PASSWORD)
    link(parent, "My family").click()
    expect(parent.get_by_role("heading", name="My family's requests")).to_be_visible()
    expect(status_badge(parent, "Information requested")).to_be_visible()
    link(parent, "Send the requested documents").click()
    expect(parent.get_by_role("heading", name=f"Documents: {STUDENT}")).to_be_visible()
    banner = parent.get_by_role("status").filter(has_text="The district asks for more information")
    expect(banner).to_contain_text(message)
    expect(banner.get_by_role("listitem")).to_have_text([attendance.name_en])
    new_record = write_pdf(tmp_path, "attendance-this-year.pdf", "Attendance 2026-27")
    upload_document(parent, attendance.name_en, new_record)
    expect(checklist_item(parent, attendance.name_en).get_by_role("link")).to_have_count(2)
    field(parent, "Message to the district (optional)").fill("Here is this year's record.")
    button(parent, "Send my answer to the district").click()
    expect(flash(parent, "Thank you. Your answer was sent to the district.")).to_be_visible()
    expect(status_badge(parent, "Under review")).to_be_visible()

    # Back with the technician: the packet is under review again, with the answer.
    staff.reload()
    expect(status_badge(staff, "Under review")).to_be_visible()
    expect(staff.get_by_text(re.compile(r"^Answered "))).to_contain_text("Here is this year's record.")
    expect(staff.get_by_text("Cannot be approved yet:")).to_be_visible()
    verify = staff.get_by_role("button", name=re.compile(r"^Verify\b"))
    documents = permit.documents.count()
    assert documents == 5  # four from the submission and the new attendance record
    expect(verify).to_have_count(documents)
    for left in range(documents - 1, -1, -1):
        verify.first.click()
        expect(verify).to_have_count(left)
    expect(staff.locator(".badge", has_text="Verified")).to_have_count(documents)
    expect(staff.get_by_text("Cannot be approved yet:")).to_have_count(0)

    approve = disclosure(staff, "Approve")
    expect(field(approve, "Place at")).to_have_value("")  # the requested school
    button(approve, "Approve").click()
    expect(flash(staff, f"{permit.reference} approved. The family is being emailed.")).to_be_visible()
    expect(status_badge(staff, "Approved")).to_be_visible()
    expect(staff.get_by_text(re.compile(r"^5 seats · 1 approved · 0 pending · 4 left$"))).to_be_visible()

    # The parent's packet page shows the approval and the school.
    parent.reload()
    expect(status_badge(parent, "Approved")).to_be_visible()
    expect(parent.get_by_role("status").filter(has_text=f"Approved: {school_b.name}.")).to_be_visible()

    # The database agrees.
    permit.refresh_from_db()
    assert permit.status == Permit.Status.APPROVED
    assert permit.placed_school == school_b
    assert permit.assigned_to == tina
    assert permit.info_due_date is None
    assert set(permit.documents.values_list("review", flat=True)) == {Document.Review.VERIFIED}
    assert permit.documents.filter(original_name=new_record.name, document_type=attendance).exists()
    info = permit.information_requests.get()
    assert info.requested_by == tina
    assert info.message == message
    assert list(info.document_types.all()) == [attendance]
    assert info.answered_at is not None
    assert info.answer == "Here is this year's record."
    handle_events()  # what the worker does after each commit
    asked = permit.emails.get(template="permit_info_requested")
    approved = permit.emails.get(template="permit_approved")
    assert asked.to == approved.to == alice.email
    assert permit.reference in approved.subject


def test_a_recommended_denial_is_confirmed_by_the_director(new_page, submitted, alice, tina, diana, handle_events):
    permit = submitted
    reason = DenialReason.NO_SPACE
    explanation = "Grade 4 at Roosevelt Elementary is full for 2027-28."
    staff, parent = new_page(), new_page()

    # The technician recommends a denial: the packet stays open.
    staff.goto("/")
    log_in(staff, tina.email, PASSWORD)
    open_packet_from_queue(staff, permit)
    claim(staff, permit)
    deny = disclosure(staff, "Recommend denial")
    deny.get_by_role("checkbox", name=str(reason.label), exact=True).check()
    deny.get_by_label("Explanation for the family").fill(explanation)
    button(deny, "Recommend denial").click()
    expect(flash(staff, f"Your recommendation to deny {permit.reference} is recorded.")).to_be_visible()
    expect(status_badge(staff, "Denial recommended — awaiting the director")).to_be_visible()
    expect(button(staff, "Confirm the denial")).to_have_count(0)  # not hers to confirm
    permit.refresh_from_db()
    assert permit.status == Permit.Status.UNDER_REVIEW
    assert permit.denial_recommended_by == tina
    handle_events()
    assert not OutboxEmail.objects.filter(template="permit_denied").exists()

    # The director confirms it.
    log_out(staff)
    log_in(staff, diana.email, PASSWORD)
    link(staff, "Queue").click()
    row = staff.get_by_role("row").filter(has=link(staff, permit.reference))
    expect(row).to_contain_text("Denial recommended — awaiting the director")
    open_packet_from_queue(staff, permit)
    recommended = staff.locator("section").filter(
        has=staff.get_by_role("heading", name="Denial recommended", exact=True)
    )
    expect(recommended).to_contain_text(str(reason.label))
    expect(recommended).to_contain_text(explanation)
    button(staff, "Confirm the denial").click()
    expect(flash(staff, f"{permit.reference} denied. The family is told of the right to appeal.")).to_be_visible()
    expect(status_badge(staff, "Denied")).to_be_visible()

    # The parent reads the decision and may appeal.
    parent.goto("/")
    log_in(parent, alice.email, PASSWORD)
    link(parent, "My family").click()
    expect(status_badge(parent, "Denied")).to_be_visible()
    parent.get_by_role("link", name=re.compile(r"^Inter-district, incoming")).click()
    expect(parent.get_by_role("heading", name=re.compile(re.escape(permit.reference)))).to_be_visible()
    expect(status_badge(parent, "Denied")).to_be_visible()
    decision = parent.get_by_role("status").filter(has_text="Denied")
    expect(decision).to_contain_text(str(reason.label))
    expect(decision).to_contain_text(explanation)
    expect(parent.get_by_role("region", name="Your right to appeal")).to_contain_text("county board of education")
    expect(link(parent, "Appeal the decision")).to_be_visible()

    permit.refresh_from_db()
    assert permit.status == Permit.Status.DENIED
    assert permit.denial_reasons == [reason.value]
    assert permit.decided_at is not None
    handle_events()  # what the worker does after each commit
    denied = permit.emails.get(template="permit_denied")
    assert denied.to == alice.email
