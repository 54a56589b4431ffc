"""What every lottery result must satisfy, checked from the two files alone: the frozen
export and the result (canonical JSON Lines, enrollment.lottery).

- every applicant of the export has one line, and no one else;
- the priority classes are the export's;
- siblings drawn together share one lottery number;
- a student is placed only at a program it ranked, and no program holds more than
  its seats;
- no justified envy: no student prefers a program that holds someone it would have
  chosen over them (with reserves, the program's own choice rule, matching.choose);
- no wasted seat: no program has an empty seat while a student who ranked it above
  their placement waits;
- each waitlist holds exactly the students who ranked the program above their
  placement, numbered 1, 2, 3… in key order (priority class, late, lottery number).

A student's key at a program is (class, late, number, id): the order `matching.match`
uses. Pure Python, no Django: `manage.py verify_lottery` and the tests share it.
"""

import json
from dataclasses import dataclass

from . import lottery, matching


@dataclass(frozen=True)
class Line:
    """One applicant's line of a result."""

    applicant: str
    number: str
    placed: str | None
    classes: dict[str, int]
    waitlists: dict[str, int]  # program -> position, 1 = next in line


def read_result(data: bytes) -> dict[str, Line]:
    """The lines of a result by applicant; ValueError when it cannot be read."""
    lines: dict[str, Line] = {}
    for number, text in enumerate(data.decode("ascii").splitlines(), 1):
        try:
            record = json.loads(text)
            line = Line(
                applicant=record["applicant"],
                number=record["number"],
                placed=record["placed"],
                classes=dict(record["classes"]),
                waitlists=dict(record["waitlists"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"result line {number} cannot be read: {error}") from None
        if line.applicant in lines:
            raise ValueError(f"result line {number}: {line.applicant} has a second line")
        lines[line.applicant] = line
    return lines


def check_files(export: bytes, result: bytes) -> list[str]:
    """Every invariant the result breaks, in words; empty when it keeps them all.
    ValueError when either file cannot be read."""
    settings, programs, applicants = lottery.read_export(export)
    return check(settings, programs, applicants, read_result(result))


def check(settings: dict, programs: list[dict], applicants: list[dict], lines: dict[str, Line]) -> list[str]:
    """Every invariant the result lines break, for the export's parsed settings line,
    program lines and applicant lines (lottery.read_export)."""
    problems: list[str] = []
    seats = {p["program"]: p["seats"] for p in programs}
    reserved = {p["program"]: p.get("reserved", 0) for p in programs}
    lowest = settings["lowest_class"]
    reserve_tiers = frozenset(settings.get("reserve_tiers", []))
    precedence = settings.get("precedence", matching.OPEN_FIRST)
    rows = {a["applicant"]: a for a in applicants}

    for aid in sorted(rows.keys() - lines.keys()):
        problems.append(f"{aid} is in the export but has no line in the result")
    for aid in sorted(lines.keys() - rows.keys()):
        problems.append(f"{aid} has a line in the result but is not in the export")
    ids = sorted(rows.keys() & lines.keys())

    # The programs a student ranked that exist, first choice first: what match() reads.
    ranked = {aid: [p for p in rows[aid]["choices"] if p in seats] for aid in ids}

    def key(aid: str, pid: str) -> tuple:
        row = rows[aid]
        return (row["priority"].get(pid, lowest), bool(row.get("late", False)), lines[aid].number, aid)

    by_lottery_id: dict[str, set[str]] = {}
    for aid in ids:
        by_lottery_id.setdefault(rows[aid]["lottery_id"], set()).add(lines[aid].number)
        expected = {pid: rows[aid]["priority"].get(pid, lowest) for pid in ranked[aid]}
        if lines[aid].classes != expected:
            problems.append(f"{aid}: priority classes {lines[aid].classes} are not the export's {expected}")
    for lottery_id, numbers in sorted(by_lottery_id.items()):
        if len(numbers) > 1:
            problems.append(f"applicants drawn together as {lottery_id} have different lottery numbers")

    held: dict[str, list[str]] = {pid: [] for pid in seats}
    for aid in ids:
        placed = lines[aid].placed
        if placed is None:
            continue
        if placed not in ranked[aid]:
            problems.append(f"{aid} is placed at {placed}, which it did not rank")
        else:
            held[placed].append(aid)
    for pid, holders in sorted(held.items()):
        if len(holders) > seats[pid]:
            problems.append(f"{pid} holds {len(holders)} students for {seats[pid]} seat(s)")

    def above_placement(aid: str) -> list[str]:
        choices = ranked[aid]
        placed = lines[aid].placed
        return choices[: choices.index(placed)] if placed in choices else choices

    worst = {pid: max((key(b, pid) for b in h), default=None) for pid, h in held.items()}
    for aid in ids:
        where = lines[aid].placed or "not placed"
        for pid in above_placement(aid):
            free = seats[pid] - len(held[pid])
            if free > 0:
                problems.append(f"wasted seat: {pid} has {free} empty seat(s) while {aid} ({where}) ranked it higher")
            elif reserved[pid] and reserve_tiers:
                chosen = _reserve_choice(pid, held[pid] + [aid], key, seats, reserved, rows, reserve_tiers, precedence)
                if aid in chosen:
                    bumped = sorted(set(held[pid]) - chosen)
                    problems.append(f"justified envy: {pid} would choose {aid} ({where}) over {', '.join(bumped)}")
            elif worst[pid] is not None and key(aid, pid) < worst[pid]:
                behind = sorted(b for b in held[pid] if key(b, pid) > key(aid, pid))
                problems.append(
                    f"justified envy: {aid} ({where}) comes before {', '.join(behind)} at {pid}, who hold its seats"
                )

    expected_lists: dict[str, list[str]] = {pid: [] for pid in seats}
    for aid in ids:
        for pid in above_placement(aid):
            expected_lists[pid].append(aid)
        for pid in sorted(lines[aid].waitlists.keys() - set(above_placement(aid))):
            problems.append(f"{aid} is on the waitlist of {pid}, which it did not rank above its placement")
    for pid, waiting in sorted(expected_lists.items()):
        in_order = sorted(waiting, key=lambda aid: key(aid, pid))
        actual = sorted((lines[aid].waitlists[pid], aid) for aid in waiting if pid in lines[aid].waitlists)
        for aid in waiting:
            if pid not in lines[aid].waitlists:
                problems.append(f"{aid} ranked {pid} above its placement but is not on its waitlist")
        if [position for position, _aid in actual] != list(range(1, len(actual) + 1)):
            problems.append(f"the waitlist of {pid} is not numbered 1 to {len(actual)}")
        elif len(actual) == len(in_order) and [aid for _position, aid in actual] != in_order:
            first = next(i for i, (_p, aid) in enumerate(actual) if aid != in_order[i])
            problems.append(
                f"the waitlist of {pid} is not in key order: number {first + 1} is {actual[first][1]}, "
                f"not {in_order[first]}"
            )
    return problems


def _reserve_choice(pid, candidates, key, seats, reserved, rows, reserve_tiers, precedence) -> set[str]:
    """Whom a program with reserved seats would hold among these candidates."""
    program = matching.Program(id=pid, seats=seats[pid], reserved=reserved[pid])
    is_reserved_tier = [rows[aid].get("tier") in reserve_tiers for aid in candidates]
    chosen, _rejected = matching.choose(
        [(key(aid, pid), i) for i, aid in enumerate(candidates)],
        program,
        is_reserved_tier,
        precedence,
        lambda k: k[0],  # a key here is (class, late, number, id)
    )
    return {candidates[i] for _key, i in chosen}
