"""The name a document is stored and offered under, and the sizes an upload is refused
for, seen through the family's own pages."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from PIL import Image

from permits.models import Document
from permits.uploads import check_upload

from ..conftest import doc_type, login
from ..factories import PNG_1PX, pdf_upload

MB = 1024 * 1024


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "JPEG")
    return out.getvalue()


def pdf_of_size(size: int) -> bytes:
    """A PDF that passes the checks, padded to exactly `size` bytes."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


CONTENT = {"pdf": pdf_upload().read(), "jpeg": jpeg_bytes(), "png": PNG_1PX}


@pytest.mark.parametrize(
    "given, content, stored",
    [
        ("x.pdf.html", "pdf", "x.pdf"),
        ("page.html", "pdf", "page.pdf"),
        ("report.pdf.exe", "pdf", "report.pdf"),
        ("scan.JPG", "jpeg", "scan.JPG"),
        ("scan.jpeg", "jpeg", "scan.jpeg"),
        ("photo.png", "jpeg", "photo.jpg"),
        ("card.png.svg", "png", "card.png"),
        ("Notes", "pdf", "Notes.pdf"),
        ("Lease v2.1", "pdf", "Lease v2.1.pdf"),
    ],
)
def test_an_upload_is_stored_and_offered_under_the_extension_of_its_verified_type(
    alice_client, draft_in, given, content, stored
):
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("report_card").pk, "file": SimpleUploadedFile(given, CONTENT[content])},
    )
    assert response.status_code == 302
    document = draft_in.documents.latest("pk")
    assert document.original_name == stored
    download = alice_client.get(reverse("document_download", args=[document.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="{stored}"'


@pytest.mark.parametrize(
    "kept, content_type, offered",
    [
        ("page.html", "application/pdf", "page.pdf"),
        ("x.pdf.html", "application/pdf", "x.pdf"),
        ("photo.png", "image/jpeg", "photo.jpg"),
        ("scan.JPG", "image/jpeg", "scan.JPG"),
    ],
)
def test_a_name_stored_before_the_fix_is_offered_with_the_right_extension(
    alice_client, tina, submitted_in, kept, content_type, offered
):
    document = submitted_in.documents.first()
    Document.objects.filter(pk=document.pk).update(original_name=kept, content_type=content_type)
    family = alice_client.get(reverse("document_download", args=[document.pk]))
    assert family["Content-Disposition"] == f'attachment; filename="{offered}"'
    assert family["Content-Type"] == content_type
    staff = login(tina).get(reverse("staff_document", args=[document.pk]))
    assert staff["Content-Disposition"] == f'inline; filename="{offered}"'


def test_a_name_that_is_all_extension_still_gets_the_verified_one():
    from permits.uploads import named_as

    assert named_as("html", "application/pdf") == "html.pdf"
    assert named_as("x .html", "application/pdf") == "x.pdf"
    assert named_as("", "image/png") == "document.png"


# --- Sizes ------------------------------------------------------------------------------


def refusal(size: int, limit: int) -> str:
    upload = SimpleUploadedFile("big.pdf", pdf_of_size(min(size, 11 * MB)))
    upload.size = size  # the size is judged before a byte is read
    with pytest.raises(ValidationError) as refused:
        check_upload(upload, max_bytes=limit)
    assert refused.value.code == "too_large"
    return refused.value.message % refused.value.params


@pytest.mark.parametrize(
    "over, shown",
    [
        (1, "10.01\xa0MB"),  # rounded up: never shown as the limit itself
        (40 * 1024, "10.04\xa0MB"),
        (MB // 2, "10.5\xa0MB"),
    ],
)
def test_a_file_just_over_the_limit_is_refused_with_two_different_sizes(over, shown):
    assert refusal(10 * MB + over, 10 * MB) == f"The file is {shown}; the largest file accepted is 10.0\xa0MB."


def test_the_sizes_are_written_the_spanish_way_for_a_spanish_speaking_family():
    with translation.override("es"):
        message = refusal(10 * MB + 40 * 1024, 10 * MB)
    assert message == "El archivo pesa 10,04\xa0MB; el tamaño máximo permitido es 10,0\xa0MB."


def test_a_file_of_exactly_the_limit_is_accepted():
    assert check_upload(SimpleUploadedFile("full.pdf", pdf_of_size(10 * MB)), max_bytes=10 * MB).size == 10 * MB


def test_a_much_larger_file_is_shown_in_its_own_unit():
    assert refusal(3 * 1024 * MB // 2, 10 * MB).startswith("The file is 1.5\xa0GB;")


def test_the_family_sees_both_sizes_when_one_byte_over(alice_client, draft_in, district):
    district.max_file_mb = 1
    district.save()
    response = alice_client.post(
        reverse("permit_documents", args=[draft_in.pk]),
        {"document_type": doc_type("report_card").pk, "file": SimpleUploadedFile("big.pdf", pdf_of_size(MB + 1))},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["The file is 1.01\xa0MB; the largest file accepted is 1.0\xa0MB."]


def test_the_upload_that_would_take_the_packet_past_its_total_is_refused_in_spanish(alice, draft_in, district):
    alice.family.preferred_language = "es"
    alice.family.save()
    client = login(alice)
    district.max_packet_mb = 1
    district.save()
    room = MB - draft_in.documents.aggregate(total=Sum("size"))["total"]
    before = set(draft_in.documents.values_list("pk", flat=True))
    stored_files = default_storage.listdir(f"documents/{draft_in.pk}")[1]
    url = reverse("permit_documents", args=[draft_in.pk])

    response = client.post(
        url, {"document_type": doc_type("report_card").pk, "file": SimpleUploadedFile("a.pdf", pdf_of_size(room + 1))}
    )
    assert response.status_code == 400
    assert "Con este archivo, la solicitud superaría su límite de 1 MB. Primero elimine otro archivo." in response.text
    assert set(draft_in.documents.values_list("pk", flat=True)) == before
    assert default_storage.listdir(f"documents/{draft_in.pk}")[1] == stored_files

    response = client.post(
        url,
        {"document_type": doc_type("report_card").pk, "file": SimpleUploadedFile("b.pdf", pdf_of_size(room))},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"redirect": url}
    assert draft_in.documents.aggregate(total=Sum("size"))["total"] == MB
