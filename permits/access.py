"""Scoped lookups of a family's permits and documents (the 404 rule: applicants.access)."""

from django.http import Http404

from applicants.access import family_of

from .models import Document, Permit


def get_permit_for(user, pk: int) -> Permit:
    family = family_of(user)
    try:
        return Permit.objects.select_related(
            "student", "school_year", "requested_school", "school_of_residence", "reason"
        ).get(pk=pk, family=family)
    except Permit.DoesNotExist:
        raise Http404 from None


def get_document_for(user, pk: int) -> Document:
    try:
        return Document.objects.select_related("permit").get(pk=pk, permit__family=family_of(user))
    except Document.DoesNotExist:
        raise Http404 from None
