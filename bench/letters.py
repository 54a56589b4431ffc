"""Decision letters: a warm single letter, a batch print of 500 issued letters beside the
naive way (each letter laid out again and the PDFs merged), and the memory of a worker
over hundreds of letters.

Goals (project issue): a warm single letter under 60 ms median; a batch of 500 letters
into one PDF under 30 s with peak memory under 300 MB, at least 2x faster than the naive
way; memory growth over 200 letters in one worker under 20 MB.

Everything happens in this one process, in portal_bench (bench/dataset.py) inside one
transaction that is rolled back at the end, so the letters, their events, the emails and
the logo leave nothing behind; the PDFs go to a temporary folder (FileSystemStorage),
removed afterwards. No task is published: the bench writes the decisions' events itself
and handles each one with `notifications.events.handle_event`, as the worker would (the
letter issued, rendered and stored, the family's email queued); the emails' on-commit
tasks never fire.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import logging
import shutil
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from bench.common import percentile, say

NAME = "letters"
TITLE = "Decision letters: single, batch of 500 vs. naive, worker memory"

LETTERS = 500
SINGLE_WARMUP = 3
SINGLE_RUNS = 30
BATCH_RUNS = 3
GROWTH_FROM, GROWTH_TO = 10, 200
RSS_POINTS = (10, 50, 100, 200, 300, 400, 500)

GOAL_SINGLE_MS = 60.0
GOAL_BATCH_S = 30.0
GOAL_BATCH_PEAK_MB = 300.0
GOAL_SPEEDUP = 2.0
GOAL_GROWTH_MB = 20.0

SELECT_RELATED = (
    "permit__student", "permit__family", "permit__school_year", "permit__placed_school",
    "permit__requested_school", "event",
)


class _Rollback(Exception):
    pass


@dataclass
class Result:
    letters: int = 0
    mix: dict[str, int] = field(default_factory=dict)
    logo_bytes: int = 0
    cold_ms: float = 0.0
    single_ms: list[float] = field(default_factory=list)
    single_html_ms: list[float] = field(default_factory=list)
    single_pages: int = 0
    single_bytes: int = 0
    issue_s: float = 0.0
    render_ms: list[float] = field(default_factory=list)
    render_only_ms: list[float] = field(default_factory=list)  # of which render_letter
    render_by: dict[str, list[float]] = field(default_factory=dict)
    rss_points: dict[int, float] = field(default_factory=dict)  # letters rendered -> MB
    batch_s: list[float] = field(default_factory=list)
    batch_base_mb: float = 0.0
    batch_peak_mb: float = 0.0
    batch_traced_mb: float = 0.0
    batch_bytes: int = 0
    batch_pages: int = 0
    stored_bytes: int = 0
    naive_s: float = 0.0
    naive_base_mb: float = 0.0
    naive_peak_mb: float = 0.0
    naive_render_ms: list[float] = field(default_factory=list)
    naive_bytes: int = 0
    naive_pages: int = 0
    peak_reset: bool = True


def _settle() -> None:
    """A full collection, then glibc's free memory handed back to the system, so that
    the RSS before a step is what the process still holds."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _mb(kib: int) -> float:
    """Kernel KiB to MB (10^6 bytes), the goals' unit."""
    return kib * 1024 / 1e6


def _logo_png() -> bytes:
    """A 600x200 two-colour logo, as a district would upload one."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 180, 180), fill=(22, 94, 60))
    draw.rectangle((60, 70, 140, 130), fill=(240, 200, 40))
    for i in range(6):
        draw.rectangle((210, 40 + i * 22, 570 - i * 40, 52 + i * 22), fill=(22, 94, 60))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _pick_packets(count: int):
    """Decided packets for a mix of acceptance and denial letters in English and Spanish:
    a quarter each of (approved inter-district incoming, denied) x (en, es)."""
    from permits.models import Permit, PermitKind

    groups = [
        ("acceptance", "en", dict(status=Permit.Status.APPROVED, kind=PermitKind.INTER_IN)),
        ("acceptance", "es", dict(status=Permit.Status.APPROVED, kind=PermitKind.INTER_IN)),
        ("denial", "en", dict(status=Permit.Status.DENIED)),
        ("denial", "es", dict(status=Permit.Status.DENIED)),
    ]
    per_group = [count // 4 + (1 if i < count % 4 else 0) for i in range(4)]
    picked = []
    for (kind, language, filters), n in zip(groups, per_group, strict=True):
        rows = list(
            Permit.objects.filter(family__preferred_language=language, **filters)
            .select_related("family")
            .order_by("pk")[:n]
        )
        if len(rows) < n:
            raise RuntimeError(f"only {len(rows)} packets for {kind}/{language} letters")
        picked += rows
    # Interleave, so that the kinds and languages alternate through the batch.
    return _interleave(picked, per_group)


def _interleave(rows: list, sizes: list[int]) -> list:
    groups, start = [], 0
    for n in sizes:
        groups.append(rows[start:start + n])
        start += n
    out = []
    for i in range(max(sizes)):
        out += [g[i] for g in groups if i < len(g)]
    return out


def _events(permits, director) -> list[int]:
    """One status event per packet, as the decision wrote it (not announced: no task)."""
    from permits.models import PermitEvent

    return [
        PermitEvent.objects.create(
            permit=permit, kind=PermitEvent.Kind.STATUS, actor=director,
            old_status="under_review", new_status=permit.status, note="bench letter",
        ).pk
        for permit in permits
    ]


def _handle(event_id: int):
    """What the worker does for one event; its letter."""
    from notifications.events import handle_event
    from permits.models import Letter

    handle_event(event_id)
    letter = Letter.objects.filter(event_id=event_id).first()
    if letter is None or letter.rendered_at is None:
        raise RuntimeError(f"event {event_id} issued no rendered letter")
    return letter


def _timing_render_letter(samples: list[float]):
    """Time the rendering inside handle_event (notifications.events.render_letter), to
    compare with the letters rendered before events drove them."""
    from notifications import events

    original = getattr(events, "render_letter", None)
    if original is None:
        return contextlib.nullcontext()

    def timed(letter_id):
        started = time.perf_counter()
        try:
            return original(letter_id)
        finally:
            samples.append((time.perf_counter() - started) * 1000)

    return mock.patch.object(events, "render_letter", timed)


def _fresh(letter_id: int):
    from permits.models import Letter

    return Letter.objects.select_related(*SELECT_RELATED).get(pk=letter_id)


def harfbuzz_subsetting_available() -> bool:
    """WeasyPrint subsets embedded fonts with HarfBuzz when libharfbuzz-subset (4.1+)
    is installed, and falls back to fontTools otherwise."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _naive(letter_ids: list[int], result: Result) -> bytes:
    """The naive batch: every letter laid out again, one PDF each, merged afterwards."""
    from pypdf import PdfWriter

    from notifications.letters import letter_html
    from notifications.pdf import html_to_pdf

    writer = PdfWriter()
    for letter_id in letter_ids:
        started = time.perf_counter()
        pdf = html_to_pdf(letter_html(_fresh(letter_id)))
        result.naive_render_ms.append((time.perf_counter() - started) * 1000)
        writer.append(io.BytesIO(pdf))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _measure(result: Result, workdir: Path) -> None:
    from django.db import transaction

    from applicants.models import User
    from bench import support
    from bench.dataset import DIRECTOR_EMAIL
    from notifications.letters import letter_html
    from notifications.pdf import html_to_pdf
    from permits.models import District, Letter
    from reviews.batches import write_batch

    director = User.objects.get(email=DIRECTOR_EMAIL)
    with transaction.atomic():
        district = District.current()
        logo = _logo_png()
        result.logo_bytes = len(logo)
        from django.core.files.base import ContentFile

        district.logo.save("bench-logo.png", ContentFile(logo), save=True)

        started = time.perf_counter()
        permits = _pick_packets(LETTERS)
        events = _events(permits, director)
        result.issue_s = time.perf_counter() - started
        say(f"wrote {len(events)} decision events in {result.issue_s:.1f} s")

        # 1. The first event of the process: its letter builds WeasyPrint's font
        #    configuration and stylesheet (cold). Then a single letter, warm-ups and timed
        #    runs of html_to_pdf(letter_html(letter)).
        started = time.perf_counter()
        first = _handle(events[0])
        result.cold_ms = (time.perf_counter() - started) * 1000
        ids = [first.pk]
        for i in range(SINGLE_WARMUP + SINGLE_RUNS):
            letter = _fresh(first.pk)
            started = time.perf_counter()
            html = letter_html(letter)
            html_done = time.perf_counter()
            pdf = html_to_pdf(html)
            done = time.perf_counter()
            if i >= SINGLE_WARMUP:
                result.single_ms.append((done - started) * 1000)
                result.single_html_ms.append((html_done - started) * 1000)
        result.single_pages, result.single_bytes = _pages(pdf), len(pdf)
        say(f"single letter: cold {result.cold_ms:.0f} ms, warm median "
            f"{statistics.median(result.single_ms):.1f} ms, p95 {percentile(result.single_ms, 95):.1f} ms")

        # 2. Every other event handled as the worker does (handle_event: the letter issued,
        #    rendered and stored, the email queued), noting the process's memory after 10,
        #    50, ... letters (after a full collection).
        gc.collect()
        for n, event_id in enumerate(events[1:], start=2):
            started = time.perf_counter()
            with _timing_render_letter(result.render_only_ms):
                letter = _handle(event_id)
            ms = (time.perf_counter() - started) * 1000
            ids.append(letter.pk)
            result.render_ms.append(ms)
            result.render_by.setdefault(f"{letter.kind}/{letter.language}", []).append(ms)
            if n in RSS_POINTS:
                gc.collect()
                result.rss_points[n] = _mb(support.rss_kib())
                say(f"handled {n:>3} events: RSS {result.rss_points[n]:.1f} MB")
        letters = Letter.objects.filter(pk__in=ids)
        result.letters = letters.count()
        for kind, language in letters.values_list("kind", "language"):
            key = f"{kind}/{language}"
            result.mix[key] = result.mix.get(key, 0) + 1
        say(f"{result.letters} letters: {result.mix}")

        # 3. The batch print: write_batch joins the stored PDFs (as build_batch orders them).
        batch = list(letters.order_by("letter_date", "permit__student__legal_last_name", "pk"))
        result.stored_bytes = sum(letter.pdf.size for letter in batch)
        out = workdir / "batch.pdf"
        del pdf
        for _ in range(BATCH_RUNS):
            out.unlink(missing_ok=True)
            _settle()
            base = support.rss_kib()
            result.peak_reset = support.reset_peak_rss() and result.peak_reset
            started = time.perf_counter()
            write_batch(batch, out)
            result.batch_s.append(time.perf_counter() - started)
            peak = support.peak_rss_kib()
            if _mb(peak) - _mb(base) > result.batch_peak_mb - result.batch_base_mb:
                result.batch_base_mb, result.batch_peak_mb = _mb(base), _mb(peak)
        pdf = out.read_bytes()
        result.batch_bytes, result.batch_pages = len(pdf), _pages(pdf)
        del pdf
        out.unlink()
        _settle()
        tracemalloc.start()
        write_batch(batch, out)
        result.batch_traced_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        out.unlink()
        say(f"batch of {len(batch)}: {statistics.median(result.batch_s):.2f} s (median of "
            f"{BATCH_RUNS}), peak RSS {result.batch_peak_mb:.0f} MB, traced peak "
            f"{result.batch_traced_mb:.0f} MB, {result.batch_pages} pages")

        # 4. The naive way: lay every letter out again and merge the PDFs.
        _settle()
        base = support.rss_kib()
        result.peak_reset = support.reset_peak_rss() and result.peak_reset
        started = time.perf_counter()
        pdf = _naive([letter.pk for letter in batch], result)
        result.naive_s = time.perf_counter() - started
        result.naive_base_mb, result.naive_peak_mb = _mb(base), _mb(support.peak_rss_kib())
        result.naive_bytes, result.naive_pages = len(pdf), _pages(pdf)
        say(f"naive: {result.naive_s:.1f} s, peak RSS {result.naive_peak_mb:.0f} MB, "
            f"{result.naive_pages} pages")
        transaction.set_rollback(True)


def run(options) -> str:
    from django.test.utils import override_settings

    from bench import dataset

    data = dataset.ensure(dataset.DISTRICT, reseed=options.reseed)
    # WeasyPrint logs six INFO lines per document ("Step 1 - Fetching and parsing HTML").
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    media = Path(tempfile.mkdtemp(prefix="portal-bench-letters-"))
    result = Result()
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(media)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        with override_settings(STORAGES=storages):
            _measure(result, media)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    say("rolled back: no letter, event, email or logo left in portal_bench; PDFs removed")
    return _report(data, result)


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} | {percentile(values, 95):.1f}"


def _report(data, r: Result) -> str:
    from reviews.batches import CHUNK

    single_median = statistics.median(r.single_ms)
    batch_s = statistics.median(r.batch_s)
    speedup = r.naive_s / batch_s
    growth = r.rss_points[GROWTH_TO] - r.rss_points[GROWTH_FROM]
    peak_note = "" if r.peak_reset else " (the kernel refused to reset the peak: process-lifetime peak)"
    goals = [
        (f"warm single letter under {GOAL_SINGLE_MS:g} ms median",
         f"{single_median:.1f} ms median, {percentile(r.single_ms, 95):.1f} ms p95",
         single_median < GOAL_SINGLE_MS),
        (f"batch of {r.letters} under {GOAL_BATCH_S:g} s", f"{batch_s:.2f} s", batch_s < GOAL_BATCH_S),
        (f"batch peak memory under {GOAL_BATCH_PEAK_MB:g} MB",
         f"process peak RSS {r.batch_peak_mb:.0f} MB (of which {r.batch_peak_mb - r.batch_base_mb:.0f} "
         f"MB above the {r.batch_base_mb:.0f} MB before it); Python allocations peak "
         f"{r.batch_traced_mb:.0f} MB", r.batch_peak_mb < GOAL_BATCH_PEAK_MB),
        (f"batch at least {GOAL_SPEEDUP:g}x faster than naive", f"{speedup:.1f}x", speedup >= GOAL_SPEEDUP),
        (f"memory growth over {GROWTH_TO} letters in one worker under {GOAL_GROWTH_MB:g} MB",
         f"{growth:+.1f} MB (RSS after {GROWTH_TO} minus after {GROWTH_FROM})", growth < GOAL_GROWTH_MB),
    ]
    for goal, value, ok in goals:
        say(f"{'PASS' if ok else 'FAIL'} {goal}: {value}")
    mix = ", ".join(f"{v} {k}" for k, v in sorted(r.mix.items()))
    lines = [
        f"Data: `portal_bench` ({data.permits:,} packets). {r.letters} letters ({mix}) of as many "
        f"decision events on decided packets (written in {r.issue_s:.1f} s), each handled with "
        "`notifications.events.handle_event` as the worker does (letter issued, rendered and "
        f"stored, the family's email queued), with a {r.logo_bytes / 1024:.0f} KiB PNG district "
        "logo, inside one transaction rolled "
        "back at the end; PDFs stored by FileSystemStorage in a temporary folder. One process, "
        "as one worker; WeasyPrint embeds fonts subset with "
        f"{'HarfBuzz' if harfbuzz_subsetting_available() else 'fontTools'}.",
        "",
        "| Measure | n | Median (ms) | p95 (ms) |",
        "|---|---:|---:|---:|",
        f"| Single letter, warm: `html_to_pdf(letter_html(letter))` | {len(r.single_ms)} | "
        f"{_stats(r.single_ms)} |",
        f"| of which `letter_html` (template and queries) | {len(r.single_html_ms)} | "
        f"{_stats(r.single_html_ms)} |",
        f"| `handle_event` (letter issued, rendered, stored; email queued), every event but the first "
        f"| {len(r.render_ms)} | {_stats(r.render_ms)} |",
        *[f"| `handle_event`, {k} | {len(v)} | {_stats(v)} |" for k, v in sorted(r.render_by.items())],
        *([f"| of which `render_letter` (render, store the PDF, save the row) | {len(r.render_only_ms)} | "
           f"{_stats(r.render_only_ms)} |"] if r.render_only_ms else []),
        f"| Naive batch: each letter laid out again | {len(r.naive_render_ms)} | "
        f"{_stats(r.naive_render_ms)} |",
        "",
        f"First event of the process (`handle_event`; font configuration and stylesheet built): "
        f"{r.cold_ms:.0f} ms. One letter: {r.single_pages} page(s), {r.single_bytes / 1024:.0f} KiB.",
        "",
        f"| Batch of {r.letters} letters into one PDF | Time (s) | Peak RSS (MB) | Above start (MB) "
        "| Output | Pages |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `reviews.batches.write_batch` (stored PDFs joined by qpdf, {CHUNK} at a time), median of "
        f"{BATCH_RUNS}: "
        f"{', '.join(f'{s:.2f}' for s in r.batch_s)} s | {batch_s:.2f} | {r.batch_peak_mb:.0f} | "
        f"{r.batch_peak_mb - r.batch_base_mb:.0f} | {r.batch_bytes / 1e6:.1f} MB | {r.batch_pages} |",
        f"| Naive: render each letter, then merge with pypdf | {r.naive_s:.2f} | {r.naive_peak_mb:.0f} "
        f"| {r.naive_peak_mb - r.naive_base_mb:.0f} | {r.naive_bytes / 1e6:.1f} MB | {r.naive_pages} |",
        "",
        f"Batch vs. naive: **{speedup:.1f}x** faster. Python allocations during `write_batch` "
        f"peak at {r.batch_traced_mb:.0f} MB (tracemalloc, a separate run); the stored PDFs "
        f"add up to {r.stored_bytes / 1e6:.1f} MB. Peak RSS is the kernel's high-water mark "
        f"(VmHWM), reset before each measured step, after `gc.collect()` and glibc's "
        f"`malloc_trim(0)`{peak_note}; \"above start\" is the peak minus the RSS just before "
        "the step (for the batch, the run of the three that rose most).",
        "",
        "Worker memory (RSS after a full `gc.collect()`) while `handle_event` ran through the "
        "events one after another:",
        "",
        "| Letters rendered | " + " | ".join(str(n) for n in r.rss_points) + " |",
        "|---|" + "---:|" * len(r.rss_points),
        "| RSS (MB) | " + " | ".join(f"{v:.1f}" for v in r.rss_points.values()) + " |",
        "",
        "| Goal | Result | |",
        "|---|---|---|",
        *[f"| {goal} | {value} | {'met' if ok else '**not met**'} |" for goal, value, ok in goals],
    ]
    return "\n".join(lines)

