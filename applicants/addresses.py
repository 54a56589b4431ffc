"""A residence address in USPS form (Publication 28), read with usaddress-scourgify.

Everything runs on this machine: no geocoder or address service is called."""

import re
from dataclasses import dataclass

import usaddress
from django.utils.translation import gettext_lazy as _
from scourgify import normalize_address_record
from scourgify.address_constants import DIRECTIONAL_REPLACEMENTS, STREET_TYPE_ABBREVIATIONS
from scourgify.exceptions import AddressNormalizationError

# "PO Box 12", "P.O. Box", "Post Office Box", "Box 12", a private mailbox (PMB) or a
# Spanish "Apartado (postal)": a place to collect mail, where nobody lives.
_MAIL_ONLY = re.compile(
    r"\b(p\.?\s*o\.?\s*box|post\s+office\s+box|p\.?\s*o\.?\s*b\b|box\s*#?\s*\d+|pmb|apartado(\s+postal)?|apdo\.?)\b",
    re.IGNORECASE,
)


class NotAResidence(ValueError):
    """A post-office box or private mailbox given as where a family lives."""

    message = _(
        "A post office box cannot be a home address. Enter the street address where the student lives; "
        "you can give a separate mailing address to the office."
    )


@dataclass(frozen=True)
class StandardAddress:
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    # False: the address did not parse; the fields hold it as typed (upper-cased).
    standardized: bool

    @property
    def zip5(self) -> str:
        return self.postal_code[:5]

    @property
    def key(self) -> str:
        """How boundary data finds this address: line 1 in USPS form and the 5-digit ZIP."""
        return f"{self.line1} {self.zip5}".strip()


def is_mail_only(text: str) -> bool:
    if _MAIL_ONLY.search(text or ""):
        return True
    try:
        tags, _kind = usaddress.tag(text or "")
    except usaddress.RepeatedLabelError:
        return False
    return "USPSBoxType" in tags or "USPSBoxID" in tags


def standardize(
    street: str, unit: str = "", city: str = "", state: str = "CA", postal_code: str = ""
) -> StandardAddress:
    """The address in USPS form, or as typed (standardized=False) when it does not parse.

    Raises NotAResidence for a post-office box: a clear refusal, not a review."""
    if is_mail_only(street) or is_mail_only(unit):
        raise NotAResidence(NotAResidence.message)
    record = {
        "address_line_1": (street or "").strip(),
        "address_line_2": (unit or "").strip() or None,
        "city": (city or "").strip(),
        "state": (state or "").strip(),
        "postal_code": (postal_code or "").strip(),
    }
    try:
        clean = normalize_address_record(record)
    except (AddressNormalizationError, ValueError, TypeError, KeyError):
        clean = None
    if clean and clean.get("address_line_1") and clean.get("postal_code"):
        line1 = clean["address_line_1"]
        if not re.match(r"^\d", line1):
            clean = None  # no house number: not an address a boundary can place
    if not clean or not clean.get("address_line_1"):
        return StandardAddress(
            line1=" ".join(record["address_line_1"].upper().split()),
            line2=" ".join((record["address_line_2"] or "").upper().split()),
            city=record["city"].upper(),
            state=record["state"].upper(),
            postal_code=record["postal_code"],
            standardized=False,
        )
    return StandardAddress(
        line1=clean["address_line_1"],
        line2=clean.get("address_line_2") or "",
        city=clean.get("city") or record["city"].upper(),
        state=clean.get("state") or record["state"].upper(),
        postal_code=clean.get("postal_code") or record["postal_code"],
        standardized=True,
    )


# The USPS abbreviations (N, NE, ...; ST, AVE, ...) a street is written with in USPS form.
DIRECTIONS = frozenset(DIRECTIONAL_REPLACEMENTS.values())
STREET_TYPES = frozenset(STREET_TYPE_ABBREVIATIONS.values())


def street_part(kind: str, text: str) -> str:
    """One part of a street in USPS form: "North" -> "N", "Avenue" -> "AVE"; a name upper-cased.

    Boundary files spell streets in longhand or shorthand; matching needs one spelling."""
    word = " ".join((text or "").upper().replace(".", "").split())
    if kind == "direction":
        return DIRECTIONAL_REPLACEMENTS.get(word, word)
    if kind == "type":
        return STREET_TYPE_ABBREVIATIONS.get(word, word)
    return word


def parse_line1(line1: str) -> dict[str, str] | None:
    """The parts of a USPS-form first line ("123 N MAIN ST") a street range matches on.

    The line is already in USPS form (`standardize`), so its words are read in order
    rather than through usaddress's model again: a lookup must stay in microseconds."""
    words = line1.split()
    if len(words) < 2 or not words[0].isdigit():
        return None
    number, words = words[0], words[1:]
    # From the end inwards ("400 OAK AVE N", "5 N ST"): a word is a direction or a type
    # only while a street name is left beside it.
    post = words.pop() if len(words) > 1 and words[-1] in DIRECTIONS else ""
    street_type = words.pop() if len(words) > 1 and words[-1] in STREET_TYPES else ""
    pre = words.pop(0) if len(words) > 1 and words[0] in DIRECTIONS else ""
    return {
        "number": number,
        "pre_direction": pre,
        "street_name": " ".join(words),
        "street_type": street_type,
        "post_direction": post,
    }
