"""The term of a multi-year inter-district permit (EC 46600(a)(1)-(2)): an enrolled
transfer pupil does not reapply each year, and an agreement runs at most five school
years.

Each school year of a term is its own Permit row, so seats, letters, revocation and
reports read one year at a time; a later year `continues` the row of the year before
it, and the first row of that chain is the approval. Pure reads: nothing here writes.
"""

import re
from dataclasses import dataclass

from .models import District, Permit, PermitKind

MAX_TERM_YEARS = 5
# select_related(*CHAIN) reads a row's term back to its first year, with each year's
# name, in the same query (term_of then reads nothing more).
CHAIN = tuple("__".join(["continues"] * n + ["school_year"]) for n in range(MAX_TERM_YEARS))

# "2027-28", "2027–28", "2027/2028": the first calendar year and the second's digits.
_YEAR_NAME = re.compile(r"^\s*(\d{4})\s*([-–/])\s*(\d{2}|\d{4})\s*$")


def term_years_on_approval(permit: Permit, district: District) -> int:
    """How many school years an approval covers: the district's setting for an
    inter-district permit (at most five), one year for an intra-district placement,
    which the statute on multi-year agreements does not cover."""
    if permit.kind in (PermitKind.INTER_IN, PermitKind.INTER_OUT):
        return max(1, min(district.permit_term_years, MAX_TERM_YEARS))
    return 1


def year_name_after(name: str, years: int) -> str:
    """The name of the school year `years` after the one called `name`, written the
    same way ("2027-28", 4 -> "2031-32"); empty when the name carries no year numbers."""
    match = _YEAR_NAME.match(name)
    if match is None:
        return ""
    start = int(match[1]) + years
    end = str(start + 1) if len(match[3]) == 4 else f"{(start + 1) % 100:02d}"
    return f"{start}{match[2]}{end}"


@dataclass(frozen=True)
class Term:
    years: int  # school years the approval covers (an old row without a term: one)
    first_year: str  # the name of the approval's school year
    last_year: str  # the name of the term's last school year; empty if it cannot be named
    year_number: int  # which year of the term this row is: 1 for the approval's year

    @property
    def has_years_left(self) -> bool:
        return self.year_number < self.years


def term_of(permit: Permit) -> Term:
    """The term a permit row belongs to. Walks `continues` to the first row: at most
    four reads, none when the caller selected CHAIN (and its school years)."""
    first, number = permit, 1
    while first.continues_id is not None:
        first, number = first.continues, number + 1
    years = permit.term_years or 1
    name = first.school_year.name
    return Term(years=years, first_year=name, last_year=year_name_after(name, years - 1), year_number=number)


def awaits_confirmation(permit: Permit) -> bool:
    """A continuing year the family has not yet confirmed the student returns for."""
    return (
        permit.status == Permit.Status.APPROVED
        and permit.continues_id is not None
        and permit.continuation_confirmed_at is None
    )


def latest_year(permit: Permit) -> Permit:
    """The last row of the term so far: what a letter of the first year vouches for
    today (a later year revoked or lapsed ends it)."""
    while (later := Permit.objects.filter(continues=permit).order_by("-pk").first()) is not None:
        permit = later
    return permit
