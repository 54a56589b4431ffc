"""Open-enrollment lottery: the matcher on the district's cycle and on a city's, and 1,000
simulations of the district's, beside the `matching` package and a naive matcher.

Goals: the district's cycle (1,750 applicants, 3 choices each, 30 programs) matched in
under 100 ms; a city's (100,000 applicants, 12 choices, 500 programs) in under 5 s and
under 500 MB; 1,000 simulation runs of the district's cycle in under 60 s.

The data is synthetic and made here from fixed random seeds: programs' popularity falls
off as 1/rank^0.8 (a few schools draw most first choices, as every district's do), seats
add up to about one per applicant, and about 30% of applicants hold a priority at one of
their choices (20% residence, class 0; 10% sibling, class 1), mostly their first. The city
runs in a child process (`python -m bench.enrollment city`) holding only the matcher and
its data, so its peak RSS is the match's and not Django's. No database is used.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

NAME = "enrollment"
TITLE = "Open-enrollment lottery: district and city match, 1,000 simulations, matching package"

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = {"applicants": 1_750, "choices": 3, "programs": 30, "seed": 35160}
CITY = {"applicants": 100_000, "choices": 12, "programs": 500, "seed": 2027}
LOWEST_CLASS = 3  # residence 0, sibling 1, staff 2; no priority 3
DISTRICT_RUNS = 30
BASELINE_RUNS = 5
CITY_RUNS = 3
SIMULATIONS = 1_000

GOAL_DISTRICT_MS = 100.0
GOAL_CITY_S = 5.0
GOAL_CITY_MB = 500.0
GOAL_SIMULATIONS_S = 60.0


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


# --- Data ------------------------------------------------------------------------------------


def records(size: dict, *, reserves: bool = False) -> list[dict]:
    """A cycle's export records (settings, programs, applicants), reproducible from size["seed"]."""
    rnd = random.Random(size["seed"])
    m, n, k = size["programs"], size["applicants"], size["choices"]
    pids = [f"P{j:03d}" for j in range(m)]
    weights = [1 / (j + 1) ** 0.8 for j in range(m)]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    seats = [max(1, round(n / m * rnd.uniform(0.6, 1.4))) for _ in range(m)]
    out: list[dict] = [
        {"cycle": "bench", "round": 1, "priority_order": ["residence", "sibling", "staff"],
         "lowest_class": LOWEST_CLASS, "reserve_tiers": [1] if reserves else [], "precedence": "open_first"},
    ]  # fmt: skip
    for j, pid in enumerate(pids):
        reserved = seats[j] // 5 if reserves and j % 5 == 0 else 0  # a fifth of every fifth program
        out.append({"program": pid, "seats": seats[j], "reserved": reserved})
    for i in range(n):
        chosen: list[str] = []
        while len(chosen) < k:  # weighted, without replacement
            pid = pids[min(m - 1, _bisect(cumulative, rnd.random() * total))]
            if pid not in chosen:
                chosen.append(pid)
        draw = rnd.random()
        priority = {}
        if draw < 0.2:
            priority[chosen[0] if rnd.random() < 0.7 else rnd.choice(chosen)] = 0
        elif draw < 0.3:
            priority[chosen[0] if rnd.random() < 0.7 else rnd.choice(chosen)] = 1
        lottery_id = f"L{i - 1:06d}" if i % 40 == 1 else f"L{i:06d}"  # one in 40 applies with a sibling
        out.append(
            {
                "applicant": f"A{i:06d}",
                "lottery_id": lottery_id,
                "choices": chosen,
                "priority": priority,
                "tier": rnd.randrange(3),
                "late": rnd.random() < 0.03,
            }
        )
    return out


def _bisect(cumulative: list[float], x: float) -> int:
    lo, hi = 0, len(cumulative)
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def instance(rows: list[dict], seed: str):
    """Applicants and programs as `lottery.derive` builds them, numbers from `seed`."""
    from enrollment import lottery, matching

    settings, programs, applicants = rows[0], [], []
    for row in rows[1:]:
        if "program" in row:
            programs.append(matching.Program(id=row["program"], seats=row["seats"], reserved=row["reserved"]))
        else:
            applicants.append(
                matching.Applicant(
                    id=row["applicant"],
                    number=lottery.number_of(seed, row["lottery_id"]),
                    choices=tuple(row["choices"]),
                    priority=row["priority"],
                    tier=row["tier"],
                    late=row["late"],
                )
            )
    return settings, applicants, programs


def run_match(settings, applicants, programs):
    from enrollment import matching

    return matching.match(
        applicants,
        programs,
        lowest_class=settings["lowest_class"],
        reserve_tiers=frozenset(settings["reserve_tiers"]),
        precedence=settings["precedence"],
    )


# --- Baselines -------------------------------------------------------------------------------


def _keys(applicants):
    return {a.id: (int(a.number, 16), a.id) for a in applicants}


def package_match(applicants, programs) -> dict[str, str | None]:
    """The `matching` package's resident-optimal HospitalResident (no reserves)."""
    from matching.games import HospitalResident

    ticket = _keys(applicants)
    residents = {a.id: list(a.choices) for a in applicants}
    hospitals = {p.id: [] for p in programs}
    for a in applicants:
        for pid in a.choices:
            hospitals[pid].append(a.id)
    by_id = {a.id: a for a in applicants}
    for pid, ids in hospitals.items():
        ids.sort(key=lambda aid: (by_id[aid].priority.get(pid, LOWEST_CLASS), by_id[aid].late, ticket[aid]))
    placed = dict.fromkeys(residents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = HospitalResident.create_from_dictionaries(residents, hospitals, {p.id: p.seats for p in programs})
        for hospital, matched in game.solve(optimal="resident").items():
            for resident in matched:
                placed[resident.name] = hospital.name
    return placed


def naive_match(applicants, programs) -> dict[str, str | None]:
    """Deferred acceptance as first written: each proposal re-sorts the program's list."""
    ticket = _keys(applicants)
    seats = {p.id: p.seats for p in programs}
    held: dict[str, list] = {p.id: [] for p in programs}
    nxt = {a.id: 0 for a in applicants}
    by_id = {a.id: a for a in applicants}
    free = [a.id for a in applicants]
    while free:
        aid = free.pop()
        a = by_id[aid]
        if nxt[aid] >= len(a.choices):
            continue
        pid = a.choices[nxt[aid]]
        nxt[aid] += 1
        queue = held[pid] + [(a.priority.get(pid, LOWEST_CLASS), a.late, ticket[aid])]
        queue.sort()
        held[pid] = queue[: seats[pid]]
        free.extend(entry[2][1] for entry in queue[seats[pid] :])
    placed = dict.fromkeys(by_id)
    for pid, entries in held.items():
        for entry in entries:
            placed[entry[2][1]] = pid
    return placed


# --- Measuring -------------------------------------------------------------------------------


def _timed(fn, runs: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return samples, result


def measure_district(r: dict) -> None:
    from enrollment import lottery, simulation

    rows = records(DISTRICT)
    seed = lottery.sha256_text("bench-district")
    settings, applicants, programs = instance(rows, seed)
    run_match(settings, applicants, programs)  # warm
    r["district_s"], result = _timed(lambda: run_match(settings, applicants, programs), DISTRICT_RUNS)
    r["district_placed"] = sum(p is not None for p in result.placed.values())
    r["district_first"] = sum(result.placed[a.id] == a.choices[0] for a in applicants)
    say(f"district: median {statistics.median(r['district_s']) * 1000:.1f} ms, {r['district_placed']:,} placed")

    r["package_s"], package = _timed(lambda: package_match(applicants, programs), BASELINE_RUNS)
    r["package_agrees"] = package == result.placed
    r["naive_s"], naive = _timed(lambda: naive_match(applicants, programs), BASELINE_RUNS)
    r["naive_agrees"] = naive == result.placed
    say(
        f"matching package: median {statistics.median(r['package_s']) * 1000:.0f} ms (agrees: {r['package_agrees']}); "
        f"naive: {statistics.median(r['naive_s']) * 1000:.0f} ms (agrees: {r['naive_agrees']})"
    )

    reserve_rows = records(DISTRICT, reserves=True)
    settings_r, applicants_r, programs_r = instance(reserve_rows, seed)
    r["reserves_s"], _ = _timed(lambda: run_match(settings_r, applicants_r, programs_r), DISTRICT_RUNS)
    r["reserve_programs"] = sum(p.reserved > 0 for p in programs_r)
    say(f"district with reserves: median {statistics.median(r['reserves_s']) * 1000:.1f} ms")

    export = lottery.canonical_export(rows)
    started = time.perf_counter()
    summary = simulation.simulate(export, SIMULATIONS, salt="bench")
    r["simulations_s"] = time.perf_counter() - started
    r["simulation_first"] = summary["distribution"]["first_choice"]
    r["simulation_any"] = summary["distribution"]["any_choice"]
    say(f"{SIMULATIONS:,} simulations in {r['simulations_s']:.1f} s")


def measure_city() -> dict:
    """In the child process: the city's match timed, then its peak memory."""
    from enrollment import lottery

    started = time.perf_counter()
    rows = records(CITY)
    settings, applicants, programs = instance(rows, lottery.sha256_text("bench-city"))
    del rows
    out = {"generate_s": time.perf_counter() - started, "rss_before_mb": _maxrss_mb()}
    out["match_s"], result = _timed(lambda: run_match(settings, applicants, programs), CITY_RUNS)
    out["rss_peak_mb"] = _maxrss_mb()
    out["placed"] = sum(p is not None for p in result.placed.values())
    out["first"] = sum(result.placed[a.id] == a.choices[0] for a in applicants)
    del result
    tracemalloc.start()
    run_match(settings, applicants, programs)
    out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run(options) -> str:
    r: dict = {}
    measure_district(r)
    say("city: a child process (about half a minute)")
    child = subprocess.run(
        [sys.executable, "-m", "bench.enrollment", "city"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    r["city"] = json.loads(child.stdout.strip().splitlines()[-1])
    city = r["city"]
    say(
        f"city: median {statistics.median(city['match_s']):.2f} s, peak RSS {city['rss_peak_mb']:.0f} MB "
        f"(tracemalloc peak of a match {city['traced_peak_mb']:.0f} MB)"
    )
    return _report(r)


def _report(r: dict) -> str:
    from bench.common import percentile

    ms = lambda samples: statistics.median(samples) * 1000  # noqa: E731
    district, city = ms(r["district_s"]), r["city"]
    city_s = statistics.median(city["match_s"])
    goals = [
        (f"district ({DISTRICT['applicants']:,} × {DISTRICT['choices']} × {DISTRICT['programs']}) under "
         f"{GOAL_DISTRICT_MS:g} ms (median of {DISTRICT_RUNS})", f"{district:.1f} ms", district < GOAL_DISTRICT_MS),
        (f"city ({CITY['applicants']:,} × {CITY['choices']} × {CITY['programs']}) under {GOAL_CITY_S:g} s "
         f"(median of {CITY_RUNS})", f"{city_s:.2f} s", city_s < GOAL_CITY_S),
        (f"city under {GOAL_CITY_MB:g} MB (peak RSS of the child: interpreter, data and match)",
         f"{city['rss_peak_mb']:.0f} MB", city["rss_peak_mb"] < GOAL_CITY_MB),
        (f"{SIMULATIONS:,} simulations of the district under {GOAL_SIMULATIONS_S:g} s (one call)",
         f"{r['simulations_s']:.1f} s", r["simulations_s"] < GOAL_SIMULATIONS_S),
    ]  # fmt: skip
    rows = "\n".join(f"| {goal} | {figure} | {'met' if ok else '**not met**'} |" for goal, figure, ok in goals)
    same = lambda agrees: "yes" if agrees else "**no**"  # noqa: E731
    n = DISTRICT["applicants"]
    share = lambda d: f"{d['min']:.1%} / {d['p5']:.1%} / {d['median']:.1%} / {d['p95']:.1%} / {d['max']:.1%}"  # noqa: E731
    return (
        "Data: synthetic, from fixed seeds; popularity 1/rank^0.8, about one seat per applicant, ~30% with a "
        "priority (20% residence, 10% sibling), 1 in 40 sharing a sibling's number, 3% late. "
        f"District: {r['district_placed']:,} of {n:,} placed, {r['district_first']:,} at their first choice. "
        f"City: {city['placed']:,} of {CITY['applicants']:,} placed, {city['first']:,} at their first choice.\n\n"
        "| Goal | Measured | |\n|---|---|---|\n" + rows + "\n\n"
        "| Matcher, district's cycle | Median (ms) | p95 (ms) | Runs | Same placements |\n"
        "|---|---:|---:|---:|---|\n"
        f"| `enrollment.matching.match` | {district:.1f} | {percentile(r['district_s'], 95) * 1000:.1f} "
        f"| {DISTRICT_RUNS} | |\n"
        f"| `enrollment.matching.match`, reserves at {r['reserve_programs']} programs | {ms(r['reserves_s']):.1f} "
        f"| {percentile(r['reserves_s'], 95) * 1000:.1f} | {DISTRICT_RUNS} | (reserves change the result) |\n"
        f"| `matching` package, HospitalResident(optimal=\"resident\") | {ms(r['package_s']):.0f} "
        f"| {percentile(r['package_s'], 95) * 1000:.0f} | {BASELINE_RUNS} | {same(r['package_agrees'])} |\n"
        f"| naive (re-sort the program's list at each proposal) | {ms(r['naive_s']):.0f} "
        f"| {percentile(r['naive_s'], 95) * 1000:.0f} | {BASELINE_RUNS} | {same(r['naive_agrees'])} |\n\n"
        f"The matcher is {ms(r['package_s']) / district:.0f}x faster than the `matching` package and "
        f"{ms(r['naive_s']) / district:.0f}x faster than the naive matcher on the district's cycle.\n\n"
        f"City, in a child process: match {', '.join(f'{s:.2f}' for s in city['match_s'])} s; peak RSS "
        f"{city['rss_peak_mb']:.0f} MB ({city['rss_before_mb']:.0f} MB with the data generated, before the first "
        f"match); tracemalloc peak of one match {city['traced_peak_mb']:.0f} MB; data generated in "
        f"{city['generate_s']:.1f} s.\n\n"
        f"{SIMULATIONS:,} simulations (`enrollment.simulation.simulate`, numbers and match per run): "
        f"{r['simulations_s']:.1f} s, {r['simulations_s'] / SIMULATIONS * 1000:.1f} ms a run. Share placed at the "
        f"first choice (min / p5 / median / p95 / max): {share(r['simulation_first'])}; at any choice: "
        f"{share(r['simulation_any'])}.\n"
    )  # fmt: skip


if __name__ == "__main__" and sys.argv[1:] == ["city"]:
    print(json.dumps(measure_city()))
