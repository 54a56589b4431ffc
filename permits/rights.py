"""A family's appeal rights after a denial: the one place that says which appeals a
denial opens and until when. Letters, emails, the family's packet page, the staff
review page and the services that accept an appeal all read them from here.

The rules (DOMAIN §4, EC 46600.1, 46600.2(b), 46601):

- Only an **inter-district** denial may be appealed to the county board of education,
  within 30 days (the request's rule set) of the **final** denial.
- Where the district offers an internal appeal, a first denial is not final yet: the
  family may appeal to the district until the internal deadline. The denial becomes
  final when the panel upholds it (a new letter, the final denial) or, if no internal
  appeal is filed, on the internal deadline; the county's 30 days count from then.
- An **intra-district** denial opens the district's own appeal only, if it offers one.
- A denial because the home district never released the student is not an appealable
  denial (EC 46600.1(d)(2)): the family's recourse is the home district's decision.
- No decision by the legal due date counts as a denial (a **deemed denial**,
  EC 46600.1(d)(1)) that an inter-district family may appeal to the county within 30
  days of the day it took effect.
- Revocations and abandonments are not denials and have no county appeal; their own
  letters say so.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from . import clock
from .models import Appeal, DenialReason, District, Permit, PermitKind


@dataclass(frozen=True)
class AppealRights:
    """What a family may do about one denial (or deemed denial), with its dates."""

    denied_on: date
    # Why no appeal is open at all ("no_release"); empty when some appeal is.
    not_appealable_because: str = ""
    # The district's own appeal: the last day to file it. None when the district
    # offers none, or when this denial already follows the internal appeal.
    internal_until: date | None = None
    # The day the denial is final: the denial itself, the internal deadline when no
    # internal appeal was filed, or the day the panel upheld it.
    final_on: date | None = None
    # The last day to appeal to the county board; None for intra-district requests.
    county_until: date | None = None
    # This denial follows an internal appeal the panel upheld.
    after_internal_appeal: bool = False
    deemed: bool = False
    # The county's filing window in days, from the request's rule set.
    county_days: int = 30

    @property
    def appealable(self) -> bool:
        return not self.not_appealable_because

    @property
    def county(self) -> bool:
        return self.county_until is not None

    @property
    def internal(self) -> bool:
        return self.internal_until is not None

    def internal_open_on(self, day: date) -> bool:
        return self.internal_until is not None and day <= self.internal_until


# The county board hears inter-district appeals only (EC 46601).
COUNTY_KINDS = (PermitKind.INTER_IN, PermitKind.INTER_OUT)


def goes_to_county(permit: Permit) -> bool:
    return permit.kind in COUNTY_KINDS


def for_denial(
    permit: Permit,
    denied_on: date,
    *,
    upheld_on: date | None = None,
    district: District | None = None,
) -> AppealRights:
    """The rights a denial decided on `denied_on` opens; `upheld_on` when the panel
    upheld it on internal appeal (the final denial)."""
    district = district or District.current()
    rules = clock.rule_set(permit.rule_set)
    if DenialReason.NO_RELEASE in permit.denial_reasons:
        return AppealRights(denied_on=denied_on, not_appealable_because="no_release")
    if upheld_on is not None:
        internal_until, final_on = None, upheld_on
    elif district.offers_internal_appeal:
        internal_until = denied_on + timedelta(days=district.internal_appeal_days)
        final_on = internal_until
    else:
        internal_until, final_on = None, denied_on
    county_until = final_on + timedelta(days=rules.county_appeal_days) if goes_to_county(permit) else None
    return AppealRights(
        denied_on=denied_on,
        internal_until=internal_until,
        final_on=final_on,
        county_until=county_until,
        after_internal_appeal=upheld_on is not None,
        county_days=rules.county_appeal_days,
    )


def for_deemed_denial(permit: Permit, deemed_on: date) -> AppealRights:
    """A request not decided by its legal due date counts as denied the next day; an
    inter-district family may appeal to the county from then (EC 46600.1(d)(1))."""
    rules = clock.rule_set(permit.rule_set)
    county_until = deemed_on + timedelta(days=rules.county_appeal_days) if goes_to_county(permit) else None
    return AppealRights(
        denied_on=deemed_on,
        final_on=deemed_on,
        county_until=county_until,
        deemed=True,
        county_days=rules.county_appeal_days,
    )


def deemed_denial_day(permit: Permit) -> date | None:
    """The first day a request counts as denied for lack of a decision: the day after
    its legal due date (never the district's own target)."""
    return permit.legal_due_date + timedelta(days=1) if permit.legal_due_date else None


def current(permit: Permit) -> AppealRights | None:
    """The rights that apply to a request today, for pages: its denial (or the panel's
    final denial), or its deemed denial while it is still undecided; None otherwise."""
    if permit.status == Permit.Status.DENIED and permit.decided_at is not None:
        internal = next((a for a in permit.appeals.all() if a.level == Appeal.Level.INTERNAL), None)
        upheld_on = internal.decided_on if internal and internal.outcome == Appeal.Outcome.UPHELD else None
        return for_denial(permit, clock.local_date(permit.decided_at), upheld_on=upheld_on)
    if permit.is_open and permit.deemed_denial_risk_since is not None:
        return for_deemed_denial(permit, permit.deemed_denial_risk_since)
    return None


def internal_appeal_decision_due(permit: Permit, filed_on: date, *, district: District | None = None) -> date:
    """When the district must decide an internal appeal: the district's number of days
    from filing and, for a current-year request, no later than its legal due date
    while that date is still ahead (the appeal must not push the decision past the
    legal clock)."""
    district = district or District.current()
    due = filed_on + timedelta(days=district.internal_appeal_decision_days)
    if permit.year_type == Permit.YearType.CURRENT and permit.legal_due_date and permit.legal_due_date >= filed_on:
        due = min(due, permit.legal_due_date)
    return due
