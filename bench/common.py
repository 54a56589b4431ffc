"""What every benchmark shares: the bench database, Django, timing, plans and the report."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
BENCH_DB = "portal_bench"
SECRET_KEY = "bench-only-secret-key-not-for-any-real-deployment"
ALLOWED_HOSTS = "testserver,localhost,127.0.0.1"

LOAD_AT_START = os.getloadavg()
WARMUP = 3
RUNS = 30


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


# --- Environment and database ------------------------------------------------


def bench_database_url(url: str) -> str:
    """The same server and credentials as `url`, but the portal_bench database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + BENCH_DB))


def configure_environment() -> str:
    """Point Django at portal_bench with production settings; return the database URL."""
    source = os.environ.get("DATABASE_URL")
    if not source:
        raise SystemExit(
            "bench: DATABASE_URL is not set; run `make bench` "
            "(python3 scripts/services.py exec -- .venv/bin/python bench/run.py)"
        )
    url = bench_database_url(source)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=url,
        DJANGO_ALLOWED_HOSTS=ALLOWED_HOSTS,
        # Production settings: DEBUG would record every query and slow every request.
        DJANGO_DEBUG="false",
    )
    return url


def ensure_database(url: str) -> None:
    import psycopg2

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    conn = psycopg2.connect(admin_url, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,))
            if cur.fetchone() is None:
                say(f"creating database {BENCH_DB}")
                cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        conn.close()


def setup_django() -> None:
    """django.setup(), migrations, and static files served without a collected manifest."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    # As in the test suite: `{% static %}` reads the source folders, so no collectstatic
    # manifest is needed. (In production it is one dictionary lookup either way.)
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    say(f"migrations applied ({time.perf_counter() - started:.1f} s)")


# --- Measuring ----------------------------------------------------------------


@dataclass
class Timing:
    label: str
    url: str
    samples_ms: list[float]
    queries: list[str] = field(default_factory=list)
    note: str = ""
    db_ms: float = 0.0  # database time of the counted request, as Django measures it

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def query_count(self) -> int:
        return len(self.queries)


def percentile(samples: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure(
    client,
    label: str,
    url: str,
    *,
    runs: int = RUNS,
    warmup: int = WARMUP,
    check: Callable | None = None,
    note: str = "",
) -> Timing:
    """Server time of GET `url` in-process: warm-ups, one request with its queries
    captured (not timed), then `runs` timed requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{label}: GET {url} answered {response.status_code}")
        return response

    for _ in range(warmup):
        get()
    with CaptureQueriesContext(connection) as ctx:
        response = get()
    # Now: the next request clears the connection's query log.
    queries = [q["sql"] for q in ctx.captured_queries]
    db_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    if check is not None:
        check(response)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        get()
        samples.append((time.perf_counter() - started) * 1000)
    timing = Timing(label, url, samples, queries, note, db_ms)
    say(
        f"{label:<30} median {timing.median:7.1f} ms  p95 {timing.p95:7.1f} ms  "
        f"{timing.query_count} queries ({db_ms:.0f} ms in the database)"
    )
    return timing


def explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured (already interpolated) statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Reporting ----------------------------------------------------------------


def machine() -> dict[str, str]:
    from django import get_version
    from django.db import connection

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "CPUs (`nproc`)": str(len(os.sched_getaffinity(0))),
        "CPU model": cpu,
        "RAM": ram,
        "Python": platform.python_version(),
        "PostgreSQL": pg,
        "Django": get_version(),
        # Other work on the machine skews the timings: recorded, not controlled.
        "Load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in LOAD_AT_START),
    }


def command_line() -> str:
    argv = [os.path.relpath(sys.executable, ROOT), os.path.relpath(sys.argv[0], ROOT)]
    command = " ".join(argv + sys.argv[1:])
    if os.environ.get("MAKELEVEL"):
        return f"make bench  (python3 scripts/services.py exec -- {command})"
    return f"python3 scripts/services.py exec -- {command}"


def run_header(started: datetime) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in machine().items())
    return (
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{command_line()}`.\n\n"
        f"| Machine | |\n|---|---|\n{rows}\n"
    )


def table(timings: list[Timing]) -> str:
    lines = [
        "| Page | URL | Median (ms) | p95 (ms) | Queries | DB time, 1 request (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in timings:
        label = f"{t.label} ({t.note})" if t.note else t.label
        lines.append(
            f"| {label} | `{t.url}` | {t.median:.1f} | {t.p95:.1f} | {t.query_count} "
            f"| {t.db_ms:.0f} |"
        )
    return "\n".join(lines) + "\n"


RESULTS_INTRO = """# Benchmark results

Written by `bench/run.py` (see `bench/README.md`). Each benchmark's section is replaced
when it runs again; the others are kept.
"""


def update_results(name: str, section: str) -> None:
    """Replace (or append) the section of benchmark `name` in bench/results.md."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{section.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else RESULTS_INTRO
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block
    RESULTS.write_text(text.rstrip() + "\n")
