"""The lottery's public record: what anyone needs to re-derive the drawing on their
own computer (enrollment.lottery), without signing in.

The export is pseudonymous (public ids, program codes, priority classes, tier), so it
is published from the freeze on; the secret, the digits, the seed and the result
once the lottery has run. The downloads are the recorded bytes, unchanged, so that
`sha256sum` of a download prints the hash shown on the page.
"""

import shlex

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .models import Cycle, Round


def _export_name(year: str, number: int) -> str:
    return f"open-enrollment-{year}-round-{number}-export.jsonl"


def _result_name(year: str, number: int) -> str:
    return f"open-enrollment-{year}-round-{number}-result.jsonl"


def _steps(cycle: Cycle, drawing: Round) -> dict:
    """The shell lines of the instructions, with this drawing's values filled in and
    quoted for the shell (a secret may hold any character)."""
    year = cycle.school_year.name
    export, result = _export_name(year, drawing.number), _result_name(year, drawing.number)
    q = shlex.quote
    return {
        "export_name": export,
        "result_name": result,
        "export_check": f"sha256sum {q(export)}",
        "commitment_check": f"printf '%s' {q(drawing.secret)} | sha256sum",
        "seed_check": f"printf '%s' {q(drawing.secret + drawing.public_digits + drawing.export_sha256)} | sha256sum",
        "number_check": f"printf '%s' {q(drawing.seed)}LOTTERY_ID | sha256sum",
        "result_check": f"sha256sum {q(result)}",
        "code_check": "cat enrollment/lottery.py enrollment/matching.py | sha256sum",
        # enrollment/management/commands/verify_lottery.py: reads only the files given.
        "verify": (
            f"DJANGO_DEBUG=true python manage.py verify_lottery {q(export)} --secret {q(drawing.secret)} "
            f"--digits {q(drawing.public_digits)} --commitment {q(cycle.commitment)} --result {q(result)} "
            f"--expect-export-sha256 {drawing.export_sha256} --expect-result-sha256 {drawing.result_sha256} "
            f"--expect-code-version {drawing.code_version}"
        ),
    }


@login_not_required
@require_GET
def lottery_record(request: HttpRequest, year: str) -> HttpResponse:
    cycle = get_object_or_404(Cycle.objects.select_related("school_year"), school_year__name=year)
    drawings = cycle.rounds.defer("export", "result").select_related("frozen_by", "ran_by").order_by("number")
    return render(
        request,
        "enrollment/lottery_record.html",
        {
            "cycle": cycle,
            "year": year,
            "drawings": [{"round": d, "steps": _steps(cycle, d)} for d in drawings],
        },
    )


def _drawing(year: str, number: str) -> Round:
    return get_object_or_404(Round, cycle__school_year__name=year, number=int(number))


def _jsonl(data: str, filename: str) -> HttpResponse:
    # The recorded text, byte for byte: ASCII by construction (lottery.canonical_export).
    response = HttpResponse(data.encode("ascii"), content_type="application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_not_required
@require_GET
def export_download(request: HttpRequest, year: str, number: str) -> HttpResponse:
    drawing = _drawing(year, number)
    return _jsonl(drawing.export, _export_name(year, drawing.number))


@login_not_required
@require_GET
def result_download(request: HttpRequest, year: str, number: str) -> HttpResponse:
    drawing = _drawing(year, number)
    if not drawing.has_run:
        raise Http404
    return _jsonl(drawing.result, _result_name(year, drawing.number))
