"""The school of residence of a family's recorded address, and staff decisions on the
addresses the lookup cannot place."""

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from applicants.models import Residence

from .lookup import Finding, index_for
from .models import ResidenceReview, School

STAFF_DECISION_RULE = gettext_noop("Decided by %(name)s on %(date)s: %(why)s")


class ReviewError(ValueError):
    pass


def _staff_finding(review: ResidenceReview, finding: Finding) -> Finding:
    facts = {
        "name": review.decided_by.get_full_name() or review.decided_by.email,
        "date": date_format(timezone.localtime(review.decided_at), "DATE_FORMAT"),
        "why": review.why,
    }
    return Finding(
        review.grade_low,
        review.grade_high,
        review.school,
        STAFF_DECISION_RULE,
        facts,
        candidates=finding.candidates,
        reason=finding.reason,
        decided_by_staff=True,
    )


def school_of_residence(residence: Residence, grade: int, year: str) -> Finding:
    """The lookup for a recorded address, or the staff's decision where it needed review."""
    finding = index_for(year).find(residence.address, grade)
    if not finding.needs_review:
        return finding
    decided = (
        ResidenceReview.objects.filter(
            residence=residence, grade_low=finding.grade_low, grade_high=finding.grade_high, decided_at__isnull=False
        )
        .select_related("school", "decided_by")
        .first()
    )
    return _staff_finding(decided, finding) if decided else finding


def place_residence(residence: Residence, grade: int, year: str) -> Finding:
    """The school of residence, opening a staff review when the lookup cannot tell.

    Safe to call any number of times: one review per address and grade span."""
    finding = school_of_residence(residence, grade, year)
    if finding.needs_review:
        open_review(residence, finding)
    return finding


def open_review(residence: Residence, finding: Finding) -> ResidenceReview:
    """The staff review of an address and grade span the lookup could not place (the
    one already open or decided, if there is one)."""
    review, created = ResidenceReview.objects.get_or_create(
        residence=residence,
        grade_low=finding.grade_low,
        grade_high=finding.grade_high,
        defaults={"reason": finding.reason},
    )
    if created and finding.candidates:
        review.candidates.set(finding.candidates)
    return review


def open_reviews():
    return ResidenceReview.objects.filter(decided_at__isnull=True).select_related("residence__family")


@transaction.atomic
def decide_review(review_id: int, school: School, by, why: str) -> ResidenceReview:
    """Staff name the school of residence for an address the lookup could not place."""
    review = ResidenceReview.objects.select_for_update().get(pk=review_id)
    why = (why or "").strip()
    if not review.is_open:
        raise ReviewError(_("This address was already decided."))
    if not why:
        raise ReviewError(_("Say why this school: the decision is kept with your name."))
    if not school.teaches_some_of(review.grade_low, review.grade_high):
        raise ReviewError(
            _("%(school)s does not teach grades %(span)s.") % {"school": school, "span": review.grade_span}
        )
    review.school = school
    review.decided_by = by
    review.decided_at = timezone.now()
    review.why = why
    review.save(update_fields=["school", "decided_by", "decided_at", "why"])
    return review
