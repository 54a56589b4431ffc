"""The lottery anyone can re-derive (EC 35160.5(b): a random, unbiased process).

1. Before the application deadline the district publishes a commitment: the SHA-256 of
   a secret it keeps (`commitment_of`).
2. At the deadline the applications are frozen into a canonical export: JSON Lines,
   one line per program and per applicant under pseudonymous ids, keys sorted, lines
   sorted (`canonical_export`); its SHA-256 is shown to staff and printed for the board.
3. At the public drawing the secret is revealed and digits are drawn in public; the
   seed is SHA-256(secret ‖ digits ‖ export hash) and each student's lottery number
   is SHA-256(seed ‖ lottery id), all as ASCII text, so that

       printf '%s' "$SECRET$DIGITS$EXPORT_SHA256" | sha256sum     # the seed
       printf '%s' "$SEED$LOTTERY_ID" | sha256sum                  # a number

   gives the same numbers on any computer. Nobody can choose the seed: the secret
   was fixed before the applications were known, the digits after.
4. `derive` re-computes the whole result from the export and the seed; the run keeps
   the hashes of both, and `manage.py verify_lottery` checks them byte for byte.

Pure Python, no Django, like the matcher it drives.
"""

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import matching

# The code that decides a result, named by the SHA-256 of its source: a run records it,
# and a verification with different code says so instead of disagreeing silently.
CODE_FILES = (Path(__file__), Path(matching.__file__))


def code_version() -> str:
    digest = hashlib.sha256()
    for path in CODE_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def new_secret() -> str:
    return secrets.token_hex(16)


def commitment_of(secret: str) -> str:
    return sha256_text(secret)


def seed_of(secret: str, digits: str, export_sha256: str) -> str:
    return sha256_text(secret + digits + export_sha256)


def number_of(seed: str, lottery_id: str) -> str:
    return sha256_text(seed + lottery_id)


def canonical_line(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_export(records: Iterable[dict]) -> bytes:
    """Sorted JSON Lines: the same applications give the same bytes, whatever the
    order the database returned them in."""
    return "".join(sorted(canonical_line(r) + "\n" for r in records)).encode("ascii")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Derived:
    numbers: dict[str, str]  # applicant id -> lottery number
    result: matching.Result
    result_lines: bytes  # canonical JSON Lines of the result

    @property
    def result_sha256(self) -> str:
        return sha256_bytes(self.result_lines)


def read_export(data: bytes) -> tuple[dict, list[dict], list[dict]]:
    """The export's settings line, its programs and its applicants."""
    settings, programs, applicants = None, [], []
    for line in data.decode("ascii").splitlines():
        record = json.loads(line)
        if "program" in record:
            programs.append(record)
        elif "applicant" in record:
            applicants.append(record)
        elif "cycle" in record:
            settings = record
        else:
            raise ValueError(f"unknown export line: {line[:80]}")
    if settings is None:
        raise ValueError("the export has no settings line")
    return settings, programs, applicants


def derive(export: bytes, seed: str) -> Derived:
    """The whole result of a run, from the frozen export and the seed alone."""
    settings, program_rows, applicant_rows = read_export(export)
    numbers = {row["applicant"]: number_of(seed, row["lottery_id"]) for row in applicant_rows}
    applicants = [
        matching.Applicant(
            id=row["applicant"],
            number=numbers[row["applicant"]],
            choices=tuple(row["choices"]),
            priority=dict(row["priority"]),
            tier=row.get("tier"),
            late=row.get("late", False),
        )
        for row in applicant_rows
    ]
    programs = [
        matching.Program(id=p["program"], seats=p["seats"], reserved=p.get("reserved", 0)) for p in program_rows
    ]
    result = matching.match(
        applicants,
        programs,
        lowest_class=settings["lowest_class"],
        reserve_tiers=frozenset(settings.get("reserve_tiers", [])),
        precedence=settings.get("precedence", matching.OPEN_FIRST),
    )
    positions = _waitlist_positions(result)
    lines = [
        {
            "applicant": a.id,
            "number": numbers[a.id],
            "placed": result.placed[a.id],
            "classes": result.classes[a.id],
            "waitlists": positions.get(a.id, {}),
        }
        for a in applicants
    ]
    return Derived(numbers=numbers, result=result, result_lines=canonical_export(lines))


def _waitlist_positions(result: matching.Result) -> dict[str, dict[str, int]]:
    positions: dict[str, dict[str, int]] = {}
    for pid, waiting in result.waitlists.items():
        for position, aid in enumerate(waiting, 1):
            positions.setdefault(aid, {})[pid] = position
    return positions
