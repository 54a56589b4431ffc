"""manage.py verify_lottery: anyone re-derives the official run from the published
files alone; a changed byte, a wrong seed or a broken invariant fails it, loudly."""

import io
import json
import os
import random
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from enrollment import invariants, lottery
from enrollment.matching import PRECEDENCES

from .conftest import DIGITS, SECRET
from .test_services import apply, drawn


@pytest.fixture
def recorded(tmp_path, alice, bob, sofia, bobs_student, lincoln_4, roosevelt_4, diana):
    """The official run as the services recorded it, written out as the district
    publishes it: the export and the result files."""
    apply(sofia, [lincoln_4, roosevelt_4], alice)
    apply(bobs_student, [lincoln_4, roosevelt_4], bob)
    drawing = drawn(lincoln_4.cycle, diana)
    export, result = tmp_path / "export.jsonl", tmp_path / "result.jsonl"
    export.write_bytes(drawing.export.encode("ascii"))
    result.write_bytes(drawing.result.encode("ascii"))
    return drawing, export, result


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_lottery", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def changed_byte(path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) >= 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new, 1))


def test_it_agrees_with_the_run_the_services_recorded_without_touching_the_database(
    recorded, django_assert_num_queries
):
    drawing, export, result = recorded
    with django_assert_num_queries(0):
        out = verify(
            export,
            "--seed", drawing.seed,
            "--result", result,
            "--expect-export-sha256", drawing.export_sha256,
            "--expect-result-sha256", drawing.result_sha256,
            "--expect-code-version", drawing.code_version,
        )  # fmt: skip
    for value in (drawing.export_sha256, drawing.seed, drawing.result_sha256, drawing.code_version):
        assert value in out
    assert "OK: the re-derived result matches the result file byte for byte and keeps every invariant." in out
    assert invariants.check_files(export.read_bytes(), result.read_bytes()) == []


def test_it_derives_the_seed_from_the_revealed_secret_and_checks_the_commitment(recorded):
    drawing, export, result = recorded
    commitment = drawing.cycle.commitment
    out = verify(export, "--secret", SECRET, "--digits", DIGITS, "--commitment", commitment, "--result", result)
    assert f"seed         {drawing.seed}" in out and "(matches the secret)" in out
    with pytest.raises(CommandError, match="not the commitment"):
        verify(export, "--secret", "a-guess", "--digits", DIGITS, "--commitment", commitment)
    with pytest.raises(CommandError, match="--secret needs --digits"):
        verify(export, "--secret", SECRET)


def test_one_changed_byte_of_the_result_fails_it(recorded):
    drawing, export, result = recorded
    placed = json.loads(drawing.result.splitlines()[0])["placed"]
    changed_byte(result, f'"placed":"{placed}"'.encode(), f'"placed":"{placed.lower()}"'.encode())
    with pytest.raises(CommandError) as failed:
        verify(export, "--seed", drawing.seed, "--result", result)
    message = str(failed.value)
    assert "result.jsonl differs from the re-derived result: line 1 is" in message
    assert "which it did not rank" in message  # what is wrong with the published file itself


def test_one_changed_byte_of_the_export_fails_it(recorded):
    drawing, export, result = recorded
    changed_byte(export, b'"seats":1', b'"seats":2')
    with pytest.raises(CommandError) as failed:
        verify(export, "--seed", drawing.seed, "--result", result, "--expect-export-sha256", drawing.export_sha256)
    message = str(failed.value)
    assert f"not the published {drawing.export_sha256}" in message
    assert "result.jsonl differs from the re-derived result" in message


def test_a_wrong_seed_fails_it(recorded):
    drawing, export, result = recorded
    wrong = lottery.sha256_text("another seed")
    with pytest.raises(CommandError, match="differs from the re-derived result"):
        verify(export, "--seed", wrong, "--result", result)
    with pytest.raises(CommandError, match=f"not the published {drawing.result_sha256}"):
        verify(export, "--seed", wrong, "--expect-result-sha256", drawing.result_sha256)


def test_an_outsider_runs_it_with_no_database_and_gets_a_non_zero_exit_on_a_mismatch(recorded):
    drawing, export, result = recorded
    changed_byte(result, b"\n", b" ")
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing", "DJANGO_SECRET_KEY": "outsider"}
    command = [
        sys.executable,
        "manage.py",
        "verify_lottery",
        str(export),
        "--seed",
        drawing.seed,
        "--result",
        str(result),
    ]
    failed = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert failed.returncode == 1, failed.stderr
    assert drawing.result_sha256 in failed.stdout  # it re-derived the result before comparing
    assert "verification failed" in failed.stderr and "differs from the re-derived result" in failed.stderr


# Hand-made results for a small export: Lincoln and Roosevelt have one seat each;
# A-3 is a resident of Lincoln (class 0); have no priority, and A-1 the
# lower lottery number. The right result: A-3 at Lincoln, A-1 at Roosevelt, A-2 on both waitlists.
ONE, TWO, THREE = "1" * 64, "2" * 64, "3" * 64
EXPORT = lottery.canonical_export(
    [
        {"cycle": "2027-28", "round": 1, "priority_order": ["resident"], "lowest_class": 1, "reserve_tiers": []},
        {"program": "LIN", "seats": 1, "reserved": 0},
        {"program": "ROO", "seats": 1, "reserved": 0},
        {"applicant": "A-1", "lottery_id": "A-1", "choices": ["LIN", "ROO"], "priority": {}, "late": False},
        {"applicant": "A-2", "lottery_id": "A-2", "choices": ["LIN", "ROO"], "priority": {}, "late": False},
        {"applicant": "A-3", "lottery_id": "A-3", "choices": ["LIN"], "priority": {"LIN": 0}, "late": False},
    ]
)
CLASSES = {"A-1": {"LIN": 1, "ROO": 1}, "A-2": {"LIN": 1, "ROO": 1}, "A-3": {"LIN": 0}}


def result(lines: dict) -> bytes:
    """A result from (number, placed, waitlists) per applicant."""
    return lottery.canonical_export(
        {"applicant": aid, "number": number, "placed": placed, "classes": CLASSES[aid], "waitlists": waitlists}
        for aid, (number, placed, waitlists) in lines.items()
    )


RIGHT = {"A-1": (ONE, "ROO", {"LIN": 1}), "A-2": (TWO, None, {"LIN": 2, "ROO": 1}), "A-3": (THREE, "LIN", {})}


def problems_with(**changed) -> list[str]:
    """The invariants broken by the right result with some applicants' lines changed (A_1 for A-1)."""
    lines = {**RIGHT, **{aid.replace("_", "-"): line for aid, line in changed.items()}}
    return invariants.check_files(EXPORT, result(lines))


def test_the_invariants_accept_the_right_result():
    assert problems_with() == []


def test_the_invariants_catch_a_program_over_capacity():
    problems = problems_with(A_1=(ONE, "LIN", {}), A_2=(TWO, "ROO", {"LIN": 1}))
    assert "LIN holds 2 students for 1 seat(s)" in problems


def test_the_invariants_catch_justified_envy():
    # A-2 has Roosevelt although A-1, who ranked it and has the lower number, has nothing.
    problems = problems_with(A_1=(ONE, None, {"LIN": 1, "ROO": 1}), A_2=(TWO, "ROO", {"LIN": 2}))
    assert problems == ["justified envy: A-1 (not placed) comes before A-2 at ROO, who hold its seats"]


def test_the_invariants_catch_a_wasted_seat():
    problems = problems_with(A_1=(ONE, None, {"LIN": 1, "ROO": 1}), A_2=(TWO, None, {"LIN": 2, "ROO": 2}))
    assert "wasted seat: ROO has 1 empty seat(s) while A-1 (not placed) ranked it higher" in problems


def test_the_invariants_catch_a_waitlist_out_of_key_order_and_a_placement_not_ranked():
    problems = problems_with(A_1=(ONE, "ROO", {"LIN": 2}), A_2=(TWO, None, {"LIN": 1, "ROO": 1}))
    assert problems == ["the waitlist of LIN is not in key order: number 1 is A-2, not A-1"]
    assert "A-3 is placed at ROO, which it did not rank" in problems_with(A_3=(THREE, "ROO", {"LIN": 1}))


def test_the_invariants_hold_for_every_result_the_lottery_derives():
    # Random exports with priorities, late applications, siblings drawn together and
    # reserves: the checks must never accuse a correct result.
    rng = random.Random(35160)
    for run in range(300):
        programs = [{"program": f"P{j}", "seats": rng.randint(0, 3)} for j in range(rng.randint(1, 4))]
        for p in programs:
            p["reserved"] = rng.randint(0, p["seats"]) if run % 2 else 0
        applicants = []
        for i in range(rng.randint(1, 20)):
            choices = rng.sample([p["program"] for p in programs], rng.randint(1, len(programs)))
            applicants.append(
                {
                    "applicant": f"A-{i}",
                    "lottery_id": f"A-{i - 1}" if i and rng.random() < 0.2 else f"A-{i}",
                    "choices": choices,
                    "priority": {p: rng.randint(0, 2) for p in choices if rng.random() < 0.4},
                    "tier": rng.choice([None, 1, 2]),
                    "late": rng.random() < 0.1,
                }
            )
        settings = {
            "cycle": "t",
            "round": 1,
            "lowest_class": 3,
            "reserve_tiers": [1],
            "precedence": rng.choice(PRECEDENCES),
        }
        export = lottery.canonical_export([settings, *programs, *applicants])
        derived = lottery.derive(export, lottery.sha256_text(str(run)))
        assert invariants.check_files(export, derived.result_lines) == [], run
