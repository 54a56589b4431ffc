"""The lottery anyone can re-derive: every hash checked against the real `sha256sum`, run
as the module's docstring tells an observer to run it."""

import json
import random
import shutil
import subprocess

import pytest

from enrollment import lottery

pytestmark = pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")

SECRET = "5f1c0a9e3b7d42e8a6c4b2d0f8e6a4c2"
DIGITS = "4815162342"


def sha256sum(text: str) -> str:
    """printf '%s' "$TEXT" | sha256sum, as an observer at the drawing types it."""
    out = subprocess.run(
        ["sh", "-c", 'printf "%s" "$1" | sha256sum', "sh", text], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[0]


def sha256sum_file(data: bytes, tmp_path) -> str:
    path = tmp_path / "export.jsonl"
    path.write_bytes(data)
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def records() -> list[dict]:
    return [
        {
            "cycle": "2027-28",
            "round": 1,
            "priority_order": ["residence", "sibling", "staff"],
            "lowest_class": 3,
            "reserve_tiers": [1],
            "precedence": "open_first",
        },
        {"program": "LIN-4", "seats": 2, "reserved": 1},
        {"program": "ROO-4", "seats": 1, "reserved": 0},
        {"applicant": "A-SOFIA", "lottery_id": "L-ORTIZ", "choices": ["LIN-4", "ROO-4"],
         "priority": {"LIN-4": 0}, "tier": 0, "late": False},
        {"applicant": "A-MATEO", "lottery_id": "L-ORTIZ", "choices": ["LIN-4"],
         "priority": {"LIN-4": 1}, "tier": 0, "late": False},
        {"applicant": "A-BEN", "lottery_id": "L-BEN", "choices": ["ROO-4", "LIN-4"],
         "priority": {}, "tier": 1, "late": False},
        {"applicant": "A-CHARLIE", "lottery_id": "L-CHARLIE", "choices": ["LIN-4", "ROO-4"],
         "priority": {}, "tier": 1, "late": True},
        {"applicant": "A-DANA", "lottery_id": "L-DANA", "choices": ["ROO-4"],
         "priority": {"ROO-4": 2}, "tier": None, "late": False},
    ]  # fmt: skip


def test_the_commitment_is_the_sha256sum_of_the_secret():
    assert lottery.commitment_of(SECRET) == sha256sum(SECRET)
    assert lottery.commitment_of(SECRET) != lottery.commitment_of(SECRET + "0")


def test_the_seed_is_the_sha256sum_of_secret_digits_and_export_hash(tmp_path):
    export = lottery.canonical_export(records())
    export_sha256 = sha256sum_file(export, tmp_path)
    assert lottery.sha256_bytes(export) == export_sha256
    assert lottery.seed_of(SECRET, DIGITS, export_sha256) == sha256sum(SECRET + DIGITS + export_sha256)


def test_each_number_is_the_sha256sum_of_seed_and_lottery_id():
    seed = sha256sum(SECRET + DIGITS + "0" * 64)
    for lottery_id in ("L-ORTIZ", "L-BEN", "7GQ2-XK4M-P9TA"):
        assert lottery.number_of(seed, lottery_id) == sha256sum(seed + lottery_id)


def test_derive_gives_every_applicant_the_number_sha256sum_gives(tmp_path):
    export = lottery.canonical_export(records())
    seed = sha256sum(SECRET + DIGITS + sha256sum_file(export, tmp_path))
    derived = lottery.derive(export, seed)
    lottery_ids = {r["applicant"]: r["lottery_id"] for r in records() if "applicant" in r}
    assert derived.numbers == {aid: sha256sum(seed + lid) for aid, lid in lottery_ids.items()}
    # Siblings applying together share a lottery id and so one number.
    assert derived.numbers["A-SOFIA"] == derived.numbers["A-MATEO"]
    assert derived.result_sha256 == sha256sum_file(derived.result_lines, tmp_path)


def test_the_export_is_the_same_bytes_whatever_the_order_of_records_and_keys():
    expected = lottery.canonical_export(records())
    rnd = random.Random(11)
    for _ in range(10):
        shuffled = records()
        rnd.shuffle(shuffled)
        shuffled = [dict(rnd.sample(list(r.items()), len(r))) for r in shuffled]
        assert lottery.canonical_export(shuffled) == expected


def test_the_export_is_sorted_json_lines_with_sorted_keys_in_ascii():
    export = lottery.canonical_export([*records(), {"applicant": "A-ZOÉ", "lottery_id": "L-Z", "choices": [],
                                                    "priority": {}, "tier": None, "late": False}])  # fmt: skip
    lines = export.decode("ascii").split("\n")
    assert lines[-1] == ""  # every line ends in a newline
    lines = lines[:-1]
    assert lines == sorted(lines)
    for line in lines:
        record = json.loads(line)
        assert list(record) == sorted(record)
        assert ", " not in line and ": " not in line
    assert b"\\u00c9" in export


def test_derive_gives_the_same_result_twice():
    export = lottery.canonical_export(records())
    seed = lottery.seed_of(SECRET, DIGITS, lottery.sha256_bytes(export))
    first, second = lottery.derive(export, seed), lottery.derive(export, seed)
    assert first.result_lines == second.result_lines
    assert first.result_sha256 == second.result_sha256
    assert len(first.result_lines.splitlines()) == 5


def test_derive_gives_the_same_result_from_the_same_lines_in_another_order():
    export = lottery.canonical_export(records())
    seed = lottery.seed_of(SECRET, DIGITS, lottery.sha256_bytes(export))
    lines = export.splitlines(keepends=True)
    rnd = random.Random(3)
    for _ in range(5):
        rnd.shuffle(lines)
        shuffled = b"".join(lines)
        assert lottery.derive(shuffled, seed).result_sha256 == lottery.derive(export, seed).result_sha256


def test_a_changed_export_line_changes_the_export_hash_and_so_the_seed():
    changed = records()
    changed[5] = {**changed[5], "late": True}
    before, after = lottery.canonical_export(records()), lottery.canonical_export(changed)
    assert before != after
    assert lottery.sha256_bytes(before) != lottery.sha256_bytes(after)
    assert lottery.seed_of(SECRET, DIGITS, lottery.sha256_bytes(before)) != lottery.seed_of(
        SECRET, DIGITS, lottery.sha256_bytes(after)
    )


def test_a_different_seed_gives_different_numbers():
    export = lottery.canonical_export(records())
    one = lottery.derive(export, lottery.seed_of(SECRET, "1", lottery.sha256_bytes(export)))
    two = lottery.derive(export, lottery.seed_of(SECRET, "2", lottery.sha256_bytes(export)))
    assert set(one.numbers.values()).isdisjoint(two.numbers.values())


def test_read_export_refuses_a_line_it_does_not_know():
    export = lottery.canonical_export([*records(), {"student": "Sofia Ortiz"}])
    with pytest.raises(ValueError, match="unknown export line"):
        lottery.read_export(export)


def test_read_export_refuses_an_export_without_its_settings_line():
    export = lottery.canonical_export(records()[1:])
    with pytest.raises(ValueError, match="no settings line"):
        lottery.read_export(export)


def test_read_export_splits_settings_programs_and_applicants():
    settings, programs, applicants = lottery.read_export(lottery.canonical_export(records()))
    assert settings["lowest_class"] == 3
    assert sorted(p["program"] for p in programs) == ["LIN-4", "ROO-4"]
    assert sorted(a["applicant"] for a in applicants) == ["A-BEN", "A-CHARLIE", "A-DANA", "A-MATEO", "A-SOFIA"]


def test_the_code_version_is_the_sha256sum_of_lottery_and_matching_sources(tmp_path):
    data = b"".join(path.read_bytes() for path in lottery.CODE_FILES)
    assert lottery.code_version() == sha256sum_file(data, tmp_path)
