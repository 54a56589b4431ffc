"""Checks every uploaded document before it is stored.

A file is accepted for what it *is*, never for what it is called: the type comes from
its first bytes, images are decoded to prove they are images, and the name the family
gave it is kept only as display text, ending in the extension of the type it was
verified to be. The key it is stored under is chosen here.
"""

import hashlib
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import PurePosixPath, PureWindowsPath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.html import avoid_wrapping
from django.utils.translation import gettext_lazy as _
from PIL import Image

ACCEPTED = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
# Extensions a name may already end in for each type; any other ending is replaced.
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
}
# What reads as a file extension ("html", "exe", "png"), as opposed to the end of a
# name that happens to contain a dot ("Lease v2.1").
_EXTENSION = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,5}")
_SIZE_UNITS = ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB"))
# Pillow refuses images past this many pixels instead of decompressing a bomb.
MAX_IMAGE_PIXELS = 40_000_000
# Markup that has no business at the start of a PDF or image: a polyglot that a
# browser could be talked into rendering as a page.
_MARKUP = (b"<html", b"<!doctype", b"<script", b"<svg", b"<body", b"<iframe")


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    extension: str
    size: int
    sha256: str
    display_name: str


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def display_name(name: str) -> str:
    """The family's filename made safe to show: no folders, no control or bidi characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    cleaned = cleaned.strip(" .") or "document"
    return cleaned[-120:]


def named_as(name: str, content_type: str) -> str:
    """`name` ending in the extension of `content_type`, so that a saved copy opens in a
    PDF reader or an image viewer, never as a web page or a program: "x.pdf.html" becomes
    "x.pdf", "page.html" "page.pdf", a JPEG called "photo.png" "photo.jpg". Used when an
    upload is accepted and again on every download, for names stored before."""
    stem = name.strip(" .")
    while "." in stem:
        rest, extension = stem.rsplit(".", 1)
        if extension.lower() in EXTENSIONS[content_type]:
            return stem
        if not _EXTENSION.fullmatch(extension):
            break
        stem = rest.rstrip(" .")
    return f"{stem or 'document'}.{ACCEPTED[content_type]}"


def storage_key(permit_id: int, extension: str) -> str:
    return f"documents/{permit_id}/{uuid.uuid4().hex}.{extension}"


def check_upload(upload: UploadedFile, *, max_bytes: int) -> CheckedUpload:
    """Raise ValidationError (with a code) unless the file is a real PDF, JPEG or PNG."""
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if upload.size > max_bytes:
        size, limit = _sizes(upload.size, max_bytes)
        raise ValidationError(
            _("The file is %(size)s; the largest file accepted is %(limit)s."),
            code="too_large",
            params={"size": size, "limit": limit},
        )
    upload.seek(0)
    head = upload.read(2048)
    content_type = sniff(head)
    if content_type is None:
        raise ValidationError(
            _("This file is not a PDF, JPEG or PNG. Scan or save the document as one of those."),
            code="wrong_type",
        )
    if any(marker in head.lower() for marker in _MARKUP):
        raise ValidationError(_("This file contains web page content and cannot be accepted."), code="markup")
    if content_type.startswith("image/"):
        _check_image(upload)
    elif not _pdf_looks_complete(upload):
        raise ValidationError(_("This PDF seems to be damaged or incomplete. Please save it again."), code="broken_pdf")

    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        content_type=content_type,
        extension=ACCEPTED[content_type],
        size=upload.size,
        sha256=digest.hexdigest(),
        display_name=named_as(display_name(upload.name), content_type),
    )


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """The file's size and the limit, written so that a file just over the limit never
    reads as the limit itself: "10.04 MB" against "10.0 MB", and a file one byte over
    is rounded up to "10.01 MB"."""
    unit, symbol = next(((unit, symbol) for unit, symbol in _SIZE_UNITS if limit >= unit), (0, ""))
    if not unit or size >= 1024 * unit:
        return filesizeformat(size), filesizeformat(limit)
    limit_shown = (Decimal(limit) / unit).quantize(Decimal("0.1"), ROUND_FLOOR)
    exact = Decimal(size) / unit
    for step, rounding in (("0.1", ROUND_HALF_UP), ("0.01", ROUND_HALF_UP), ("0.01", ROUND_CEILING)):
        size_shown = exact.quantize(Decimal(step), rounding)
        if size_shown > limit_shown:
            break
    return (
        avoid_wrapping(f"{number_format(size_shown, -size_shown.as_tuple().exponent)} {symbol}"),
        avoid_wrapping(f"{number_format(limit_shown, 1)} {symbol}"),
    )


def _check_image(upload: UploadedFile) -> None:
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below; Pillow's own warning adds nothing.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload)
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _("This image is too large in pixels. Please send a smaller scan."),
                    code="too_many_pixels",
                )
            image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("This image is too large in pixels. Please send a smaller scan."),
            code="too_many_pixels",
        ) from None
    except Exception:
        raise ValidationError(
            _("This image could not be read. Please scan or photograph the document again."),
            code="broken_image",
        ) from None


def _pdf_looks_complete(upload: UploadedFile) -> bool:
    # A PDF ends with %%EOF (possibly followed by whitespace or an incremental update).
    upload.seek(max(upload.size - 2048, 0))
    tail = upload.read()
    return b"%%EOF" in tail
