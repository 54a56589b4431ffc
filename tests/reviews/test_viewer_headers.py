"""Both ways a stored document leaves the portal carry the same locked-down policy: a
file may not run script, load anything or submit a form, even when shown inline."""

import pytest
from django.urls import reverse

from ..conftest import login


def policy(response) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.fixture
def document(submitted_in):
    return submitted_in.documents.first()


def test_the_staff_viewer_sandboxes_the_document_it_shows_inline(tina, document):
    response = login(tina).get(reverse("staff_document", args=[document.pk]))
    assert response["Content-Disposition"].startswith("inline;")
    csp = policy(response)
    assert csp["default-src"] == "'none'"
    assert "sandbox" in csp and "allow-scripts" not in csp["sandbox"]
    assert csp["frame-ancestors"] == "'self'"


def test_the_family_download_is_sandboxed_and_never_framed(alice_client, document):
    response = alice_client.get(reverse("document_download", args=[document.pk]))
    csp = policy(response)
    assert csp["default-src"] == "'none'"
    assert "sandbox" in csp and "allow-scripts" not in csp["sandbox"]
    assert csp["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("accel", ["", "/protected-files/"])
def test_the_viewer_and_the_download_differ_only_in_who_may_frame_them(tina, alice_client, document, settings, accel):
    settings.PORTAL_ACCEL_REDIRECT = accel
    viewer = policy(login(tina).get(reverse("staff_document", args=[document.pk])))
    download = policy(alice_client.get(reverse("document_download", args=[document.pk])))
    assert viewer.pop("frame-ancestors") != download.pop("frame-ancestors")
    assert viewer == download
