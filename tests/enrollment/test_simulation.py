"""Simulations: repeatable for one salt, never the official seed, figures that add up and
agree with `lottery.derive` run by hand on the same seeds."""

import hashlib
import json
import random
import statistics

import pytest

from enrollment import lottery, simulation

SECRET = "5f1c0a9e3b7d42e8a6c4b2d0f8e6a4c2"


def district(applicants=60, seed=7) -> bytes:
    """A small over-subscribed cycle: 5 programs, one popular, siblings, priorities, a reserve."""
    rnd = random.Random(seed)
    records = [
        {"cycle": "2027-28", "round": 1, "priority_order": ["residence", "sibling"], "lowest_class": 2,
         "reserve_tiers": [1], "precedence": "open_first"},
        {"program": "P0", "seats": 8, "reserved": 3},
        *({"program": f"P{j}", "seats": 6, "reserved": 0} for j in range(1, 5)),
    ]  # fmt: skip
    for i in range(applicants):
        choices = (
            ["P0", *rnd.sample([f"P{j}" for j in range(1, 5)], 2)]
            if rnd.random() < 0.6
            else rnd.sample([f"P{j}" for j in range(5)], 3)
        )
        records.append(
            {
                "applicant": f"A{i:03d}",
                "lottery_id": f"L{i - i % 2 if i < 10 else i:03d}",  # the first ten come in sibling pairs
                "choices": choices,
                "priority": {choices[0]: rnd.randrange(2)} if rnd.random() < 0.3 else {},
                "tier": rnd.choice([0, 1, None]),
                "late": rnd.random() < 0.05,
            }
        )
    return lottery.canonical_export(records)


def test_a_simulation_is_the_same_for_the_same_salt():
    export = district()
    assert simulation.simulate(export, 20, salt="board-2027") == simulation.simulate(export, 20, salt="board-2027")


def test_different_salts_give_different_runs():
    export = district()
    one = simulation.simulate(export, 20, salt="a")
    two = simulation.simulate(export, 20, salt="b")
    assert {r["seed"] for r in one["per_run"]}.isdisjoint(r["seed"] for r in two["per_run"])
    assert [r["first_choice"] for r in one["per_run"]] != [r["first_choice"] for r in two["per_run"]]


def test_each_run_seed_is_the_documented_hash():
    export = district()
    export_sha256 = hashlib.sha256(export).hexdigest()
    summary = simulation.simulate(export, 5, salt="x")
    expected = [hashlib.sha256(f"simulation:x:{k}:{export_sha256}".encode()).hexdigest() for k in range(5)]
    assert [r["seed"] for r in summary["per_run"]] == expected


def test_the_shares_of_each_run_add_up():
    summary = simulation.simulate(district(), 30, salt="sum")
    for run in summary["per_run"]:
        assert run["any_choice"] + run["none"] == pytest.approx(1)
        assert 0 < run["first_choice"] <= run["any_choice"] < 1  # over-subscribed: someone goes without
    for share, figures in summary["distribution"].items():
        values = [run[share] for run in summary["per_run"]]
        assert figures["min"] == min(values) and figures["max"] == max(values)
        assert figures["median"] == statistics.median(values)
        assert figures["min"] <= figures["p5"] <= figures["median"] <= figures["p95"] <= figures["max"]


def test_each_run_agrees_with_derive_on_its_seed():
    export = district()
    summary = simulation.simulate(export, 6, salt="check")
    offers = {f"P{j}": [] for j in range(5)}
    for run in summary["per_run"]:
        derived = lottery.derive(export, run["seed"])
        _settings, _programs, rows = lottery.read_export(export)
        placed = derived.result.placed
        first = sum(placed[r["applicant"]] == r["choices"][0] for r in rows) / len(rows)
        unplaced = sum(placed[r["applicant"]] is None for r in rows) / len(rows)
        assert run["first_choice"] == pytest.approx(first)
        assert run["none"] == pytest.approx(unplaced)
        for pid in offers:
            offers[pid].append(sum(p == pid for p in placed.values()))
    for pid, counts in offers.items():
        assert summary["programs"][pid]["median_offers"] == statistics.median(counts)
        assert summary["programs"][pid]["filled_share"] == sum(c >= 6 + 2 * (pid == "P0") for c in counts) / 6


def test_it_never_uses_the_official_seed():
    export = district()
    official = lottery.seed_of(SECRET, "4815162342", lottery.sha256_bytes(export))
    summary = simulation.simulate(export, 50, salt="", official_seed=official)
    assert official not in {run["seed"] for run in summary["per_run"]}


def test_it_refuses_to_run_on_the_official_seed(monkeypatch):
    export = district()
    official = lottery.seed_of(SECRET, "4815162342", lottery.sha256_bytes(export))
    monkeypatch.setattr(lottery, "sha256_text", lambda text: official)
    with pytest.raises(ValueError, match="official seed"):
        simulation.simulate(export, 3, salt="", official_seed=official)


def test_a_one_seat_program_cuts_off_at_the_best_number_and_an_empty_one_has_no_cutoff():
    records = [
        {"cycle": "2027-28", "round": 1, "priority_order": [], "lowest_class": 0, "reserve_tiers": [],
         "precedence": "open_first"},
        {"program": "ONE", "seats": 1, "reserved": 0},
        {"program": "BIG", "seats": 10, "reserved": 0},
        *({"applicant": f"A{i}", "lottery_id": f"L{i}", "choices": ["ONE", "BIG"], "priority": {}, "tier": None,
           "late": False} for i in range(4)),
    ]  # fmt: skip
    summary = simulation.simulate(lottery.canonical_export(records), 9, salt="cut")
    # Four applicants: the one admitted holds the best number, the first quarter.
    assert summary["programs"]["ONE"] == {
        "seats": 1,
        "median_offers": 1,
        "filled_share": 1.0,
        "median_cutoff": {"class": 0, "late": False, "percentile": 25.0},
    }
    assert summary["programs"]["BIG"] == {"seats": 10, "median_offers": 3, "filled_share": 0.0, "median_cutoff": None}
    assert summary["distribution"]["first_choice"]["median"] == 0.25
    assert summary["distribution"]["any_choice"]["min"] == 1.0


def test_the_summary_is_json():
    summary = simulation.simulate(district(), 3, salt="json")
    assert json.loads(json.dumps(summary)) == summary


def test_it_needs_at_least_one_run():
    with pytest.raises(ValueError):
        simulation.simulate(district(), 0, salt="none")
