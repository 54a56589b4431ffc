"""The legal clocks of a permit request (California EC 46600.2, as amended by AB 2826,
and EC 46601 for appeals), and the district's calendar day.

All counts are calendar days in the district's time zone, which is the settings'
TIME_ZONE (the `permits.E001` check refuses a district row that says otherwise). The
clock starts when the family submits the packet and does not restart when missing
documents arrive.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class RuleSet:
    """The clock and appeal rules of the Education Code from one date on. A change in
    the law is a new entry in RULE_SETS with its start date, never an edit of an old
    one: each request keeps the rule set of its day of receipt (Permit.rule_set)."""

    code: str
    effective_from: date
    citation: str
    # A request received this many days or fewer before the first day of instruction
    # (or later) is a current-year request, decided within CURRENT_YEAR_DECISION_DAYS:
    # EC 46600.2(a)(5)(A).
    current_year_window_days: int = 15
    current_year_decision_days: int = 30
    # Future-year requests: at the latest this many days after instruction starts,
    # EC 46600.2(a)(5)(B).
    future_year_days_after_start: int = 14
    # No decision by the due date counts as a denial the family may appeal
    # (EC 46600.1(d)(1)); a future rule may make it an approval instead.
    no_decision_counts_as: str = "denial"
    # Appeal to the county board: filed within 30 days of the final denial, decided
    # within 30 days of filing (EC 46601), 60 in class 1 and 2 counties where the
    # rule set allows it.
    county_appeal_days: int = 30
    county_decision_days: int = 30
    county_extended_decision_days: int | None = None
    # Provisional attendance while a decision or appeal is pending: EC 46603.
    provisional_school_months: int = 2


RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        code="ab2826-2019",
        effective_from=date(2019, 1, 1),
        citation="EC 46600.2, 46601 as amended by AB 2826 (2018)",
    ),
    RuleSet(
        code="sb413-2024",
        effective_from=date(2024, 1, 1),
        citation="EC 46601 as amended by SB 413 (2023): 60 days in class 1 and 2 counties",
        county_extended_decision_days=60,
    ),
)


def rules_on(day: date) -> RuleSet:
    """The rule set in force on a day (the latest one that had started)."""
    in_force = [rules for rules in RULE_SETS if rules.effective_from <= day]
    if not in_force:
        raise ValueError(f"No permit rules are defined for {day.isoformat()}.")
    return max(in_force, key=lambda rules: rules.effective_from)


def rule_set(code: str) -> RuleSet:
    """A request's rule set by its stored code; the one in force today if it has none
    (a draft, never received)."""
    for rules in RULE_SETS:
        if rules.code == code:
            return rules
    return rules_on(today())


def county_decision_days(rules: RuleSet, county_class: int | None) -> int:
    """Days the county board has to decide an appeal: 60 only in class 1 and 2
    counties under a rule set that allows it, 30 everywhere else."""
    if rules.county_extended_decision_days and county_class in (1, 2):
        return rules.county_extended_decision_days
    return rules.county_decision_days


@dataclass(frozen=True)
class Deadlines:
    received_on: date
    year_type: str  # "current" or "future"
    legal_due: date
    district_due: date | None
    rules: RuleSet

    @property
    def due(self) -> date:
        """The date that applies: the earlier of the legal and the district's own."""
        if self.district_due and self.district_due < self.legal_due:
            return self.district_due
        return self.legal_due


def local_date(moment: datetime, time_zone: str | None = None) -> date:
    """The calendar day a moment falls on in the district, whatever the server's zone."""
    return moment.astimezone(ZoneInfo(time_zone or settings.TIME_ZONE)).date()


def today() -> date:
    """Today in the district."""
    return local_date(timezone.now())


def deadlines_for(
    *,
    received_at: datetime,
    first_day_of_instruction: date,
    time_zone: str | None = None,
    service_level_days: int | None = None,
    rules: RuleSet | None = None,
) -> Deadlines:
    received_on = local_date(received_at, time_zone)
    rules = rules or rules_on(received_on)
    days_before_start = (first_day_of_instruction - received_on).days
    if days_before_start <= rules.current_year_window_days:
        year_type = "current"
        legal_due = received_on + timedelta(days=rules.current_year_decision_days)
    else:
        year_type = "future"
        legal_due = first_day_of_instruction + timedelta(days=rules.future_year_days_after_start)
    district_due = received_on + timedelta(days=service_level_days) if service_level_days else None
    return Deadlines(received_on, year_type, legal_due, district_due, rules)


# A school month is 20 school days, four weeks of five (EC 37201); a pupil may attend
# provisionally for at most RuleSet.provisional_school_months of them (EC 46603).
SCHOOL_MONTH_DAYS = 20


def last_school_day(start: date, school_days: int, *, holidays: set[date], last_day: date) -> date:
    """The day the `school_days`-th school day falls on, counting `start` as the first
    when it is one. School days are the weekdays that are not `holidays` (the year's
    days without instruction); the count stops at the year's last day of instruction,
    which is returned when the days run past it."""
    if school_days < 1:
        raise ValueError("Count at least one school day.")
    day, counted = start, 0
    while day <= last_day:
        if day.weekday() < 5 and day not in holidays:
            counted += 1
            if counted == school_days:
                return day
        day += timedelta(days=1)
    return last_day


def school_days_between(first: date, last: date, *, holidays: set[date]) -> int:
    """How many school days (weekdays not in `holidays`) run from `first` to `last`,
    both included."""
    return sum(
        1
        for n in range((last - first).days + 1)
        if (day := first + timedelta(days=n)).weekday() < 5 and day not in holidays
    )
