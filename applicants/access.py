"""Scoped lookups of a family's own objects: the one way views fetch them.

Another family's object is a 404, never a 403: the portal does not confirm that a
packet, student or document exists to someone who may not see it.
"""

from django.http import Http404

from .models import Family, Student


def family_of(user) -> Family:
    """The signed-in guardian's family; staff and strangers get a 404 on family pages."""
    if not user.is_authenticated or not user.is_guardian:
        raise Http404
    return user.family


def get_student_for(user, pk: int) -> Student:
    try:
        return Student.objects.get(pk=pk, family=family_of(user))
    except Student.DoesNotExist:
        raise Http404 from None
