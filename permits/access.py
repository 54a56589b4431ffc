"""Scoped lookups: the one way views fetch a family's objects.

Another family's object is a 404, never a 403: the portal does not confirm that a
packet, student or document exists to someone who may not see it.
"""

from django.http import Http404

from applicants.models import Family, Student

from .models import Document, Permit


def family_of(user) -> Family:
    """The signed-in guardian's family; staff and strangers get a 404 on family pages."""
    if not user.is_authenticated or user.family_id is None:
        raise Http404
    return user.family


def get_permit_for(user, pk: int) -> Permit:
    family = family_of(user)
    try:
        return Permit.objects.select_related(
            "student", "school_year", "requested_school", "school_of_residence", "reason"
        ).get(pk=pk, family=family)
    except Permit.DoesNotExist:
        raise Http404 from None


def get_student_for(user, pk: int) -> Student:
    try:
        return Student.objects.get(pk=pk, family=family_of(user))
    except Student.DoesNotExist:
        raise Http404 from None


def get_document_for(user, pk: int) -> Document:
    try:
        return Document.objects.select_related("permit").get(pk=pk, permit__family=family_of(user))
    except Document.DoesNotExist:
        raise Http404 from None
