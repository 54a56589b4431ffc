import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from permits.uploads import check_upload, display_name

from ..factories import PNG_1PX, pdf_upload

MB = 1024 * 1024


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def refused_code(file) -> str:
    with pytest.raises(ValidationError) as refused:
        check_upload(file, max_bytes=10 * MB)
    return refused.value.code


def jpeg_bytes(size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "JPEG")
    return out.getvalue()


def test_it_accepts_a_pdf_a_jpeg_and_a_png_by_their_content():
    assert check_upload(pdf_upload(), max_bytes=MB).content_type == "application/pdf"
    assert check_upload(upload("photo.jpg", jpeg_bytes()), max_bytes=MB).content_type == "image/jpeg"
    assert check_upload(upload("scan.png", PNG_1PX), max_bytes=MB).extension == "png"


def test_it_trusts_the_content_not_the_name():
    checked = check_upload(upload("scan.pdf", PNG_1PX), max_bytes=MB)
    assert checked.content_type == "image/png"


def test_it_refuses_html_named_pdf():
    assert refused_code(upload("report.pdf", b"<html><script>alert(1)</script></html>")) == "wrong_type"


def test_it_refuses_an_svg_with_script():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refused_code(upload("card.svg", svg, "image/svg+xml")) == "wrong_type"


def test_it_refuses_a_pdf_html_polyglot():
    polyglot = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF"
    assert refused_code(upload("poly.pdf", polyglot)) == "markup"


def test_it_refuses_an_empty_file():
    assert refused_code(upload("empty.pdf", b"")) == "empty"


def test_it_refuses_a_file_over_the_limit_with_the_sizes():
    big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * (2 * MB) + b"\n%%EOF")
    with pytest.raises(ValidationError) as refused:
        check_upload(big, max_bytes=MB)
    assert refused.value.code == "too_large"
    assert "1.0\xa0MB" in refused.value.message % refused.value.params


def test_it_refuses_a_decompression_bomb():
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # 144 megapixels in a few kilobytes
    assert len(out.getvalue()) < 200_000
    assert refused_code(upload("bomb.png", out.getvalue(), "image/png")) == "too_many_pixels"


def test_it_refuses_a_truncated_image():
    assert refused_code(upload("half.jpg", jpeg_bytes()[:200], "image/jpeg")) == "broken_image"


def test_it_refuses_a_pdf_without_its_end():
    assert refused_code(upload("cut.pdf", pdf_upload().read()[:300])) == "broken_pdf"


@pytest.mark.parametrize(
    "given, shown",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\report.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        # Cleaned only: uploads.named_as then gives it the verified type's extension.
        ("report.pdf.exe", "report.pdf.exe"),
        ("\x00\x07name.pdf", "name.pdf"),
        ("", "document"),
    ],
)
def test_the_displayed_name_is_harmless(given, shown):
    assert display_name(given) == shown


def test_a_double_extension_is_judged_by_content():
    assert refused_code(upload("report.pdf.html", b"<!DOCTYPE html><p>hi</p>", "text/html")) == "wrong_type"
    assert check_upload(upload("report.png.pdf", PNG_1PX), max_bytes=MB).extension == "png"
