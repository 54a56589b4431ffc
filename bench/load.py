"""A load test on loopback: 200 concurrent users, parents and staff, against gunicorn with
the Celery worker running, driven by locust in a second process.

Goal (project issue): on this 2-core machine, p95 under 250 ms and no errors.

The servers are the production ones with the production settings (DEBUG off,
config.settings through bench/load_settings.py, which only moves STATIC_ROOT to a
temporary folder filled by `collectstatic`): `gunicorn config.wsgi` as the Dockerfile
runs it (sync workers, WEB_CONCURRENCY=3, --timeout 60) and `celery -A config worker -l
info`, which renders the approvals' letters and sends their emails (to files). They
work on portal_bench_load, a copy of portal_bench (bench/dataset.py, 100,000 packets)
made for the run (CREATE DATABASE ... TEMPLATE) and dropped afterwards, so the
approvals and uploads never change the other benchmarks' data; Celery messages and the
cache go to Redis database BENCH_LOAD_REDIS_DB (13), which must be empty and is
emptied again; uploads, letters and emails go to a temporary folder, removed.

Users (bench/locustfile.py) sign in through the real forms, staff with a recovery code
of a django-otp static device made for them, then work with a think time of 1 to 5 s
between requests. The figures count the requests *started* in the 60 s after the last
user signed in; the sign-ins are reported on their own. A second run with 100 users
follows on the same servers (BENCH_LOAD_USERS=200,100), for the load a 2-core machine
carries within the goal. Everything is stopped at the end (process groups), also on
failure.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import ROOT, SECRET_KEY, percentile, say
from devtools.live import Process, Worker, database_url, free_port

NAME = "load"
TITLE = "Load test: 200 users on gunicorn and the Celery worker, locust over loopback"

DATABASE = "portal_bench_load"
SOURCE_DATABASE = "portal_bench"
REDIS_DB = int(os.environ.get("BENCH_LOAD_REDIS_DB", "13"))
# One locust run per step, one after the other on the same servers: the goal's 200
# users, then half as many to show the load one 2-core machine carries within it.
STEPS = [int(n) for n in os.environ.get("BENCH_LOAD_USERS", "200,100").split(",")]
USERS = STEPS[0]
PARENT_SHARE = 0.8  # 160 parents and 40 staff of 200 users
PARENTS = round(max(STEPS) * PARENT_SHARE)
STAFF = max(STEPS) - PARENTS
SPAWN_RATE = 5  # users per second; each signs in as it starts (Argon2: ~0.1 s of 2 cores)
THINK_S = (1, 5)
WINDOW_S = 60
MAX_SECONDS = 150  # the whole locust run, sign-ins included
APPROVALS_PER_STAFF = 12
REVIEW_PACKETS = 2000
# The Dockerfile's command; WEB_CONCURRENCY=3 as in deploy/env.example and compose.
# BENCH_GUNICORN_ARGS replaces them, e.g. "--workers 4 --threads 2" (to compare).
GUNICORN = os.environ.get("BENCH_GUNICORN_ARGS", "--workers 3 --timeout 60 --worker-tmp-dir /dev/shm").split()
# Each line: when the response ended, the request line, status, duration in microseconds.
ACCESS_FORMAT = '%(t)s "%(r)s" %(s)s %(D)s'
# Which locust name a logged request belongs to.
ROUTES = [
    ("GET", r"/family/", "parent: dashboard"),
    ("GET", r"/family/permits/\d+/", "parent: packet page"),
    ("GET", r"/family/permits/\d+/documents/", "parent: documents form"),
    ("POST", r"/family/permits/\d+/documents/", "parent: upload (POST)"),
    ("GET", r"/staff/", "staff: queue"),
    ("GET", r"/staff/\?after=.*", "staff: queue, next page"),
    ("GET", r"/staff/permits/\d+/", "staff: review page"),
    ("POST", r"/staff/permits/\d+/approve/", "staff: approve (POST)"),
]
GOAL_P95_MS = 250.0
OTHER_WORK_LIMIT = 0.05  # of the machine: above it, the report says the run was disturbed
VENV_BIN = ROOT / ".venv" / "bin"


def _proc_ticks() -> dict[int, tuple[int, int, str]]:
    """pid -> (process group, user + system clock ticks, command name) of every process."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        close = data.rindex(")")
        fields = data[close + 2:].split()
        out[int(entry.name)] = (int(fields[2]), int(fields[11]) + int(fields[12]),
                                data[data.index("(") + 1:close])
    return out


class CpuSampler:
    """Where the machine's CPU time goes during a locust run: every process's clock ticks
    and every PostgreSQL backend's database, sampled every second in a thread (so that
    processes which end during the run, such as backends replaced after CONN_MAX_AGE,
    still count with what they had used)."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.first: dict[int, int] = {}
        self.last: dict[int, tuple[int, int, str]] = {}
        self.databases: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> CpuSampler:
        self.first = {pid: ticks for pid, (_, ticks, _) in _proc_ticks().items()}
        self._conn = _admin_connection()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self._conn.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        self.last.update(_proc_ticks())
        with self._conn.cursor() as cur:
            cur.execute("SELECT pid, datname FROM pg_stat_activity WHERE datname IS NOT NULL")
            self.databases.update(cur.fetchall())

    def split(self, groups: set[int]) -> dict[str, float]:
        """CPU-seconds of the bench's processes (its servers and locust, their database
        backends, this process), of the PostgreSQL and Redis servers' own processes, and
        of everything else on the machine."""
        tick = os.sysconf("SC_CLK_TCK")
        split = {"ours": 0.0, "services": 0.0, "other": 0.0}
        for pid, (group, ticks, name) in self.last.items():
            seconds = (ticks - self.first.get(pid, 0)) / tick
            if group in groups or pid == os.getpid() or self.databases.get(pid) == DATABASE:
                split["ours"] += seconds
            elif pid not in self.databases and name.startswith(("postgres", "redis")):
                split["services"] += seconds
            else:
                split["other"] += seconds
        return split


def _cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


# --- The database copy, the Redis database ----------------------------------------------


def _admin_connection():
    import psycopg2
    from django.db import connection

    s = connection.settings_dict
    conn = psycopg2.connect(dbname="postgres", user=s["USER"], password=s["PASSWORD"] or None,
                            host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, connect_timeout=5)
    conn.autocommit = True
    return conn


def _drop_copy(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _copy_database() -> float:
    """portal_bench_load as a file copy of portal_bench (which nobody may be using)."""
    import psycopg2
    from django.db import connections

    for conn in connections.all():
        conn.close()
    started = time.perf_counter()
    admin = _admin_connection()
    try:
        _drop_copy(admin)
        for attempt in range(40):
            try:
                with admin.cursor() as cur:
                    cur.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{SOURCE_DATABASE}" '
                                "STRATEGY FILE_COPY")
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == 39:
                    raise
                time.sleep(0.5)  # autovacuum, or a benchmark that just closed its connection
    finally:
        admin.close()
    return time.perf_counter() - started


def _redis():
    """The load test's own Redis database (broker and cache of its servers)."""
    import redis
    from django.conf import settings

    url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{REDIS_DB}"))
    if url == settings.REDIS_URL:
        raise SystemExit(f"bench: BENCH_LOAD_REDIS_DB={REDIS_DB} is the portal's own Redis database")
    return url, redis.Redis.from_url(url, socket_timeout=5)


# --- Preparing the copy ------------------------------------------------------------------


def _prepare(workdir: Path) -> dict:
    """Passwords, staff with a second factor, packets to approve; the plan for locust."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.db.models import Exists, F, OuterRef, Q
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from applicants.models import User
    from demo.samples import sample_pdf
    from permits.models import Document, Permit, PermitKind, SeatAllocation
    from permits.selectors import checklist
    from reviews.models import Role, StaffRole

    password = "bench-load-" + secrets.token_hex(8)
    hashed = make_password(password)  # one Argon2 hash, valid for every bench account
    rng = random.Random(7)
    with transaction.atomic(), connection.cursor() as cursor:
        # Parents: guardians of families with a draft packet and a submitted (or decided) one.
        cursor.execute(
            "SELECT d.family_id, min(d.id),"
            " (SELECT min(o.id) FROM permits_permit o WHERE o.family_id = d.family_id"
            "  AND o.status <> 'draft')"
            " FROM permits_permit d WHERE d.status = 'draft' GROUP BY d.family_id"
            " ORDER BY d.family_id LIMIT %s", [PARENTS * 3])
        candidates = [row for row in cursor.fetchall() if row[2] is not None]
        drafts = Permit.objects.in_bulk([row[1] for row in candidates])
        parents = []
        for family_id, draft_id, packet_id in candidates:
            items = checklist(drafts[draft_id])
            if not items:
                continue
            guardian = User.objects.get(family_id=family_id)
            parents.append({"email": guardian.email, "user": guardian.pk, "draft": draft_id,
                            "packet": packet_id, "document_type": items[0].document_type.pk})
            if len(parents) == PARENTS:
                break
        if len(parents) < PARENTS:
            raise RuntimeError(f"only {len(parents)} families with a draft and a submitted packet")
        User.objects.filter(pk__in=[p.pop("user") for p in parents]).update(password=hashed)

        # Staff: technicians with a static device (recovery codes) for the second factor.
        staff = []
        for i in range(STAFF):
            user = User.objects.create(email=f"bench-load-tech{i}@district.example", password=hashed,
                                       is_staff=True, first_name=f"Load{i}", last_name="Technician")
            StaffRole.objects.create(user=user, role=Role.TECHNICIAN)
            device = StaticDevice.objects.create(user=user, name="recovery")
            codes = [StaticToken.random_token() for _ in STEPS]  # one sign-in per step
            StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
            staff.append({"email": user.email, "codes": codes, "approve": [[] for _ in STEPS]})

        # Packets to approve: open, every required document there and verified, release in,
        # and a seat allocation for the requested school and grade (capacity raised), so
        # that approvals mostly succeed; the others are refused with a message.
        seat = SeatAllocation.objects.filter(school=OuterRef("requested_school"),
                                             school_year=OuterRef("school_year"), grade=OuterRef("grade"))
        open_qs = Permit.objects.filter(
            Q(kind=PermitKind.INTER_OUT) | Exists(seat),  # no seat needed, or seats offered
            status__in=[Permit.Status.SUBMITTED, Permit.Status.UNDER_REVIEW], denial_recommended_at=None,
        ).exclude(kind=PermitKind.INTER_IN, release_pending=True)
        ids = list(open_qs.order_by("pk").values_list("pk", flat=True))
        chosen = rng.sample(ids, STAFF * APPROVALS_PER_STAFF * len(STEPS))
        Document.objects.filter(permit_id__in=chosen).update(review=Document.Review.VERIFIED)
        extra = []
        for permit in Permit.objects.filter(pk__in=chosen).select_related("student", "reason"):
            for item in checklist(permit):
                if not item.documents:
                    extra.append(Document(
                        permit=permit, document_type=item.document_type,
                        file=f"documents/{permit.pk}/bench.pdf", original_name="document.pdf",
                        content_type="application/pdf", size=50_000, sha256="0" * 64,
                        uploaded_by_id=permit.created_by_id, review=Document.Review.VERIFIED))
        Document.objects.bulk_create(extra)
        SeatAllocation.objects.update(capacity=F("capacity") + 5000)
        for n, pk in enumerate(chosen):
            staff[n % STAFF]["approve"][n // (STAFF * APPROVALS_PER_STAFF)].append(pk)
        review = rng.sample(list(Permit.objects.filter(status__in=Permit.OPEN_STATUSES)
                                 .values_list("pk", flat=True)), REVIEW_PACKETS)
    upload = workdir / "scan.pdf"
    upload.write_bytes(sample_pdf("Proof of residence"))
    return {
        "password": password, "parent_accounts": parents, "staff_accounts": staff, "review_packets": review,
        "think_s": list(THINK_S), "window_s": WINDOW_S, "spawn_rate": SPAWN_RATE,
        "max_seconds": int(os.environ.get("BENCH_LOAD_MAX_SECONDS", MAX_SECONDS)),
        "upload_file": str(upload), "approvals_per_staff": APPROVALS_PER_STAFF,
    }


# --- Running -----------------------------------------------------------------------------


@dataclass
class Step:
    users: int
    parents: int
    staff: int
    out: dict = field(default_factory=dict)  # locust's state and samples
    seconds: float = 0.0  # the locust run
    exit_code: int | None = None
    machine_busy: float = 0.0  # share of both cores busy during the locust run
    locust_cpu_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # ours / services / other, CPU-seconds
    access: list[tuple[float, str, float]] = field(default_factory=list)


@dataclass
class Run:
    plan: dict
    steps: list[Step] = field(default_factory=list)
    copy_s: float = 0.0
    collectstatic_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    gunicorn_errors: list[str] = field(default_factory=list)
    worker_errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    worker_concurrency: str = "?"
    drained_s: float = 0.0


def _server_env(workdir: Path, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "PORTAL_", "EMAIL_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.load_settings",
        BENCH_STATIC_ROOT=str(workdir / "static"),
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(DATABASE),
        REDIS_URL=redis_url,
        PORTAL_MEDIA_ROOT=str(workdir / "media"),
        EMAIL_URL=f"filemail:///{workdir / 'mail'}",  # django-environ drops one slash
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_http(url: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{process.tail()}")


def _locust(run: Run, index: int, users: int, host: str, workdir: Path, groups: set[int]) -> Step:
    """One headless locust run in its own process; its samples read back."""
    parents = round(users * PARENT_SHARE)
    step = Step(users, parents, users - parents)
    plan = {**run.plan, "host": host, "step": index, "users": users, "parents": step.parents,
            "staff": step.staff}
    plan_path, out_path = workdir / f"plan-{index}.json", workdir / f"samples-{index}.json"
    plan_path.write_text(json.dumps(plan))
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_path), "BENCH_LOAD_OUT": str(out_path)}
    say(f"locust: {users} users ({step.parents} parents, {step.staff} staff) at {SPAWN_RATE}/s, think "
        f"time {THINK_S[0]}-{THINK_S[1]} s, until {WINDOW_S} s after the last sign-in")
    busy0, total0 = _cpu_busy()
    started = time.perf_counter()
    with CpuSampler() as sampler:
        locust = Process.start(f"locust-{index}", [
            str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "--host", host, "--stop-timeout", "15", "--loglevel", "WARNING", "--only-summary",
        ], env=env, log_path=workdir / f"locust-{index}.log")
        try:
            step.exit_code = locust.wait(plan["max_seconds"] + 60)
        finally:
            locust.stop(timeout=5)
    step.seconds = time.perf_counter() - started
    busy1, total1 = _cpu_busy()
    step.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    step.locust_cpu_s = locust.cpu_s
    step.cpu = sampler.split(groups | {locust.pid})
    if not out_path.exists():
        raise RuntimeError(f"locust wrote no samples (exit {step.exit_code}):\n{locust.tail()}")
    step.out = json.loads(out_path.read_text())
    return step


def _execute(run: Run, workdir: Path, redis_url: str) -> None:
    env = _server_env(workdir, redis_url)
    for folder in ("static", "media", "mail"):
        (workdir / folder).mkdir()
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    run.collectstatic_s = time.perf_counter() - started

    port = free_port()
    host = f"http://127.0.0.1:{port}"
    web = worker = None
    try:
        web = Process.start("gunicorn", [
            str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN,
            "--access-logfile", str(workdir / "access.log"), "--access-logformat", ACCESS_FORMAT,
        ], env=env, log_path=workdir / "gunicorn.log")
        # The production command, on the servers' environment (persistent connections).
        worker = Worker(env=env, redis_url=redis_url, database_url=env["DATABASE_URL"], log_path=workdir / "worker.log",
                        concurrency=None, standalone=False, conn_max_age=None, name="bench-load").start()
        _wait_http(f"{host}/healthz", web)
        run.worker_concurrency = worker.concurrency()
        say(f"gunicorn on {host} ({' '.join(GUNICORN)}), worker ready ({run.worker_concurrency})")
        for index, users in enumerate(STEPS):
            if index:
                time.sleep(5)  # the previous users' last requests out of the way
            run.steps.append(_locust(run, index, users, host, workdir, {web.pid, worker.process.pid}))
        # Let the worker finish the approvals' letters and emails (bounded), then stop.
        run.drained_s = _drain(redis_url)
    finally:
        for process in (web, worker):
            if process is not None:
                process.stop()
        say("gunicorn and the worker stopped")
    run.cpu = {"gunicorn": web.cpu_s, "worker": worker.cpu_s}
    access = _access_log(workdir / "access.log")
    for step in run.steps:
        all_in = step.out["state"]["all_in_at"] or 0
        step.access = [a for a in access if all_in <= a[0] < all_in + WINDOW_S]
    run.gunicorn_errors = _errors(web.log_path, r"\[ERROR\]|Traceback")
    run.worker_errors = _errors(worker.log_path, r"\] ERROR|Traceback|CRITICAL")


def _drain(redis_url: str, timeout: float = 60) -> float:
    """Seconds until the Celery queue is empty (at most `timeout`)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            if not client.llen("celery") and not client.hlen("unacked"):
                break
            time.sleep(0.5)
    finally:
        client.close()
    return time.perf_counter() - started


def _access_log(path: Path) -> list[tuple[float, str, float]]:
    """(end of the response, locust name, server time in ms) of each logged request."""
    from datetime import datetime

    line_re = re.compile(r'^\[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)$')
    routes = [(method, re.compile(path + "$"), name) for method, path, name in ROUTES]
    rows = []
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        match = line_re.match(line)
        if not match:
            continue
        when, method, url, _status, micros = match.groups()
        name = next((n for m, r, n in routes if m == method and r.match(url)), None)
        if name:
            end = datetime.strptime(when, "%d/%b/%Y:%H:%M:%S %z").timestamp()
            rows.append((end, name, int(micros) / 1000))
    return rows


def _errors(log: Path, pattern: str) -> list[str]:
    if not log.exists():
        return []
    return [line for line in log.read_text(errors="replace").splitlines() if re.search(pattern, line)]


def _count(run: Run) -> None:
    from django.contrib.contenttypes.models import ContentType

    from outbox.models import OutboxEmail
    from permits.models import Document, Letter, Permit, PermitEvent

    staff_emails = [s["email"] for s in run.plan["staff_accounts"]]
    by_staff = {"event__actor__email__in": staff_emails}
    approved = PermitEvent.objects.filter(new_status="approved", actor__email__in=staff_emails)
    emails = OutboxEmail.objects.filter(about_type=ContentType.objects.get_for_model(Permit),
                                        about_id__in=approved.values("permit_id"), template="permit_approved")
    run.counts = {
        "approved": approved.count(),
        "uploads": Document.objects.filter(permit_id__in=[p["draft"] for p in run.plan["parent_accounts"]],
                                           original_name="scan.pdf").count(),
        "letters": Letter.objects.filter(**by_staff).count(),
        "letters_rendered": Letter.objects.filter(**by_staff, rendered_at__isnull=False).count(),
        "emails": emails.count(),
        "emails_sent": emails.filter(status="sent").count(),
    }


def run(options) -> str:
    from bench import dataset, support

    data = dataset.ensure(dataset.DISTRICT, reseed=options.reseed)  # portal_bench, the source of the copy
    redis_url, redis_client = _redis()
    if redis_client.dbsize():
        raise SystemExit(f"bench: Redis database {REDIS_DB} is not empty; choose another one with "
                         "BENCH_LOAD_REDIS_DB=n")
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-load-"))
    run = Run(plan={})
    try:
        run.copy_s = _copy_database()
        say(f"{DATABASE}: copied from {SOURCE_DATABASE} in {run.copy_s:.1f} s")
        with support.use_database(DATABASE):
            started = time.perf_counter()
            run.plan = _prepare(workdir)
            say(f"prepared {PARENTS} parents, {STAFF} staff and {APPROVALS_PER_STAFF} packets to approve "
                f"per technician and run in {time.perf_counter() - started:.1f} s")
            from django.db import connections

            for conn in connections.all():
                conn.close()
            _execute(run, workdir, redis_url)
            _count(run)
    finally:
        redis_client.flushdb()
        redis_client.close()
        admin = _admin_connection()
        try:
            _drop_copy(admin)
        finally:
            admin.close()
        if os.environ.get("BENCH_LOAD_KEEP"):  # for debugging: the servers' logs, the samples
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        say(f"dropped {DATABASE}, emptied Redis database {REDIS_DB}, removed its temporary folder")
    return _report(run, data)


# --- Report ------------------------------------------------------------------------------


@dataclass
class Figures:
    window: list
    seconds: float
    ramp_s: float
    p95: float
    median: float
    errors: list


def _figures(step: Step) -> Figures:
    state, samples = step.out["state"], step.out["samples"]
    all_in = state["all_in_at"]
    if all_in is None:
        raise RuntimeError(f"only {state['signed_in']} of {step.users} users signed in "
                           f"within {MAX_SECONDS} s")
    end = all_in + WINDOW_S
    seconds = min(end, max(s[0] for s in samples)) - all_in
    window = [s for s in samples if all_in <= s[0] < end]
    ms = [s[2] for s in window]
    return Figures(window, seconds, all_in - state["started_at"], percentile(ms, 95),
                   statistics.median(ms), [s for s in window if not s[3]])


def _row(label: str, samples: list, seconds: float, server: list[float] | None = None) -> str:
    ms = [s[2] for s in samples]
    errors = sum(1 for s in samples if not s[3])
    on_server = (f"{statistics.median(server):.0f} | {percentile(server, 95):.0f}" if server
                 else " | ")
    return (f"| {label} | {len(samples):,} | {len(samples) / seconds:.1f} | {statistics.median(ms):.0f} "
            f"| {percentile(ms, 95):.0f} | {percentile(ms, 99):.0f} | {max(ms):.0f} | {errors} "
            f"| {on_server} |")


def _step_table(step: Step, f: Figures) -> list[str]:
    state = step.out["state"]
    sign_in = [s for s in step.out["samples"] if s[1].startswith("sign-in")]
    names = sorted({s[1] for s in f.window})
    return [
        "| Requests | n | Per second | Median (ms) | p95 (ms) | p99 (ms) | Max (ms) | Errors "
        "| Server median (ms) | Server p95 (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row("**All**", f.window, f.seconds, [a[2] for a in step.access]),
        *[_row(name, [s for s in f.window if s[1] == name], f.seconds,
               [a[2] for a in step.access if a[1] == name]) for name in names],
        _row(f"Sign-in requests (before the window; {state['sign_in_failed']} users failed)", sign_in,
             max(f.ramp_s, 1)),
    ]


def _report(run: Run, data) -> str:
    figures = [_figures(step) for step in run.steps]
    main, f = run.steps[0], figures[0]
    for step, g in zip(run.steps, figures, strict=True):
        say(f"{step.users} users: {len(g.window):,} requests in {g.seconds:.0f} s "
            f"({len(g.window) / g.seconds:.1f}/s), median {g.median:.0f} ms, p95 {g.p95:.0f} ms, "
            f"{len(g.errors)} errors, CPU {step.machine_busy:.0%} (other work {_other_share(step):.0%})")
    say(f"{'PASS' if f.p95 < GOAL_P95_MS else 'FAIL'} p95 under {GOAL_P95_MS:g} ms at {main.users} "
        f"users: {f.p95:.0f} ms; {'PASS' if not f.errors else 'FAIL'} no errors: {len(f.errors)}")
    error_kinds: dict[str, int] = {}
    for step, g in zip(run.steps, figures, strict=True):
        failed_sign_ins = [s for s in step.out["samples"] if s[1].startswith("sign-in") and not s[3]]
        for s in [*g.errors, *failed_sign_ins]:
            key = re.sub(r"\d+", "N", f"{step.users} users, {s[1]}: {s[5]}")[:160]
            error_kinds[key] = error_kinds.get(key, 0) + 1
    messages: dict[str, int] = {}
    for step in run.steps:
        for message, n in step.out["state"].get("approval_messages", {}).items():
            messages[message] = messages.get(message, 0) + n
    c = run.counts
    lines = [
        f"Servers: `gunicorn config.wsgi {' '.join(GUNICORN)}` (the Dockerfile's command: sync "
        "workers, WEB_CONCURRENCY=3 as in `deploy/env.example`; access log to a file) and "
        f"`celery -A config worker -l info` (concurrency {run.worker_concurrency}), production "
        "settings (`DEBUG` off, secure cookies; the client sends `X-Forwarded-Proto: https` as "
        f"the TLS proxy would), on `{DATABASE}`, a copy of `{SOURCE_DATABASE}` ({data.permits:,} "
        f"packets, {data.open_permits:,} open; copied in {run.copy_s:.0f} s, dropped afterwards), Redis "
        f"database {REDIS_DB}, emails to files. Load: locust {_locust_version()} (FastHttpUser) in its "
        f"own process, users started at {SPAWN_RATE}/s, each signing in through the login form (staff "
        "then the second-factor form with a recovery code), then "
        f"{THINK_S[0]}-{THINK_S[1]} s of think time between tasks; 80% parents: dashboard (weight 3), "
        "the page of their submitted packet (3), an upload of a small PDF to their draft (1: the "
        "documents form, then the POST); 20% technicians: the queue (3; a third of the time also "
        "its next page), a review page (3), an approval (1: review page, POST, review page again; "
        f"{APPROVALS_PER_STAFF} prepared packets each per run, documents verified, seats added).",
        "",
        f"Measured: the requests *started* in the {WINDOW_S} s after the last user signed in. An error "
        "is a request that fails, or answers a GET with anything but 200, or a POST with anything "
        "but the expected redirect (a refused approval is a redirect with a message, not an error). "
        "Times are locust's, from sending the request to the whole response read, over loopback; "
        "*server* times are gunicorn's (`%(D)s` in the access log, for the requests that ended in the "
        "window): the difference is the wait for a free worker.",
        "",
        "| Users | Requests | Per second | Median (ms) | p95 (ms) | Errors | CPU busy (2 cores) "
        "| Of which other work on the machine |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {step.users} | {len(g.window):,} | {len(g.window) / g.seconds:.1f} | {g.median:.0f} "
          f"| {g.p95:.0f} | {len(g.errors)} | {step.machine_busy:.0%} | {_other_share(step):.0%} |"
          for step, g in zip(run.steps, figures, strict=True)],
        "",
        *_busy_warning(run.steps),
        "| Goal | Result | |",
        "|---|---|---|",
        f"| p95 under {GOAL_P95_MS:g} ms with {main.users} users | {f.p95:.0f} ms (median {f.median:.0f} ms) "
        f"| {'met' if f.p95 < GOAL_P95_MS else '**not met**'} |",
        f"| no errors | {len(f.errors)} of {len(f.window):,} | {'met' if not f.errors else '**not met**'} |",
    ]
    for step, g in zip(run.steps, figures, strict=True):
        lines += [
            "",
            f"### {step.users} users ({step.parents} parents, {step.staff} technicians)",
            "",
            f"All signed in {g.ramp_s:.0f} s after the start; {len(g.window):,} requests in the "
            f"{g.seconds:.0f} s after. Locust ran {step.seconds:.0f} s (exit code {step.exit_code}); "
            f"the machine's 2 cores were {step.machine_busy:.0%} busy: {step.cpu['ours']:.0f} CPU-seconds "
            f"for the bench's processes (gunicorn, the worker, their database backends, locust: "
            f"{step.locust_cpu_s:.0f}), {step.cpu['services']:.0f} for the PostgreSQL and Redis servers' "
            f"own processes, {step.cpu['other']:.0f} for other work on the machine.",
            "",
            *_step_table(step, g),
        ]
    lines += [
        "",
        f"Work done over both runs: {c['approved']} approvals, {c['uploads']} documents uploaded; "
        f"the worker rendered {c['letters_rendered']} of {c['letters']} letters and sent "
        f"{c['emails_sent']} of {c['emails']} approval emails (its queue empty {run.drained_s:.0f} s after "
        f"the load stopped). CPU time of the servers over everything: gunicorn {run.cpu.get('gunicorn', 0):.0f} s, "
        f"the worker {run.cpu.get('worker', 0):.0f} s. Server logs: {len(run.gunicorn_errors)} error "
        f"lines from gunicorn, {len(run.worker_errors)} from the worker.",
        "",
        "What the technicians saw after approving: "
        + "; ".join(f"{n} x \"{m}\"" for m, n in sorted(messages.items(), key=lambda kv: -kv[1])) + ".",
    ]
    if error_kinds:
        lines += ["", "Errors by kind:", ""] + [f"- {n} x {k}" for k, n in
                                               sorted(error_kinds.items(), key=lambda kv: -kv[1])]
    if run.gunicorn_errors or run.worker_errors:
        lines += ["", "First server error lines:", "", "```",
                  *(run.gunicorn_errors[:5] + run.worker_errors[:5]), "```"]
    return "\n".join(lines)


def _other_share(step: Step) -> float:
    """Other work on the machine during the step, as a share of its 2 cores."""
    return step.cpu.get("other", 0.0) / (2 * step.seconds) if step.seconds else 0.0


def _busy_warning(steps: list[Step]) -> list[str]:
    busy = [f"{s.users} users: {_other_share(s):.0%}" for s in steps if _other_share(s) > OTHER_WORK_LIMIT]
    if not busy:
        return []
    return [f"**Other work took more than {OTHER_WORK_LIMIT:.0%} of the machine during this run "
            f"({', '.join(busy)} of the 2 cores): these figures are pessimistic; run again on an idle "
            "machine.**", ""]


def _locust_version() -> str:
    try:
        from importlib.metadata import version

        return version("locust")
    except Exception:
        return "?"
