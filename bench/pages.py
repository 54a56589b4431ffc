"""The pages people wait for, at a district's size and at a state's: the parent's
dashboard and packet page, the staff queue (first page and deep), the review page, and
the stock Django admin (change list, first page and deep, and change form) of the same
packets as the baseline. Server time (in-process, Django's test Client) and queries.

Data: bench/dataset.py at two sizes, each in its own database and reused the same day:
100,000 packets (`DISTRICT`, portal_bench, the queue benchmark's) and 1,000,000 packets
(`STATE`, portal_bench_state, about 2.5 GB, seeded in about 3 minutes). Staff pages are reached
as the director (a superuser) after the second factor, given through the real form
(/accounts/2fa/verify/) with a recovery code of a bench device.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import Timing, explain, measure, say, table

NAME = "pages"
TITLE = "Parent and staff pages at 100,000 and 1,000,000 packets, admin as baseline"

DEPTH = 0.9


@dataclass
class SizeResult:
    label: str
    database: str
    permits: int
    open_permits: int
    seed_note: str
    timings: list[Timing]
    review_queries: list[tuple[float, str]]  # (ms, sql) of one review page, slowest first
    review_plan: str


def staff_client(user):
    """A test Client signed in as `user` with the second factor given through the form."""
    from django.test import Client
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _ = StaticDevice.objects.get_or_create(user=user, name="bench")
    token = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=token)
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/2fa/verify/", {"code": token})
    if response.status_code != 302 or "otp_device_id" not in client.session:
        raise RuntimeError(f"second factor refused for {user.email} ({response.status_code})")
    return client


def _contains(*needles: str):
    def check(response):
        text = response.content.decode()
        for needle in needles:
            if needle not in text:
                raise RuntimeError(f"{needle!r} not on {response.request['PATH_INFO']}")
    return check


def _measure_size(label: str, size, runs: int, reseed: bool) -> SizeResult:
    import math

    from django.contrib import admin
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.urls import reverse

    from applicants.models import Family, User
    from bench import dataset
    from permits.models import Permit
    from reviews.selectors import PAGE_SIZE

    data = dataset.ensure(size, reseed=reseed)
    database = connection.settings_dict["NAME"]
    seed_note = (f"seeded in {data.seconds:.0f} s" if data.seeded
                 else f"already seeded today, ANALYZE in {data.seconds:.1f} s")
    say(f"{database}: {data.permits:,} packets, {data.open_permits:,} open ({seed_note})")

    staff = staff_client(User.objects.get(pk=data.director_id))

    # A family with two students and several packets, one of them decided.
    family = (
        Family.objects.filter(pk__lte=2000)
        .annotate(n_students=Count("students", distinct=True), n_packets=Count("permits", distinct=True),
                  n_decided=Count("permits", filter=Q(permits__status="approved"), distinct=True))
        .filter(n_students__gte=2, n_decided__gte=1)
        .order_by("-n_packets", "pk")
        .first()
    )
    guardian = User.objects.get(family=family)
    parent = Client()
    parent.force_login(guardian)
    packet = family.permits.filter(status="approved").order_by("pk").first()
    say(f"parent {guardian.email}: family of {family.n_students} students, {family.n_packets} packets")

    # The queue 90% deep (keyset cursor), and the open packet there for the review page.
    open_rows = Permit.objects.filter(status__in=Permit.OPEN_STATUSES).order_by("due_date", "pk")
    position = int(data.open_permits * DEPTH)
    after = open_rows[position]
    deep_first = open_rows[position + 1]
    cursor = f"{after.due_date.isoformat()}_{after.pk}"
    review = deep_first

    per_page = admin.site._registry[Permit].list_per_page
    pages = math.ceil(data.permits / per_page)
    deep_page = round(pages * DEPTH)

    queue_url = reverse("staff_queue")
    admin_url = reverse("admin:permits_permit_changelist")
    cases = [
        ("Parent dashboard", reverse("family_dashboard"), parent,
         f"{family.n_students} students, {family.n_packets} packets", _contains(packet.reference)),
        ("Parent packet page", reverse("permit_detail", args=[packet.pk]), parent, "approved packet",
         _contains(packet.reference)),
        ("Staff queue, first page", queue_url, staff, f"{PAGE_SIZE} rows",
         _contains(open_rows.first().reference)),
        ("Staff queue, deep", f"{queue_url}?after={cursor}", staff,
         f"after row {position + 1:,} of {data.open_permits:,} open", _contains(deep_first.reference)),
        ("Review page", reverse("staff_permit", args=[review.pk]), staff,
         f"{review.status} packet, {review.documents.count()} documents, {review.events.count()} events",
         _contains(review.reference)),
        ("Admin change list, first page", admin_url, staff, f"{per_page} rows", None),
        ("Admin change list, deep", f"{admin_url}?p={deep_page}", staff,
         f"rows {(deep_page - 1) * per_page + 1:,}+ of {data.permits:,}", None),
        ("Admin change form (read-only)", reverse("admin:permits_permit_change", args=[review.pk]), staff,
         "the review page's packet", _contains(review.reference)),
    ]
    timings = [measure(client, f"{label}: {name}", url, runs=runs, check=check, note=note)
               for name, url, client, note, check in cases]
    for timing, (name, *_rest) in zip(timings, cases, strict=True):
        timing.label = name

    # Where the review page's database time goes: its queries, slowest first.
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        staff.get(reverse("staff_permit", args=[review.pk]))
    queries = sorted(((float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries), reverse=True)
    plan = explain(queries[0][1])
    return SizeResult(label, database, data.permits, data.open_permits, seed_note, timings, queries, plan)


def run(options) -> str:
    from bench import support
    from bench.dataset import DISTRICT, STATE

    runs = options.runs or 30
    results = [_measure_size("district", DISTRICT, runs, options.reseed)]
    with support.use_database(STATE.database):
        results.append(_measure_size("state", STATE, runs, options.reseed))
    return _report(results, runs)


def _by_label(result: SizeResult) -> dict[str, Timing]:
    return {t.label: t for t in result.timings}


def _report(results: list[SizeResult], runs: int) -> str:
    small, large = results
    a, b = _by_label(small), _by_label(large)
    lines = [
        "Server time is the wall time of Django's test `Client.get` in-process (middleware, "
        "view, template, database; no network), production settings (`DEBUG` off), "
        f"{runs} timed requests per page after 3 warm-ups, queries counted on one more request. "
        "Parent pages as a guardian of a family with two students; staff and admin pages as the "
        "director (superuser, `director` role) after the second factor.",
        "",
        "| Page | 100k median (ms) | 100k p95 (ms) | 1M median (ms) | 1M p95 (ms) | Queries (100k / 1M) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, t in a.items():
        u = b[label]
        lines.append(f"| {label} | {t.median:.1f} | {t.p95:.1f} | {u.median:.1f} | {u.p95:.1f} | "
                     f"{t.query_count} / {u.query_count} |")
    lines.append("")
    for r in results:
        t = _by_label(r)
        lines += [
            f"### {r.permits:,} packets ({r.label}): `{r.database}`",
            "",
            f"{r.permits:,} packets ({r.open_permits:,} open) with documents and events; {r.seed_note}.",
            "",
            table(r.timings),
            f"Queue vs. admin change list (median): **"
            f"{t['Admin change list, first page'].median / t['Staff queue, first page'].median:.1f}x** "
            f"faster on the first page, **"
            f"{t['Admin change list, deep'].median / t['Staff queue, deep'].median:.1f}x** deep in the list. "
            f"The review page (checklist, seats, related packets, history, twelve action forms) takes "
            f"{t['Review page'].median / t['Admin change form (read-only)'].median:.1f}x the time of the "
            "read-only admin change form of the same packet.",
            "",
        ]
    lines += [
        "### The review page's slowest queries",
        "",
        f"One request each, {len(small.review_queries)} queries; the three slowest:",
        "",
        "| Size | ms | Query (start) |",
        "|---|---:|---|",
    ]
    for r in results:
        for ms, sql in r.review_queries[:3]:
            lines.append(f"| {r.permits:,} | {ms:.1f} | `{_short(sql)}` |")
    lines += [
        "",
        f"Plan of the slowest at {large.permits:,} packets:",
        "",
        "```sql",
        large.review_queries[0][1],
        "```",
        "",
        "```",
        large.review_plan,
        "```",
    ]
    return "\n".join(lines)


def _short(sql: str, length: int = 150) -> str:
    """The statement with its column list elided, cut to `length`."""
    import re

    sql = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", sql, flags=re.S)
    sql = sql.replace("|", "\\|").replace("`", "'")
    return sql if len(sql) <= length else sql[:length] + " …"

