"""Student-proposing deferred acceptance with one lottery number per student.

Pure Python, no Django: the official run, the simulations, `manage.py verify_lottery`
and the benchmarks all call `match()` on the same plain data, so an outsider can read
this one file and repeat the result.

Each program orders the students who ranked it by their key there: (priority class,
late, lottery rank). The priority class comes from the cycle's priority order (0 is
the best; residents of the attendance area come first, EC 35160.5(b)); a late
application, where the district accepts them, comes after every on-time one of the
same priority; the lottery number breaks every remaining tie, the same number at
every school (NYC, Denver, Boston). Nothing else can enter the key: no grade, no
test score, no date of application.

Students propose down their lists; each program holds the best students its seats
allow and rejects the rest, who propose to their next choice. The result is the
student-optimal stable matching: no student prefers a school that holds someone with
a worse key there (no justified envy), no seat stays empty while someone who ranked
it is unplaced, and ranking schools truthfully is each family's best strategy.

Reserves (socio-economic integration by neighbourhood tier, never by race): a program
may hold `reserved` of its seats for students of the reserved tiers. Its seats are
filled in the recorded `precedence`: "open_first" fills the open seats by key among
everyone, then the reserved seats; "reserved_first" the other way round. A reserve
never overrides a priority: a reserved seat goes to the best priority class present,
and within it to a reserved-tier student first, by key (so a resident of the area is
never displaced by a reserve, EC 35160.5(b)); a reserved seat no reserved-tier student
of that class wants goes to the next student by key (a soft reserve: no seat is
wasted). Each seat has its own strict order of students (slot-specific priorities), so
the choice is substitutable and deferred acceptance stays stable and strategy-proof
(Echenique and Yenmez, 2015).
"""

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

OPEN_FIRST = "open_first"
RESERVED_FIRST = "reserved_first"
PRECEDENCES = (OPEN_FIRST, RESERVED_FIRST)


@dataclass(frozen=True)
class Applicant:
    id: str
    number: str  # the lottery number, 64 hex digits: lower comes first
    choices: tuple[str, ...]  # program ids, first choice first
    priority: dict[str, int] = field(default_factory=dict)  # program id -> class; absent: the last class
    tier: int | None = None  # the neighbourhood tier, for reserves
    late: bool = False


@dataclass(frozen=True)
class Program:
    id: str
    seats: int
    reserved: int = 0  # of `seats`, held for the reserved tiers


@dataclass
class Result:
    placed: dict[str, str | None]  # applicant id -> program id, or None
    # program id -> applicant ids who ranked it above where they were placed (or were
    # not placed), in the program's order: its waitlist.
    waitlists: dict[str, list[str]]
    # applicant id -> program id -> the priority class applied there
    classes: dict[str, dict[str, int]]


def match(
    applicants: Sequence[Applicant],
    programs: Iterable[Program],
    *,
    lowest_class: int,
    reserve_tiers: frozenset[int] = frozenset(),
    precedence: str = OPEN_FIRST,
) -> Result:
    """The student-optimal stable placement. `lowest_class` is the class of a student
    with no priority at a program (the number of priority kinds in the cycle)."""
    if precedence not in PRECEDENCES:
        raise ValueError(f"unknown precedence {precedence!r}")
    programs = {p.id: p for p in programs}
    n = len(applicants)
    # Lottery rank: the position of each number in the sorted list. Equal numbers
    # (siblings applying together share one) share a rank; the id keeps the order total.
    order = sorted(range(n), key=lambda i: (applicants[i].number, applicants[i].id))
    rank = [0] * n
    for position, i in enumerate(order):
        rank[i] = position
    # key at a program = (class, late, rank) packed into one int: class * 2n + late * n + rank.
    keys: list[list[int]] = []
    choices: list[list[str]] = []
    for i, a in enumerate(applicants):
        listed = [p for p in a.choices if p in programs]
        choices.append(listed)
        keys.append([(a.priority.get(p, lowest_class) * 2 + a.late) * n + rank[i] for p in listed])

    held: dict[str, list] = {pid: [] for pid in programs}  # max-heaps of (-key, i) or lists for reserve programs
    reserving = {pid for pid, p in programs.items() if p.reserved and reserve_tiers}
    next_choice = [0] * n
    free = list(range(n - 1, -1, -1))
    while free:
        i = free.pop()
        while next_choice[i] < len(choices[i]):
            pid = choices[i][next_choice[i]]
            key = keys[i][next_choice[i]]
            seats = programs[pid].seats
            if pid in reserving:
                rejected = _propose_with_reserve(
                    held[pid], (key, i), programs[pid], _TierView(applicants, reserve_tiers), precedence, 2 * n
                )
            else:
                heap = held[pid]
                if len(heap) < seats:
                    heapq.heappush(heap, (-key, i))
                    rejected = None
                elif seats and key < -heap[0][0]:
                    rejected = heapq.heapreplace(heap, (-key, i))[1]
                else:
                    rejected = i
            if rejected is None:
                break
            next_choice[rejected] += 1
            if rejected != i:
                free.append(rejected)
                break

    placed: dict[str, str | None] = {a.id: None for a in applicants}
    for pid, entries in held.items():
        for entry in entries:
            placed[applicants[entry[1]].id] = pid
    waitlists: dict[str, list[tuple[int, str]]] = {pid: [] for pid in programs}
    classes: dict[str, dict[str, int]] = {}
    for i, a in enumerate(applicants):
        classes[a.id] = {p: a.priority.get(p, lowest_class) for p in choices[i]}
        for position, pid in enumerate(choices[i]):
            if pid == placed[a.id]:
                break
            waitlists[pid].append((keys[i][position], a.id))
    return Result(
        placed=placed,
        waitlists={pid: [aid for _key, aid in sorted(entries)] for pid, entries in waitlists.items()},
        classes=classes,
    )


def choose(
    candidates: list[tuple[int, int]],
    program: Program,
    is_reserved_tier: Sequence[bool],
    precedence: str,
    class_of: Callable[[int], int] = lambda key: 0,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """A reserve program's choice among (key, index) candidates: (chosen, rejected).
    Open seats take the best keys of all; a reserved seat takes, within the best
    priority class left (`class_of(key)`), a reserved-tier student first, by key."""
    pool = sorted(candidates)
    open_seats = program.seats - program.reserved
    chosen: list[tuple[int, int]] = []

    def take_open(count: int) -> None:
        taken = pool[:count]
        del pool[:count]
        chosen.extend(taken)

    def take_reserved(count: int) -> None:
        # The reserved seats' own order: (class, not in a reserved tier, key).
        ordered = sorted(pool, key=lambda c: (class_of(c[0]), not is_reserved_tier[c[1]], c[0]))
        taken = ordered[:count]
        for c in taken:
            pool.remove(c)
        chosen.extend(taken)

    if precedence == OPEN_FIRST:
        take_open(open_seats)
        take_reserved(program.reserved)
    else:
        take_reserved(program.reserved)
        take_open(open_seats)
    return chosen, pool


def _propose_with_reserve(held, proposal, program, tiers, precedence, block):
    """Add a proposal to a reserve program; return the index of the one rejected (or
    None). A key is class * block + (late, rank): its class is key // block."""
    chosen, rejected = choose(held + [proposal], program, tiers, precedence, lambda key: key // block)
    held[:] = chosen
    return rejected[0][1] if rejected else None


class _TierView:
    """is_reserved_tier[i] for applicant i, without building a list per proposal."""

    def __init__(self, applicants, reserve_tiers):
        self.applicants, self.reserve_tiers = applicants, reserve_tiers

    def __getitem__(self, i: int) -> bool:
        return self.applicants[i].tier in self.reserve_tiers
