"""The daily deadline sweep (`reviews.deadlines.run_daily_checks`) over 1,000,000 packets,
50,000 of them open, and over 100,000 packets (5,000 open) to show that its memory stays
flat as the table grows.

Goal (project issue): under 1 s and flat memory, with the query plans.

Each data set is in a database of its own (`bench/dataset.py`, `deadline_size`) in the
steady state of a district whose sweep ran every day up to yesterday. Three runs are
measured, each after putting the data set back into its state (`dataset.restore`):

- "fresh day": today's run, after yesterday's (the daily case);
- "second run, same day": a retry or a second beat on the same day (nothing is owed);
- "first run ever": no reminder recorded and no packet flagged yet (the most work: every
  packet in the reminder window owes every threshold it reached, every overdue packet
  is flagged).

Emails are really queued: rendered into the outbox and, on commit, published to the
Celery broker, on a Redis database of the bench's own (support.BENCH_REDIS_DB) that no
worker reads, purged at the end.
"""

from __future__ import annotations

import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from unittest import mock

from bench import dataset
from bench.common import ROOT, percentile, say

NAME = "sweep"
TITLE = "Daily deadline sweep, 1,000,000 packets (50,000 open)"

SIZES = (dataset.SWEEP, dataset.SWEEP_SMALL)  # the first is the goal's data set; the second shows memory
RUNS = 5
GOAL_MS = 1000.0
# Memory is "flat" when ten times the packets (and the open ones) take less than this
# factor on the peak: it does not follow the table.
FLAT_RATIO = 2.0

SCENARIOS = {
    "fresh": "Fresh day (yesterday's sweep ran)",
    "second": "Second run, same day",
    "cold": "First run ever (nothing recorded yet)",
}

PHASES = {
    "_remind": "Reminders (10/5/2/1 days before)",
    "_record_deemed_denials": "Deemed denials (past the legal due date)",
    "_escalate_overdue": "Overdue: escalate",
    "_abandon_expired_information_requests": "Abandon expired information requests",
    "_check_denial_notices": "Missing denial notices",
    "_track_county_appeals": "County appeals",
    "_track_internal_appeals": "Internal appeals",
    "_track_provisional_attendance": "Provisional attendance",
    "_continuations": "Continuing permits to confirm",
    "_digest": "Director digest",
}


@dataclass
class Scenario:
    key: str
    samples_ms: list[float] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)
    summary: object = None
    queries: list[tuple[str, str, float]] = field(default_factory=list)  # phase, sql, ms
    phases: dict = field(default_factory=dict)
    dispatch: dict = field(default_factory=dict)
    instrumented_ms: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def db_ms(self) -> float:
        return sum(ms for _, _, ms in self.queries)


@dataclass
class DataSetResult:
    data: object
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    memory: dict[str, dict] = field(default_factory=dict)
    plans: list[dict] = field(default_factory=list)


# --- Running the sweep ---------------------------------------------------------------


def _sweep(today):
    from reviews.deadlines import run_daily_checks

    return run_daily_checks(today=today)


def _max_outbox_id() -> int:
    from django.db.models import Max

    from outbox.models import OutboxEmail

    return OutboxEmail.objects.aggregate(m=Max("pk"))["m"] or 0


def _new_emails(since: int) -> int:
    from outbox.models import OutboxEmail

    return OutboxEmail.objects.filter(pk__gt=since).count()


def _prepare(key: str, today) -> None:
    """Put the data set into the state before the measured run of `key`."""
    if key == "cold":
        dataset.restore("cold")
    else:
        dataset.restore("steady")
        if key == "second":
            _sweep(today)  # the first run of the day; the measured one is the next


def _timed(key: str, today, runs: int) -> Scenario:
    scenario = Scenario(key)
    for _ in range(runs):
        _prepare(key, today)
        before = _max_outbox_id()
        gc.collect()
        started = time.perf_counter()
        scenario.summary = _sweep(today)
        scenario.samples_ms.append((time.perf_counter() - started) * 1000)
        scenario.emails.append(_new_emails(before))
        if key == "second":
            # Later runs on the same day are alike: run again without restoring.
            for _ in range(runs - 1):
                before = _max_outbox_id()
                gc.collect()
                started = time.perf_counter()
                _sweep(today)
                scenario.samples_ms.append((time.perf_counter() - started) * 1000)
                scenario.emails.append(_new_emails(before))
            break
    return scenario


def _instrumented(scenario: Scenario, today) -> None:
    """One more run with every query captured and the time split by step: the steps of
    run_daily_checks, the rendering of each email (queue_email) and the publishing of
    each one to the broker on commit (dispatch)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import notifications.tasks as event_tasks
    import outbox.tasks as outbox_tasks
    import reviews.deadlines as deadlines

    _prepare(scenario.key, today)
    stats = defaultdict(lambda: {"ms": 0.0, "queries": 0, "db_ms": 0.0, "queued": 0, "refused": 0,
                                 "render_ms": 0.0, "refused_ms": 0.0})
    dispatch = {"calls": 0, "ms": 0.0}
    current = ["other"]
    bounds: list[tuple[int, str]] = []  # (index of the first query, phase)

    def phase(name, function):
        def wrapper(*args, **kwargs):
            previous = current[0]
            current[0] = name
            bounds.append((len(connection.queries_log), name))
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                stats[name]["ms"] += (time.perf_counter() - started) * 1000
                current[0] = previous
                bounds.append((len(connection.queries_log), previous))
        return wrapper

    def counted_queue_email(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            email = function(*args, **kwargs)
            st = stats[current[0]]
            ms = (time.perf_counter() - started) * 1000
            st["render_ms"] += ms
            st["queued" if email is not None else "refused"] += 1
            if email is None:
                st["refused_ms"] += ms
            return email
        return wrapper

    original_hand_to_worker = outbox_tasks.hand_to_worker

    def timed_dispatch(task, row_id, what):
        started = time.perf_counter()
        try:
            return original_hand_to_worker(task, row_id, what)
        finally:
            dispatch["calls"] += 1
            dispatch["ms"] += (time.perf_counter() - started) * 1000

    with ExitStack() as stack:
        for name in PHASES:
            wrapped = phase(name, getattr(deadlines, name))
            stack.enter_context(mock.patch.object(deadlines, name, wrapped))
        # Staff emails are queued by the check itself; the family's (abandonment) by the
        # worker that handles the event, after the check: only its hand-off is timed here.
        wrapped = counted_queue_email(deadlines.queue_email)
        stack.enter_context(mock.patch.object(deadlines, "queue_email", wrapped))
        for module in (outbox_tasks, event_tasks):
            stack.enter_context(mock.patch.object(module, "hand_to_worker", timed_dispatch))
        connection.queries_log.clear()  # so that indexes into it are the captured ones
        ctx = stack.enter_context(CaptureQueriesContext(connection))
        started = time.perf_counter()
        _sweep(today)
        scenario.instrumented_ms = (time.perf_counter() - started) * 1000
    captured = ctx.captured_queries
    if len(captured) >= connection.queries_limit:
        raise RuntimeError(f"more than {connection.queries_limit} queries: the log overflowed")
    # Attribute each query to the step that ran it.
    labels = ["other"] * len(captured)
    ends = bounds[1:] + [(len(captured), None)]
    for (start, name), (end, _) in zip(bounds, ends, strict=True):
        for i in range(start, min(end, len(captured))):
            labels[i] = name
    scenario.queries = [
        (labels[i], q["sql"], float(q["time"]) * 1000) for i, q in enumerate(captured)
    ]
    for name, _sql, ms in scenario.queries:
        stats[name]["queries"] += 1
        stats[name]["db_ms"] += ms
    scenario.phases = dict(stats)
    scenario.dispatch = dispatch


# --- Plans -----------------------------------------------------------------------------


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def _shape(sql: str) -> str:
    """The statement without its values, for grouping."""
    if sql.lstrip().upper().startswith(TRANSACTION_CONTROL):
        return "transaction control"
    if sql.lstrip().upper().startswith("INSERT"):
        return sql.split("(", 1)[0]  # INSERT INTO "table"
    return re.sub(r"'[^']*'|\b\d+\b", "?", re.sub(r"IN \([^()]*\)", "IN (...)", sql))


def _short(sql: str, keep: int = 8) -> str:
    """The statement with long IN lists cut, for printing."""
    def cut(m):
        items = m.group(1).split(", ")
        if len(items) <= keep:
            return m.group(0)
        return f"IN ({', '.join(items[:keep])}, ... {len(items) - keep:,} more)"
    return re.sub(r"IN \(([^()]*)\)", cut, sql)


def _describe(phase: str, sql: str) -> str:
    """A short name for a statement of the sweep."""
    s = sql.upper()
    if _shape(sql) == "transaction control":
        return "BEGIN / SAVEPOINT / RELEASE / ROLLBACK TO / COMMIT"
    if s.startswith("SELECT") and 'FROM "PERMITS_DISTRICT"' in s:
        return ("district, for an email's template (emails.render)" if "LIMIT 1" in s
                and "LIMIT 21" not in s else "district (District.current)")
    if phase == "_remind":
        if s.startswith("SELECT") and 'FROM "APPLICANTS_STUDENT"' in s:
            return "student of one packet (a field left out by .only(), loaded on access)"
        if "DEADLINEREMINDER" in s and s.startswith("SELECT"):
            return "reminders already sent (permit IN window)"
        if "STAFFROLE" in s:
            return "technicians"
        if '"PERMITS_PERMIT"."DUE_DATE" >=' in s and "INNER JOIN" in s:
            return "reminder window (open, due in [day, day+10])"
    if phase == "_escalate_overdue":
        if s.startswith("UPDATE"):
            return "overdue: flag deemed-denial risk (UPDATE)"
        if "COUNT(" in s:
            return "overdue: count"
        if "LIMIT 500" in s:
            return "overdue: first 500 by due date"
    if phase == "_abandon_expired_information_requests":
        if "FOR UPDATE" in s:
            return "abandon: lock packet (per packet)"
        if "INFO_DUE_DATE" in s:
            return "abandon: expired information requests"
    if phase == "_check_denial_notices" and "PERMITS_PERMIT" in s:
        return "denials of the last 60 days without a sent notice"
    if phase == "_track_county_appeals" and _appeal_table() in s:
        return "pending county appeals due within 5 days"
    if phase == "_digest" and "COUNT(" in s:
        for marker, name in (('"DECIDED_AT"', "digest: decided yesterday"),
                             ("DENIAL_RECOMMENDED_AT", "digest: denials to confirm"),
                             ('"DUE_DATE" >=', "digest: due within 5 days"),
                             ('"DUE_DATE" <', "digest: overdue"),
                             ("PERMITS_PERMIT", "digest: open")):
            if marker in s:
                return name
    table = re.search(r'(?:FROM|UPDATE|INTO) "(\w+)"', sql)
    verb = s.split(None, 1)[0].lower() if s else "?"
    return f"{verb} {table.group(1) if table else ''}".strip()


def _appeal_table() -> str:
    from permits.models import Appeal

    return f'"{Appeal._meta.db_table.upper()}"'


def _access(plan: str) -> str:
    """The scans of a plan, e.g. 'Index Scan open_permits_by_due_date; Seq Scan permits_permit'."""
    found = []
    for line in plan.splitlines():
        m = re.search(r"((?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan))"
                      r"(?: Backward)?(?: using (\S+))? on (\S+)", line)
        if m:
            kind, index, target = m.groups()
            found.append(f"{kind} `{index or target}`" if kind != "Seq Scan" and
                         not kind.endswith("Seq Scan") else f"{kind} `{target}`")
    seen = []
    for f in found:
        if f not in seen:
            seen.append(f)
    return "; ".join(seen)


def _execution_ms(plan: str) -> float:
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else float("nan")


def _plans(scenario: Scenario, today) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct statement of the run, in the state
    before the run (an UPDATE is rolled back)."""
    from django.db import transaction

    from bench.common import explain

    _prepare(scenario.key, today)
    groups: dict[tuple[str, str], dict] = {}
    for phase, sql, ms in scenario.queries:
        if _shape(sql) == "transaction control":
            phase = "all steps"
        key = (phase, _shape(sql))
        group = groups.setdefault(key, {"phase": phase, "sql": sql, "calls": 0, "ms": 0.0})
        group["calls"] += 1
        group["ms"] += ms
    plans = []
    for group in groups.values():
        sql = group["sql"]
        verb = sql.lstrip().split(None, 1)[0].upper()
        group["name"] = _describe(group["phase"], sql)
        if verb in ("SELECT", "UPDATE") and _shape(sql) != "transaction control":
            with transaction.atomic():
                group["plan"] = explain(sql)
                transaction.set_rollback(True)
            group["access"] = _access(group["plan"])
            group["exec_ms"] = _execution_ms(group["plan"])
        plans.append(group)
    return plans


# --- Memory, in a fresh process per data set ----------------------------------------


def _memory(size: dataset.Size, mode_key: str) -> dict:
    """Peak memory of one sweep, measured in a fresh process (so that what the timed
    runs left allocated does not hide or inflate it)."""
    from bench import support
    from devtools.live import database_url

    env = {
        **os.environ,
        "DATABASE_URL": database_url(size.database),
        "REDIS_URL": support.bench_redis_url(),
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.deadline_sweep", "--memory", mode_key],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"memory probe failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _memory_probe(key: str) -> dict:
    """In the child: a warm-up sweep (imports, template compilation, broker connection),
    then one sweep with the RSS high-water mark reset before it, then one under
    tracemalloc. Leaves the data set in its steady state."""
    import tracemalloc

    import django

    django.setup()
    from bench import support
    today = dataset.local_today()
    _prepare(key, today)
    _sweep(today)
    _prepare(key, today)
    gc.collect()
    reset = support.reset_peak_rss()
    before = support.rss_kib()
    _sweep(today)
    peak = support.peak_rss_kib()
    _prepare(key, today)
    gc.collect()
    tracemalloc.start()
    _sweep(today)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dataset.restore("steady")
    return {"rss_before_kib": before, "rss_peak_kib": peak, "rss_growth_kib": peak - before,
            "hwm_reset": reset, "traced_peak_bytes": traced_peak}


# --- The benchmark -------------------------------------------------------------------


def run(options) -> str:
    import logging

    from bench import support

    runs = options.runs or RUNS
    # One INFO line per sweep from reviews.deadlines would drown the bench's own output.
    logging.getLogger("reviews.deadlines").setLevel(logging.WARNING)
    results: dict[int, DataSetResult] = {}
    with support.private_broker():
        for size in SIZES:
            with support.use_database(size.database):
                data = dataset.ensure(size, reseed=options.reseed)
                say(f"{data.database}: {data.permits:,} packets, {data.open_permits:,} open, "
                    f"today {data.today}")
                result = results[size] = DataSetResult(data)
                _prepare("fresh", data.today)
                _sweep(data.today)  # warm-up: templates, broker connection
                keys = list(SCENARIOS) if size == SIZES[0] else ["fresh", "cold"]
                for key in keys:
                    scenario = _timed(key, data.today, runs)
                    _instrumented(scenario, data.today)
                    result.scenarios[key] = scenario
                    say(f"{size.permits:>9,} {SCENARIOS[key]:<40} median {scenario.median:7.0f} ms  "
                        f"p95 {scenario.p95:7.0f} ms  {len(scenario.queries)} queries "
                        f"({scenario.db_ms:.0f} ms in the database), "
                        f"{statistics.median(scenario.emails):.0f} emails")
                if size == SIZES[0]:
                    result.plans = _plans(result.scenarios["fresh"], data.today)
                dataset.restore("steady")
            for key in ("fresh", "cold"):
                memory = result.memory[key] = _memory(size, key)
                say(f"{size.permits:>9,} memory, {SCENARIOS[key]}: tracemalloc peak "
                    f"{memory['traced_peak_bytes'] / 2**20:.1f} MiB, RSS +"
                    f"{memory['rss_growth_kib'] / 1024:.1f} MiB")
    return _report(results, runs)


# --- Report --------------------------------------------------------------------------


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f}"


def _label(data) -> str:
    return f"{data.permits:,} packets ({data.open_permits:,} open)"


def _report(results: dict[int, DataSetResult], runs: int) -> str:
    big, small = results[SIZES[0]], results[SIZES[1]]
    lines = []
    seeds = ", ".join(
        f"`{r.data.database}` " + (f"seeded in {r.data.seconds:.0f} s" if r.data.seeded
                                   else "already seeded today")
        for r in results.values()
    )
    lines += [
        f"Data: {seeds} (`bench/dataset.py`, `deadline_size`: ten school years of packets, the open ones due "
        "from 180 days ago to 180 days ahead, 12 technicians and 2 directors). Wall time of "
        "`run_daily_checks(today=...)` in-process, from the call to its return (the commit "
        "and the publishing of every email to the broker included), after restoring the "
        f"data set's state before each run; {runs} runs per line after one warm-up. Queries, "
        "database time and the breakdown come from one more run with every query captured "
        "(`CaptureQueriesContext`, so that run is a little slower).",
        "",
        "| Data set | Run | Median (ms) | p95 (ms) | Queries | DB time (ms) | Emails queued |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results.values():
        for key, s in result.scenarios.items():
            lines.append(
                f"| {_label(result.data)} | {SCENARIOS[key]} | {s.median:.0f} | {s.p95:.0f} "
                f"| {len(s.queries)} | {s.db_ms:.0f} | {statistics.median(s.emails):.0f} |"
            )
    lines += [
        "",
        "What each run did (`CheckSummary`; emails: outbox rows written; the family's email of an "
        "abandoned packet is queued later by the worker that handles its event):",
        "",
        "| Data set | Run | Reminders recorded | Overdue | Abandoned | Missing denial notices "
        "| County alerts | Staff emails |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results.values():
        for key, s in result.scenarios.items():
            m = s.summary
            lines.append(
                f"| {_label(result.data)} | {SCENARIOS[key]} | {m.reminders:,} | {m.overdue:,} "
                f"| {m.abandoned} | {m.missing_denial_notices} | {m.county_alerts} | {m.emails} |"
            )

    fresh = big.scenarios["fresh"]
    goals = [
        (f"fresh day under {GOAL_MS / 1000:g} s at {SIZES[0].permits:,} packets (p95)",
         f"{fresh.median:.0f} ms median, {fresh.p95:.0f} ms p95", fresh.p95 < GOAL_MS),
    ]
    for key in ("fresh", "cold"):
        a, b = big.memory[key], small.memory[key]
        traced = a["traced_peak_bytes"] / b["traced_peak_bytes"]
        rss = max(a["rss_growth_kib"], 1) / max(b["rss_growth_kib"], 1)
        goals.append((
            f"flat memory, {SCENARIOS[key].lower()}: 10x the packets, less than "
            f"{FLAT_RATIO:g}x the peak",
            f"tracemalloc peak {_mib(a['traced_peak_bytes'])} vs "
            f"{_mib(b['traced_peak_bytes'])} MiB "
            f"({traced:.1f}x); RSS growth {a['rss_growth_kib'] / 1024:.1f} vs "
            f"{b['rss_growth_kib'] / 1024:.1f} MiB ({rss:.1f}x)",
            traced < FLAT_RATIO and rss < FLAT_RATIO,
        ))
    lines += [
        "",
        "| Goal | Result | |",
        "|---|---|---|",
        *[f"| {goal} | {value} | {'met' if ok else '**not met**'} |" for goal, value, ok in goals],
        "",
        "### Memory",
        "",
        "One sweep in a fresh process per data set (`python -m bench.deadline_sweep --memory`), "
        "after a warm-up sweep: the peak of Python allocations under `tracemalloc`, and the "
        "growth of the resident set during the sweep: the kernel's high-water mark (VmHWM, "
        "what `getrusage().ru_maxrss` reports), reset just before the sweep, minus the RSS at "
        "its start. (In a child process `ru_maxrss` itself still holds the parent's peak, "
        "inherited through vfork/exec.)",
        "",
        "| Data set | Run | tracemalloc peak (MiB) | RSS at start (MiB) | RSS growth (MiB) |",
        "|---|---|---:|---:|---:|",
    ]
    for result in results.values():
        for key, m in result.memory.items():
            lines.append(
                f"| {_label(result.data)} | {SCENARIOS[key]} | {_mib(m['traced_peak_bytes'])} "
                f"| {m['rss_before_kib'] / 1024:.0f} | {m['rss_growth_kib'] / 1024:.1f} |"
            )
    if not all(m["hwm_reset"] for r in results.values() for m in r.memory.values()):
        lines += ["", "(The high-water mark could not be reset: RSS growth is from process start.)"]

    for key in ("fresh", "cold"):
        lines += ["", f"### Where the time goes: {_label(big.data)}, {SCENARIOS[key].lower()}", ""]
        lines += _breakdown(big.scenarios[key])

    lines += _plans_report(big)
    return "\n".join(lines)


def _breakdown(s: Scenario) -> list[str]:
    lines = [
        f"Instrumented run: {s.instrumented_ms:.0f} ms. *Emails* are `queue_email` calls: "
        "queued, or refused because the same key was queued before (rendered all the same); "
        "*rendering* is the time in `queue_email` (three templates and the outbox insert).",
        "",
        "| Step | Wall (ms) | Queries | DB time (ms) | Emails queued | Emails refused | "
        "Rendering + insert (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    accounted = 0.0
    for name, label in PHASES.items():
        st = s.phases.get(name)
        if not st:
            continue
        accounted += st["ms"]
        lines.append(f"| {label} | {st['ms']:.0f} | {st['queries']} | {st['db_ms']:.0f} | "
                     f"{st['queued']} | {st['refused']} | {st['render_ms']:.0f} |")
    other = s.phases.get("other", {"queries": 0, "db_ms": 0.0})
    lines.append(f"| Publishing to the broker on commit (`dispatch`, {s.dispatch['calls']} calls) "
                 f"| {s.dispatch['ms']:.0f} | | | | | |")
    lines.append(f"| Other (district, run lock, staff, commit) "
                 f"| {s.instrumented_ms - accounted - s.dispatch['ms']:.0f} | {other['queries']} "
                 f"| {other['db_ms']:.0f} | | | |")
    emails = sum(st["render_ms"] for st in s.phases.values()) + s.dispatch["ms"]
    lines += ["", f"Emails (rendering, outbox inserts, publishing) take {emails:.0f} of "
              f"{s.instrumented_ms:.0f} ms ({emails / s.instrumented_ms * 100:.0f}%)."]
    return lines


MAIN_PLANS = (
    "reminder window (open, due in [day, day+10])",
    "reminders already sent (permit IN window)",
    "overdue: flag deemed-denial risk (UPDATE)",
    "overdue: first 500 by due date",
    "overdue: count",
)


def _observations(result: DataSetResult) -> list[str]:
    """What the measurements of the fresh-day run show, read from them."""
    plans, fresh = result.plans, result.scenarios["fresh"]
    notes = []
    seq = [p for p in plans if "Seq Scan `permits_permit`" in p.get("access", "")]
    if seq:
        notes.append("Sequential scans of `permits_permit`, the whole table read every day: "
                     + "; ".join(f"{p['name']} ({p['exec_ms']:.0f} ms)" for p in seq) + ".")
    repeated = [p for p in plans if p["calls"] >= 50 and p["name"].startswith(
        ("select", "student", "district", "guardians"))]
    if repeated:
        notes.append("Reads repeated once per packet or per email: " + "; ".join(
            f"{p['name']} ({p['calls']} times, {PHASES.get(p['phase'], p['phase']).split(' (')[0]})"
            for p in sorted(repeated, key=lambda p: -p["calls"])) + ".")
    refused = sum(st["refused"] for st in fresh.phases.values())
    if refused:
        ms = sum(st["refused_ms"] for st in fresh.phases.values())
        notes.append(f"{refused} emails rendered in full, then refused because their key was "
                     f"queued on an earlier day ({ms:.0f} ms).")
    emails = sum(st["render_ms"] for st in fresh.phases.values()) + fresh.dispatch["ms"]
    notes.append(f"Emails (rendering, outbox inserts, publishing): {emails:.0f} of "
                 f"{fresh.instrumented_ms:.0f} ms of the instrumented fresh-day run.")
    return ["", "### Observations (fresh day, " + _label(result.data) + ")", "",
            *[f"- {n}" for n in notes]]


def _plans_report(result: DataSetResult) -> list[str]:
    plans = result.plans
    lines = [
        *_observations(result),
        "",
        f"### Statements of a fresh-day run, {_label(result.data)}",
        "",
        "Each distinct statement (same text but for the values) with its calls and database "
        "time in the instrumented run, and the scans of its `EXPLAIN (ANALYZE, BUFFERS)` plan, "
        "taken in the state before the run (UPDATEs rolled back; no plans for INSERTs). "
        "The plans of the main queries follow the table.",
        "",
        "| Step | Statement | Calls | DB time (ms) | Scans | Execution, once (ms) |",
        "|---|---|---:|---:|---|---:|",
    ]
    for p in sorted(plans, key=lambda p: -p["ms"]):
        step = PHASES.get(p["phase"], p["phase"]).split(" (")[0]
        execution = f"{p['exec_ms']:.2f}" if "exec_ms" in p else "—"
        lines.append(f"| {step} | {p['name']} | {p['calls']} | {p['ms']:.1f} | "
                     f"{p.get('access') or '—'} | {execution} |")
    seq = [p for p in plans if "Seq Scan `permits_permit`" in p.get("access", "")]
    shown = [p for name in MAIN_PLANS for p in plans if p["name"] == name] + seq
    for p in shown:
        lines += ["", f"#### {p['name']}", "", "```sql", _short(p["sql"]), "```", "",
                  "```", p["plan"], "```"]
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        print(json.dumps(_memory_probe(sys.argv[2])))
    else:
        sys.exit("usage: python -m bench.deadline_sweep --memory fresh|cold  (see bench/run.py)")
