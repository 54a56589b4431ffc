"""Serving stored files (documents, letters): only ever through a view that checked who
is asking, never from a public path.

Three ways out, by deployment: S3 storage answers with a redirect to a signed URL that
expires in a minute; behind nginx, X-Accel-Redirect hands the file to an internal
location; otherwise Django streams it. The headers are the same in every case, and the
name offered always ends in the extension of the type the file was verified to be.
"""

from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from .models import Document
from .uploads import named_as

SIGNED_URL_SECONDS = 60


def file_policy(*, inline: bool) -> str:
    """The Content-Security-Policy of every stored file: nothing in it may run, load
    anything, submit a form or navigate (`sandbox`, without any allow- token), and only
    our own pages may frame it, the staff viewer for a file shown inline."""
    framed_by = "'self'" if inline else "'none'"
    return f"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors {framed_by}"


def file_response(file: FieldFile, *, filename: str, content_type: str, inline: bool = False) -> HttpResponse:
    """`content_type` is one of the types an upload is verified to be (uploads.ACCEPTED)."""
    filename = named_as(filename, content_type)
    disposition = content_disposition_header(not inline, filename)
    if settings.STORAGE_BACKEND == "s3":
        url = file.storage.url(
            file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=SIGNED_URL_SECONDS,
        )
        response = HttpResponseRedirect(url)
    elif settings.PORTAL_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PORTAL_ACCEL_REDIRECT.rstrip("/") + "/" + quote(file.name)
        response["Content-Disposition"] = disposition
    else:
        response = FileResponse(file.open("rb"), as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = file_policy(inline=inline)
    return response


def document_response(document: Document, *, inline: bool = False) -> HttpResponse:
    """A document with the type it was verified to be (PDF, JPEG or PNG)."""
    return file_response(
        document.file, filename=document.original_name, content_type=document.content_type, inline=inline
    )
