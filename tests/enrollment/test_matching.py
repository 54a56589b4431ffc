"""The matcher's guarantees, proved on random small instances and on examples worked by hand.

Every property is checked against definitions written again here, from the module's
docstring and EC 35160.5(b), never against the matcher's own internals: a student's key
at a program is (priority class, late, lottery number), with equal numbers (siblings)
ordered by applicant id; a reserve program fills its seats one at a time in the recorded
precedence, an open seat taking the best key of all, a reserved seat the best key of the
reserved tiers and, if none is left, the best key of anyone (a soft reserve).
"""

import itertools
import random
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enrollment.matching import OPEN_FIRST, RESERVED_FIRST, Applicant, Program, choose, match

LOWEST = 3  # three priority kinds: classes 0 (residents), 1, 2; no priority is class 3
TIERS = frozenset({1})
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def number(n: int) -> str:
    return f"{n:064x}"


# --- The definitions, written again --------------------------------------------------


def key(a: Applicant, pid: str) -> tuple:
    return (a.priority.get(pid, LOWEST), a.late, int(a.number, 16), a.id)


def slot_choice(candidates, program: Program, tiers: frozenset, precedence: str) -> set[str]:
    """Who a program takes among `candidates`, one seat at a time (Kominers and Sönmez's
    slot-specific priorities): an independent reading of the docstring."""
    pool = sorted(candidates, key=lambda a: key(a, program.id))
    open_seats = program.seats - (program.reserved if tiers else 0)
    reserved = program.seats - open_seats
    slots = ["open"] * open_seats + ["reserved"] * reserved
    if precedence == RESERVED_FIRST:
        slots.reverse()
    chosen = set()
    for slot in slots:
        if not pool:
            break
        pick = pool[0]
        if slot == "reserved":
            # Within the best priority class left, a reserved-tier student first.
            pick = min(pool, key=lambda a: (key(a, program.id)[0], a.tier not in tiers, key(a, program.id)))
        pool.remove(pick)
        chosen.add(pick.id)
    return chosen


def rank_of(choices, pid) -> int:
    """Position of a placement in a list of choices; unplaced (or unlisted) is last."""
    return choices.index(pid) if pid in choices else len(choices)


def holders(placed: dict, pid: str) -> list[str]:
    return [aid for aid, p in placed.items() if p == pid]


def is_stable(applicants, programs, placed, tiers=frozenset(), precedence=OPEN_FIRST) -> bool:
    """Feasible, individually rational, and nobody is taken by a program they prefer to
    their placement when offered alongside that program's students."""
    by_id = {a.id: a for a in applicants}
    for p in programs:
        held = [by_id[aid] for aid in holders(placed, p.id)]
        if len(held) > p.seats or slot_choice(held, p, tiers, precedence) != {a.id for a in held}:
            return False
    for a in applicants:
        if placed[a.id] is not None and placed[a.id] not in a.choices:
            return False
        for pid in a.choices[: rank_of(a.choices, placed[a.id])]:
            p = next(p for p in programs if p.id == pid)
            held = [by_id[aid] for aid in holders(placed, pid)]
            if a.id in slot_choice(held + [a], p, tiers, precedence):
                return False
    return True


# --- Random instances ------------------------------------------------------------------


@st.composite
def instances(draw, max_students=7, max_programs=4, min_seats=0, reserves=False, sibling_pool=True):
    m = draw(st.integers(1, max_programs))
    pids = [f"P{j}" for j in range(m)]
    programs = []
    for pid in pids:
        seats = draw(st.integers(min_seats, 3))
        reserved = draw(st.integers(0, seats)) if reserves else 0
        programs.append(Program(id=pid, seats=seats, reserved=reserved))
    n = draw(st.integers(1, max_students))
    # A small pool of numbers makes shared numbers (siblings) common.
    pool = 2 * n if sibling_pool else 10**6
    applicants = []
    for i in range(n):
        choices = draw(st.permutations(pids).flatmap(lambda p: st.integers(0, len(p)).map(lambda k, p=p: p[:k])))
        priority = {pid: draw(st.integers(0, LOWEST - 1)) for pid in choices if draw(st.booleans())}
        applicants.append(
            Applicant(
                id=f"a{i}",
                number=number(draw(st.integers(0, pool))),
                choices=tuple(choices),
                priority=priority,
                tier=draw(st.sampled_from([None, 0, 1])),
                late=draw(st.integers(0, 4)) == 0,
            )
        )
    precedence = draw(st.sampled_from([OPEN_FIRST, RESERVED_FIRST]))
    return applicants, programs, precedence


def run(applicants, programs, precedence=OPEN_FIRST, tiers=TIERS):
    return match(applicants, programs, lowest_class=LOWEST, reserve_tiers=tiers, precedence=precedence)


# --- Properties without reserves: keys alone decide --------------------------------------


@FAST
@given(instances())
def test_no_program_takes_more_students_than_it_has_seats(instance):
    applicants, programs, _ = instance
    placed = run(applicants, programs).placed
    for p in programs:
        assert len(holders(placed, p.id)) <= p.seats


@FAST
@given(instances(reserves=True))
def test_no_program_takes_more_students_than_it_has_seats_with_reserves(instance):
    applicants, programs, precedence = instance
    placed = run(applicants, programs, precedence).placed
    for p in programs:
        assert len(holders(placed, p.id)) <= p.seats


@FAST
@given(instances(reserves=True))
def test_a_student_is_placed_only_at_a_program_on_their_list(instance):
    applicants, programs, precedence = instance
    placed = run(applicants, programs, precedence).placed
    assert set(placed) == {a.id for a in applicants}
    for a in applicants:
        assert placed[a.id] is None or placed[a.id] in a.choices


@FAST
@given(instances())
def test_no_student_envies_a_school_that_holds_a_worse_key(instance):
    applicants, programs, _ = instance
    placed = run(applicants, programs).placed
    by_id = {a.id: a for a in applicants}
    seats = {p.id: p.seats for p in programs}
    for a in applicants:
        for pid in a.choices[: rank_of(a.choices, placed[a.id])]:
            held = holders(placed, pid)
            assert len(held) == seats[pid]
            assert all(key(by_id[h], pid) < key(a, pid) for h in held)


@FAST
@given(instances(reserves=True))
def test_no_seat_stays_empty_while_a_student_who_ranked_it_higher_goes_without(instance):
    applicants, programs, precedence = instance
    placed = run(applicants, programs, precedence).placed
    for p in programs:
        if len(holders(placed, p.id)) < p.seats:
            for a in applicants:
                assert rank_of(a.choices, p.id) >= rank_of(a.choices, placed[a.id])


@FAST
@given(instances(reserves=True), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_applicants_or_programs(instance, rnd):
    applicants, programs, precedence = instance
    first = run(applicants, programs, precedence)
    shuffled_applicants, shuffled_programs = applicants[:], programs[:]
    rnd.shuffle(shuffled_applicants)
    rnd.shuffle(shuffled_programs)
    second = run(shuffled_applicants, shuffled_programs, precedence)
    assert first.placed == second.placed
    assert first.waitlists == second.waitlists
    assert first.classes == second.classes


def all_matchings(applicants, programs):
    """Every feasible assignment (each student unplaced or at a program on their list)."""
    seats = {p.id: p.seats for p in programs}
    for combo in itertools.product(*[(None, *a.choices) for a in applicants]):
        counts = {}
        for pid in combo:
            if pid is not None:
                counts[pid] = counts.get(pid, 0) + 1
        if all(c <= seats[pid] for pid, c in counts.items()):
            yield dict(zip([a.id for a in applicants], combo, strict=True))


@SLOW
@given(instances(max_students=5, max_programs=3, reserves=True))
def test_every_student_weakly_prefers_our_placement_to_any_stable_matching(instance):
    applicants, programs, precedence = instance
    ours = run(applicants, programs, precedence).placed
    assert is_stable(applicants, programs, ours, TIERS, precedence)
    stable = [m for m in all_matchings(applicants, programs) if is_stable(applicants, programs, m, TIERS, precedence)]
    assert ours in stable
    for other in stable:
        for a in applicants:
            assert rank_of(a.choices, ours[a.id]) <= rank_of(a.choices, other[a.id])


@SLOW
@given(instances(max_students=5, max_programs=3, reserves=True), st.data())
def test_no_student_gets_a_better_school_by_reordering_or_shortening_their_list(instance, data):
    applicants, programs, precedence = instance
    truth = run(applicants, programs, precedence).placed
    i = data.draw(st.integers(0, len(applicants) - 1))
    honest = applicants[i]
    pids = [p.id for p in programs]
    lies = [lie for k in range(len(pids) + 1) for lie in itertools.permutations(pids, k)]
    for lie in lies:
        others = applicants[:i] + [Applicant(**{**honest.__dict__, "choices": lie})] + applicants[i + 1 :]
        got = run(others, programs, precedence).placed[honest.id]
        assert rank_of(honest.choices, got) >= rank_of(honest.choices, truth[honest.id])


def oracle(applicants, programs) -> dict[str, str | None]:
    """The `matching` package's resident-optimal hospital/resident solution."""
    from matching.games import HospitalResident

    listing = [a for a in applicants if a.choices]
    residents = {a.id: list(a.choices) for a in listing}
    hospitals = {
        p.id: [a.id for a in sorted((a for a in listing if p.id in a.choices), key=lambda a: key(a, p.id))]
        for p in programs
    }
    ranked = {pid for pid, prefs in hospitals.items() if prefs}
    hospitals = {pid: prefs for pid, prefs in hospitals.items() if pid in ranked}
    placed = {a.id: None for a in applicants}
    if not listing:
        return placed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = HospitalResident.create_from_dictionaries(
            residents, hospitals, {p.id: p.seats for p in programs if p.id in ranked}
        )
        solution = game.solve(optimal="resident")
    for hospital, matched in solution.items():
        for resident in matched:
            placed[resident.name] = hospital.name
    return placed


@FAST
@given(instances(max_students=9, max_programs=4, min_seats=1))
def test_the_placement_is_the_matching_packages_resident_optimal_solution(instance):
    applicants, programs, _ = instance
    assert run(applicants, programs).placed == oracle(applicants, programs)


def test_the_oracle_agrees_on_a_larger_random_district():
    rnd = random.Random(35160)
    programs = [Program(id=f"P{j}", seats=rnd.randint(1, 12)) for j in range(15)]
    applicants = [
        Applicant(
            id=f"a{i:03d}",
            number=number(rnd.getrandbits(256)),
            choices=tuple(rnd.sample([p.id for p in programs], rnd.randint(1, 4))),
            priority={f"P{rnd.randrange(15)}": rnd.randrange(LOWEST)} if rnd.random() < 0.3 else {},
            late=rnd.random() < 0.1,
        )
        for i in range(200)
    ]
    placed = run(applicants, programs).placed
    assert placed == oracle(applicants, programs)
    assert sum(p is not None for p in placed.values()) > 50  # the instance is not trivial


@FAST
@given(instances())
def test_no_resident_is_displaced_by_a_non_resident(instance):
    applicants, programs, _ = instance
    placed = run(applicants, programs).placed
    by_id = {a.id: a for a in applicants}
    for a in applicants:
        for pid in a.choices[: rank_of(a.choices, placed[a.id])]:
            if a.priority.get(pid, LOWEST) == 0:
                assert all(by_id[h].priority.get(pid, LOWEST) == 0 for h in holders(placed, pid))


@FAST
@given(instances(reserves=True))
def test_each_waitlist_is_in_class_then_late_then_number_order(instance):
    applicants, programs, precedence = instance
    result = run(applicants, programs, precedence)
    for p in programs:
        expected = sorted(
            (a for a in applicants if rank_of(a.choices, p.id) < rank_of(a.choices, result.placed[a.id])),
            key=lambda a: key(a, p.id),
        )
        assert result.waitlists[p.id] == [a.id for a in expected]
        assert all(a.priority.get(p.id, LOWEST) == result.classes[a.id][p.id] for a in expected)


# --- Examples -------------------------------------------------------------------------------


def student(aid, n, choices, priority=None, tier=None, late=False):
    return Applicant(aid, number(n), tuple(choices), priority or {}, tier, late)


def test_siblings_sharing_a_number_stand_together_between_the_numbers_around_theirs():
    applicants = [
        student("ana", 10, ["A"]),
        student("sofia", 20, ["A"]),  # Sofia and Ben are siblings: one lottery number
        student("ben", 20, ["A"]),
        student("carl", 30, ["A"]),
        student("dora", 5, ["A"], late=True),
    ]
    result = run(applicants, [Program("A", seats=1)])
    assert result.placed["ana"] == "A"
    assert result.waitlists["A"] == ["ben", "sofia", "carl", "dora"]
    # With two seats the siblings' tie decides which of them gets the second.
    assert run(applicants, [Program("A", seats=2)]).placed["ben"] == "A"
    assert run(applicants, [Program("A", seats=3)]).placed["sofia"] == "A"


def test_a_late_applicant_comes_after_every_on_time_one_of_the_same_class_but_before_worse_classes():
    applicants = [
        student("late_resident", 1, ["A"], {"A": 0}, late=True),
        student("resident", 99, ["A"], {"A": 0}),
        student("late_sibling", 2, ["A"], {"A": 1}, late=True),
        student("sibling", 98, ["A"], {"A": 1}),
        student("other", 3, ["A"]),
    ]
    result = run(applicants, [Program("A", seats=0)])
    assert result.waitlists["A"] == ["resident", "late_resident", "sibling", "late_sibling", "other"]
    assert run(applicants, [Program("A", seats=2)]).placed == {
        "late_resident": "A",
        "resident": "A",
        "late_sibling": None,
        "sibling": None,
        "other": None,
    }


def reserve_students():
    # All without priority, keys in the order alma < bo < cruz < dana; alma and dana in tier 1.
    return [
        student("alma", 1, ["A"], tier=1),
        student("bo", 2, ["A"], tier=0),
        student("cruz", 3, ["A"], tier=0),
        student("dana", 4, ["A"], tier=1),
    ]


def test_open_seats_first_leaves_the_reserved_seat_to_the_next_reserved_tier_student():
    # Worked by hand: the open seat takes the best key of all (alma); the reserved seat
    # then the best remaining tier-1 key (dana), ahead of bo and cruz.
    result = run(reserve_students(), [Program("A", seats=2, reserved=1)], OPEN_FIRST)
    assert {aid for aid, p in result.placed.items() if p} == {"alma", "dana"}
    assert result.waitlists["A"] == ["bo", "cruz"]


def test_reserved_seats_first_spends_the_reserve_on_the_best_reserved_tier_student():
    # Worked by hand: the reserved seat takes alma (best tier-1 key); the open seat the
    # best remaining key of all (bo).
    result = run(reserve_students(), [Program("A", seats=2, reserved=1)], RESERVED_FIRST)
    assert {aid for aid, p in result.placed.items() if p} == {"alma", "bo"}
    assert result.waitlists["A"] == ["cruz", "dana"]


def test_a_reserved_seat_nobody_in_the_tiers_wants_goes_to_the_next_student_by_key():
    applicants = [
        student("alma", 1, ["B", "A"], tier=1),  # the only tier-1 student prefers B
        student("bo", 2, ["A"], tier=0),
        student("cruz", 3, ["A"], tier=0),
        student("eli", 4, ["A"], tier=0),
    ]
    programs = [Program("A", seats=3, reserved=2), Program("B", seats=1)]
    for precedence in (OPEN_FIRST, RESERVED_FIRST):
        result = run(applicants, programs, precedence)
        assert result.placed == {"alma": "B", "bo": "A", "cruz": "A", "eli": "A"}


def test_reserves_do_nothing_when_the_cycle_names_no_reserved_tier():
    result = run(reserve_students(), [Program("A", seats=2, reserved=1)], OPEN_FIRST, tiers=frozenset())
    assert {aid for aid, p in result.placed.items() if p} == {"alma", "bo"}


def test_an_unknown_precedence_is_refused():
    with pytest.raises(ValueError):
        run(reserve_students(), [Program("A", seats=2, reserved=1)], "lottery_first")


@FAST
@given(instances(reserves=True))
def test_a_reserve_program_chooses_as_its_seats_filled_one_by_one_would(instance):
    applicants, programs, precedence = instance
    p = programs[0]
    candidates = [(key(a, p.id), i) for i, a in enumerate(applicants)]
    # `choose` takes integer keys; the rank of the tuple key is one.
    ordered = sorted(candidates)
    ints = [(position, i) for position, (_k, i) in enumerate(ordered)]
    chosen, rejected = choose(
        ints, p, [a.tier in TIERS for a in applicants], precedence, lambda position: ordered[position][0][0]
    )
    assert {applicants[i].id for _k, i in chosen} == slot_choice(applicants, p, TIERS, precedence)
    assert len(chosen) + len(rejected) == len(applicants)


def tier_count(applicants, placed, pid):
    by_id = {a.id: a for a in applicants}
    return sum(by_id[aid].tier in TIERS for aid in holders(placed, pid))


@SLOW
@given(instances(reserves=True), st.data())
def test_a_larger_reserve_never_lowers_the_reserved_tiers_admissions_at_that_program(instance, data):
    applicants, programs, precedence = instance
    j = data.draw(st.integers(0, len(programs) - 1))
    p = programs[j]
    assume(p.reserved < p.seats)
    larger = programs[:j] + [Program(p.id, p.seats, p.reserved + 1)] + programs[j + 1 :]
    before = tier_count(applicants, run(applicants, programs, precedence).placed, p.id)
    after = tier_count(applicants, run(applicants, larger, precedence).placed, p.id)
    assert after >= before


@FAST
@given(instances(reserves=True), st.data())
def test_a_larger_reserve_never_lowers_the_reserved_tiers_share_of_a_programs_choice(instance, data):
    applicants, programs, precedence = instance
    p = programs[data.draw(st.integers(0, len(programs) - 1))]
    assume(p.reserved < p.seats)
    by_id = {a.id: a for a in applicants}
    before = slot_choice(applicants, p, TIERS, precedence)
    after = slot_choice(applicants, Program(p.id, p.seats, p.reserved + 1), TIERS, precedence)
    assert sum(by_id[aid].tier in TIERS for aid in after) >= sum(by_id[aid].tier in TIERS for aid in before)


# Found by hypothesis (a one-seat program whose seat is reserved): a reserved seat went to
# a tier-1 student without priority over a resident of the area, which EC 35160.5(b)
# forbids. A reserve now orders students only within their priority class.
@pytest.mark.parametrize("precedence", [OPEN_FIRST, RESERVED_FIRST])
def test_a_reserved_seat_never_displaces_a_resident(precedence):
    applicants = [
        student("rosa", 1, ["A"], {"A": 0}, tier=0),  # lives in A's area
        student("rene", 2, ["A"], {"A": 0}, tier=0),  # lives in A's area
        student("tomas", 3, ["A"], tier=1),  # from outside the area, reserved tier
    ]
    placed = run(applicants, [Program("A", seats=2, reserved=1)], precedence).placed
    assert placed == {"rosa": "A", "rene": "A", "tomas": None}
