"""Serving stored documents: only ever through a view that checked who is asking."""

from django.http import FileResponse

from .models import Document


def document_response(document: Document, *, inline: bool = False) -> FileResponse:
    """Stream a document with the type it was verified to be. Even inline, the
    browser may not sniff it into HTML or run anything in it."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Nothing in a document may run or load anything; only our own pages may frame it.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; " + (
        "frame-ancestors 'self'" if inline else "frame-ancestors 'none'; sandbox"
    )
    response["Cache-Control"] = "private, no-store"
    return response
