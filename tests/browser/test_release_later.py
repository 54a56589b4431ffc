"""A family that submitted without the home district's release uploads it later from
its packet page (issue 11)."""

import pytest
from playwright.sync_api import Page, expect

from ..conftest import doc_type
from ..factories import PASSWORD
from .conftest import button, checklist_item, field, log_in, write_pdf

pytestmark = pytest.mark.browser


def test_a_family_uploads_the_release_after_submitting(page: Page, tmp_path, release_pending_in, alice):
    permit = release_pending_in
    release = doc_type("release").name_en
    page.goto("/")
    log_in(page, alice.email, PASSWORD)
    page.goto(f"/family/permits/{permit.pk}/")
    expect(checklist_item(page, release)).to_contain_text("Release pending")

    form = page.get_by_role("region", name="The release from your home district")
    field(form, "File (PDF, JPEG or PNG)").set_input_files(write_pdf(tmp_path, "release-mesa-grande.pdf", "Release"))
    button(form, "Upload the release").click()

    expect(
        page.get_by_role("status").filter(has_text="Thank you. The release was sent to the district.")
    ).to_be_visible()
    expect(checklist_item(page, release)).to_contain_text("Uploaded")
    expect(checklist_item(page, release).get_by_role("link", name="release-mesa-grande.pdf")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Release received")).to_have_count(1)
    expect(page.get_by_role("region", name="The release from your home district")).to_have_count(0)
    expect(button(page, "Upload the release")).to_have_count(0)
