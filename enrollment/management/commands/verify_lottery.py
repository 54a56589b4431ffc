"""Re-derive a lottery from its frozen export and seed, and check it byte for byte
(enrollment.lottery) and against every invariant (enrollment.invariants).

It reads only files, never the database, so anyone with the published export, seed
and result can run it:

    DJANGO_DEBUG=true python manage.py verify_lottery export.jsonl --seed SEED --result result.jsonl
"""

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from enrollment import invariants, lottery

HEX64 = re.compile(r"^[0-9a-f]{64}$")
SHOWN = 20  # problems printed before "and N more"


class Command(BaseCommand):
    help = "Re-derive a lottery result from its export and seed; exits non-zero on any difference."
    # Only files are read: no system checks, which could touch the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("export", type=Path, help="The frozen export (JSON Lines).")
        seed = parser.add_mutually_exclusive_group(required=True)
        seed.add_argument("--seed", help="The seed, 64 hexadecimal digits.")
        seed.add_argument("--secret", help="The district's revealed secret (with --digits): the seed is derived.")
        parser.add_argument("--digits", help="The digits drawn in public (with --secret).")
        parser.add_argument("--commitment", help="The SHA-256 published before the deadline (with --secret).")
        parser.add_argument("--result", type=Path, help="The published result, compared byte for byte.")
        parser.add_argument("--expect-export-sha256", help="The export's SHA-256 as published.")
        parser.add_argument("--expect-result-sha256", help="The result's SHA-256 as published.")
        parser.add_argument("--expect-code-version", help="The code version the official run recorded.")

    def handle(self, *args, export: Path, result: Path | None, **options):
        data = _read(export)
        export_sha256 = lottery.sha256_bytes(data)
        failures = []
        self.stdout.write(f"export       {export_sha256}  {export}")
        expected = _hex(options["expect_export_sha256"], "--expect-export-sha256")
        if expected and expected != export_sha256:
            failures.append(f"The export's SHA-256 is {export_sha256}, not the published {expected}.")

        seed = self._seed(options, export_sha256, failures)
        self.stdout.write(f"seed         {seed}")
        try:
            derived = lottery.derive(data, seed)
        except (KeyError, TypeError, ValueError) as error:
            raise CommandError(f"{export} is not a lottery export: {error!r}") from None
        self.stdout.write(f"result       {derived.result_sha256}  (re-derived, {len(derived.numbers)} applicants)")
        code_version = lottery.code_version()
        self.stdout.write(f"code version {code_version}")

        expected = _hex(options["expect_result_sha256"], "--expect-result-sha256")
        if expected and expected != derived.result_sha256:
            failures.append(
                f"The re-derived result's SHA-256 is {derived.result_sha256}, not the published {expected}."
            )
        settings, programs, applicants = lottery.read_export(data)
        problems = invariants.check(settings, programs, applicants, invariants.read_result(derived.result_lines))
        failures += _shown("Invariant broken by the re-derived result", problems)
        if result is not None:
            published = _read(result)
            self.stdout.write(f"result file  {lottery.sha256_bytes(published)}  {result}")
            if published != derived.result_lines:
                failures.append(f"{result} differs from the re-derived result: {_first_difference(published, derived)}")
                # What is wrong with the published result itself, for whoever must explain it.
                try:
                    problems = invariants.check(settings, programs, applicants, invariants.read_result(published))
                except (KeyError, TypeError, ValueError) as error:
                    problems = [f"it cannot be checked: {error}"]
                failures += _shown(f"Invariant broken in {result.name}", problems)

        if failures:
            version = options["expect_code_version"]
            if version and version.strip().lower() != code_version:
                failures.append(
                    f"This code ({code_version}) is not the code of the official run ({version.strip()}): "
                    "a difference may come from the code, not from the data."
                )
            raise CommandError("verification failed:\n" + "\n".join(failures))
        checked = "matches the result file byte for byte and " if result is not None else ""
        self.stdout.write(self.style.SUCCESS(f"OK: the re-derived result {checked}keeps every invariant."))

    def _seed(self, options: dict, export_sha256: str, failures: list[str]) -> str:
        if options["seed"] is not None:
            if options["digits"] is not None or options["commitment"] is not None:
                raise CommandError("--digits and --commitment go with --secret, not --seed.")
            return _hex(options["seed"], "--seed")
        secret, digits = options["secret"].strip(), (options["digits"] or "").strip()
        if not digits:
            raise CommandError("--secret needs --digits, the digits drawn in public.")
        commitment = _hex(options["commitment"], "--commitment")
        if commitment:
            if lottery.commitment_of(secret) != commitment:
                failures.append(
                    f"The secret's SHA-256 is {lottery.commitment_of(secret)}, not the commitment {commitment}."
                )
            else:
                self.stdout.write(f"commitment   {commitment}  (matches the secret)")
        return lottery.seed_of(secret, digits, export_sha256)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None


def _shown(prefix: str, problems: list[str]) -> list[str]:
    shown = [f"{prefix}: {problem}" for problem in problems[:SHOWN]]
    if len(problems) > SHOWN:
        shown.append(f"{prefix}: … and {len(problems) - SHOWN} more.")
    return shown


def _hex(value: str | None, option: str) -> str:
    if value is None:
        return ""
    value = value.strip().lower()
    if not HEX64.match(value):
        raise CommandError(f"{option} is a SHA-256: 64 hexadecimal digits.")
    return value


def _first_difference(published: bytes, derived: lottery.Derived) -> str:
    ours = derived.result_lines.splitlines()
    theirs = published.splitlines()
    for number, (mine, given) in enumerate(zip(ours, theirs, strict=False), 1):
        if mine != given:
            return f"line {number} is {given[:100]!r}, re-derived {mine[:100]!r}."
    if len(ours) != len(theirs):
        return f"it has {len(theirs)} lines, the re-derived result {len(ours)}."
    return "the lines are the same but the bytes differ (line endings or a final newline)."
