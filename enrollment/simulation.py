"""What the lottery is likely to give, before it is drawn: the matcher run many times on
the frozen export with seeds that are not the official one.

Pure Python, no Django, like the matcher and the lottery: staff and families see how
often each program fills and how far down its lottery it usually goes, and an outsider
can repeat the figures from the export and the salt alone.

A simulation's seed is SHA-256("simulation:" ‖ salt ‖ ":" ‖ k ‖ ":" ‖ export hash). It can
never be the official seed, SHA-256(secret ‖ digits ‖ export hash): the official text is
hexadecimal and decimal digits only, never "simulation:", so the two texts always differ
and equal seeds would take a SHA-256 collision. Nor could anyone aim a simulation at the
official draw: the secret is revealed, and the digits drawn, only at the public drawing.
So no simulation shows a family its real result ahead of time.
"""

import statistics
from collections.abc import Sequence

from . import lottery, matching


def seed_for(salt: str, k: int, export_sha256: str) -> str:
    """The seed of simulation run `k` (ASCII salt; see the module docstring)."""
    return lottery.sha256_text("simulation:" + salt + ":" + str(k) + ":" + export_sha256)


def simulate(export: bytes, runs: int, *, salt: str, official_seed: str | None = None) -> dict:
    """Run the matcher `runs` times on the frozen export; a JSON-serialisable summary.

    Per run: the seed and the shares of applicants placed at their first choice, at any
    choice and at none. Their distribution over the runs (min, 5th percentile, median,
    95th percentile, max). Per program: the median number of offers, the share of runs
    in which every seat was offered, and the median cutoff: the key of the last student
    admitted (priority class, late, and the percentile of their lottery rank among all
    applicants, 100 the last number) or None where, in the median run, the program took
    everyone who asked. Raises ValueError for `runs` < 1 and, given the official seed, if
    a run's seed were ever that seed."""
    if runs < 1:
        raise ValueError("a simulation needs at least one run")
    settings, program_rows, applicant_rows = lottery.read_export(export)
    export_sha256 = lottery.sha256_bytes(export)
    programs = [
        matching.Program(id=p["program"], seats=p["seats"], reserved=p.get("reserved", 0)) for p in program_rows
    ]
    lottery_ids = sorted({row["lottery_id"] for row in applicant_rows})
    # As `lottery.derive` reads them; only the numbers change from run to run (the matcher
    # only reads the priority dicts, so one copy serves every run).
    rows = [
        (row["applicant"], row["lottery_id"], tuple(row["choices"]), dict(row["priority"]), row.get("tier"),
         row.get("late", False))
        for row in applicant_rows
    ]  # fmt: skip
    options = {
        "lowest_class": settings["lowest_class"],
        "reserve_tiers": frozenset(settings.get("reserve_tiers", [])),
        "precedence": settings.get("precedence", matching.OPEN_FIRST),
    }

    per_run: list[dict] = []
    offers: dict[str, list[int]] = {p.id: [] for p in programs}
    cutoffs: dict[str, list[tuple | None]] = {p.id: [] for p in programs}
    for k in range(runs):
        seed = seed_for(salt, k, export_sha256)
        if seed == official_seed:
            raise ValueError("a simulation seed equals the official seed")
        numbers = {lid: lottery.number_of(seed, lid) for lid in lottery_ids}
        applicants = [
            matching.Applicant(aid, numbers[lid], choices, priority, tier, late)
            for aid, lid, choices, priority, tier, late in rows
        ]
        result = matching.match(applicants, programs, **options)
        per_run.append({"seed": seed, **_shares(applicants, result.placed)})
        for pid, (count, cutoff) in _program_figures(applicants, programs, result).items():
            offers[pid].append(count)
            cutoffs[pid].append(cutoff)

    return {
        "export_sha256": export_sha256,
        "salt": salt,
        "runs": runs,
        "applicants": len(applicant_rows),
        "per_run": per_run,
        "distribution": {
            share: _distribution([run[share] for run in per_run]) for share in ("first_choice", "any_choice", "none")
        },
        "programs": {
            p.id: {
                "seats": p.seats,
                "median_offers": statistics.median(offers[p.id]),
                "filled_share": sum(count >= p.seats for count in offers[p.id]) / runs,
                "median_cutoff": _median_cutoff(cutoffs[p.id]),
            }
            for p in programs
        },
    }


def _shares(applicants: Sequence[matching.Applicant], placed: dict[str, str | None]) -> dict[str, float]:
    total = len(applicants) or 1
    first = sum(1 for a in applicants if a.choices and placed[a.id] == a.choices[0])
    anywhere = sum(1 for a in applicants if placed[a.id] is not None)
    return {"first_choice": first / total, "any_choice": anywhere / total, "none": (total - anywhere) / total}


def _program_figures(applicants, programs, result: matching.Result) -> dict[str, tuple[int, tuple | None]]:
    """Per program: offers, and the key of the last admitted student if every seat went."""
    n = len(applicants)
    # The lottery rank as the matcher orders it: number, then id (siblings share a number).
    order = sorted(range(n), key=lambda i: (applicants[i].number, applicants[i].id))
    percentile = {applicants[i].id: 100 * (position + 1) / n for position, i in enumerate(order)}
    held: dict[str, list[tuple]] = {p.id: [] for p in programs}
    for a in applicants:
        pid = result.placed[a.id]
        if pid is not None:
            held[pid].append((result.classes[a.id][pid], a.late, percentile[a.id]))
    figures = {}
    for p in programs:
        keys = held[p.id]
        # An unfilled program took everyone who asked: it has no cutoff.
        figures[p.id] = (len(keys), max(keys) if keys and len(keys) >= p.seats else None)
    return figures


def _median_cutoff(cutoffs: list[tuple | None]) -> dict | None:
    """The middle run's cutoff, runs without one counted as the loosest."""
    ordered = sorted(cutoffs, key=lambda c: (c is None, c or ()))
    middle = ordered[(len(ordered) - 1) // 2]
    if middle is None:
        return None
    cls, late, percentile = middle
    return {"class": cls, "late": late, "percentile": round(percentile, 2)}


def _distribution(values: list[float]) -> dict[str, float]:
    # Twenty quantiles by linear interpolation (numpy's default): the first is the 5th
    # percentile, the last the 95th. One run has no spread: every figure is that run's.
    cuts = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return {
        "min": min(values),
        "p5": cuts[0],
        "median": statistics.median(values),
        "p95": cuts[-1],
        "max": max(values),
    }
