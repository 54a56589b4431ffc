"""What a family reads on its packet page about appeals (issue 11, items 3 and 4): the
two steps of a first denial, the final denial after an upheld internal appeal, and a
request the district did not decide in time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from permits import services
from permits.models import District

from ..factories import PASSWORD
from .conftest import button, field, link, log_in

pytestmark = pytest.mark.browser


def spelled(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def test_a_family_appeals_a_denial_and_then_reads_its_final_denial(page: Page, submitted_in, alice, diana):
    services.deny_permit(permit_id=submitted_in.pk, by=diana, reasons=["no_space"], note="Grade 4 is full.", final=True)
    today = timezone.localdate()
    internal = today + timedelta(days=District.current().internal_appeal_days)
    page.goto("/")
    log_in(page, alice.email, PASSWORD)
    page.goto(f"/family/permits/{submitted_in.pk}/")
    rights = page.get_by_role("region", name="Your right to appeal")
    expect(rights).to_contain_text(f"(internal appeal) until {spelled(internal)}")
    expect(rights).to_contain_text(f"this denial becomes final on {spelled(internal)}")
    expect(rights).to_contain_text(f"until {spelled(internal + timedelta(days=30))}")

    link(page, "Appeal the decision").click()
    field(page, "Why should the district change its decision?").fill("Her brother attends this school.")
    button(page, "File the appeal").click()
    expect(page.get_by_role("status").filter(has_text="Your appeal was received")).to_be_visible()

    appeal = submitted_in.appeals.get()
    services.decide_internal_appeal(appeal_id=appeal.pk, by=diana, overturned=False)
    page.reload()
    rights = page.get_by_role("region", name="Your right to appeal")
    expect(rights).to_contain_text("This is the district's final denial.")
    expect(rights).to_contain_text(f"until {spelled(today + timedelta(days=30))}")
    expect(rights).not_to_contain_text("(internal appeal) until")
    expect(link(page, "Appeal the decision")).to_have_count(0)


def test_a_family_reads_that_its_request_was_not_decided_in_time(page: Page, submitted_in, alice):
    from permits.models import Permit

    today = timezone.localdate()
    Permit.objects.filter(pk=submitted_in.pk).update(legal_due_date=today - timedelta(days=1))
    services.record_deemed_denials(today=today)
    page.goto("/")
    log_in(page, alice.email, PASSWORD)
    page.goto(f"/family/permits/{submitted_in.pk}/")
    expect(page.get_by_role("status").filter(has_text="Not decided in time")).to_be_visible()
    rights = page.get_by_role("region", name="Your right to appeal")
    expect(rights).to_contain_text("this counts as a denial")
    expect(rights).to_contain_text(f"until {spelled(today + timedelta(days=30))}")
    expect(page.get_by_role("listitem").filter(has_text="Not decided in time: counts as a denial")).to_have_count(1)
