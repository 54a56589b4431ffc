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

# A request received this many days or fewer before the first day of instruction
# (or later) is a current-year request: EC 46600.2(a)(5)(A).
CURRENT_YEAR_WINDOW_DAYS = 15
CURRENT_YEAR_DECISION_DAYS = 30
# Future-year requests: at the latest 14 days after instruction starts, (a)(5)(B).
FUTURE_YEAR_DAYS_AFTER_START = 14
# Appeal to the county board of education: 30 days from the final denial, EC 46601.
COUNTY_APPEAL_DAYS = 30


@dataclass(frozen=True)
class Deadlines:
    received_on: date
    year_type: str  # "current" or "future"
    legal_due: date
    district_due: date | None

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
) -> Deadlines:
    received_on = local_date(received_at, time_zone)
    days_before_start = (first_day_of_instruction - received_on).days
    if days_before_start <= CURRENT_YEAR_WINDOW_DAYS:
        year_type = "current"
        legal_due = received_on + timedelta(days=CURRENT_YEAR_DECISION_DAYS)
    else:
        year_type = "future"
        legal_due = first_day_of_instruction + timedelta(days=FUTURE_YEAR_DAYS_AFTER_START)
    district_due = received_on + timedelta(days=service_level_days) if service_level_days else None
    return Deadlines(received_on, year_type, legal_due, district_due)


@dataclass(frozen=True)
class AppealDeadlines:
    """The last day to appeal a final denial: to the district (its own board policy,
    `District.internal_appeal_days`) and to the county board (EC 46601)."""

    internal: date
    county: date


def appeal_deadlines(final_denial_on: date, *, internal_appeal_days: int) -> AppealDeadlines:
    return AppealDeadlines(
        internal=final_denial_on + timedelta(days=internal_appeal_days),
        county=final_denial_on + timedelta(days=COUNTY_APPEAL_DAYS),
    )
