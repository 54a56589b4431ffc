"""The staff queue (/staff/, keyset pages) against the stock admin change list of the same
table (/admin/permits/permit/, OFFSET pages), at the first page and deep in the list.

Goal (project issue): the queue at least 5x faster than the stock change list deep in
the list, and under 50 ms median at any depth.
"""

from __future__ import annotations

import math
import re

from bench.common import Timing, explain, measure, say, table

NAME = "queue"
TITLE = "Staff queue vs. stock admin change list, 100,000 packets"

DEPTH = 0.9  # how far into the list the "deep" pages are
GOAL_SPEEDUP = 5.0
GOAL_MEDIAN_MS = 50.0


def run(options) -> str:
    from django.contrib import admin
    from django.urls import reverse

    from applicants.models import User
    from bench import dataset
    from permits.models import Permit
    from reviews.selectors import PAGE_SIZE

    data = dataset.ensure(dataset.DISTRICT, reseed=options.reseed)
    runs = options.runs or 30
    say(f"{data.permits:,} packets, {data.open_permits:,} open")

    # Staff pages need the second factor: given through the real form.
    from bench.pages import staff_client

    client = staff_client(User.objects.get(pk=data.director_id))

    # The queue, deep: the page after the packet ~90% through the open packets.
    open_rows = Permit.objects.filter(status__in=Permit.OPEN_STATUSES).order_by("due_date", "pk")
    position = int(data.open_permits * DEPTH)
    after = open_rows[position]
    cursor = f"{after.due_date.isoformat()}_{after.pk}"
    queue_deep_first = open_rows[position + 1].reference
    # ... and the last page: the cursor PAGE_SIZE rows before the end.
    last_position = data.open_permits - PAGE_SIZE - 1
    last_after = open_rows[last_position]
    last_cursor = f"{last_after.due_date.isoformat()}_{last_after.pk}"

    # The change list, deep: the stock admin pages with ?p=N (1-based), list_per_page rows.
    per_page = admin.site._registry[Permit].list_per_page
    pages = math.ceil(data.permits / per_page)
    deep_page = round(pages * DEPTH)
    admin_rows = Permit.objects.order_by("-created_at", "-pk")  # the admin adds -pk

    def first_row_is(reference: str, rows: int, marker: str):
        def check(response):
            text = response.content.decode()
            if reference not in text:
                raise RuntimeError(f"expected {reference} on {response.request['PATH_INFO']}")
            if text.count(marker) < rows:
                raise RuntimeError(f"fewer than {rows} rows on {response.request['PATH_INFO']}")
        return check

    queue_url = reverse("staff_queue")
    admin_url = reverse("admin:permits_permit_changelist")
    queue_row = 'name="permits"'
    admin_row = 'class="field-student'
    first_open = open_rows.first().reference
    cases = [
        ("Queue, first page", queue_url, "", first_row_is(first_open, PAGE_SIZE, queue_row)),
        ("Queue, deep", f"{queue_url}?after={cursor}",
         f"after row {position + 1:,} of {data.open_permits:,} open",
         first_row_is(queue_deep_first, PAGE_SIZE, queue_row)),
        ("Queue, last page", f"{queue_url}?after={last_cursor}",
         f"after row {last_position + 1:,} of {data.open_permits:,} open",
         first_row_is(open_rows[last_position + 1].reference, PAGE_SIZE, queue_row)),
        ("Admin change list, first page", admin_url, "",
         first_row_is(admin_rows[0].reference, per_page, admin_row)),
        ("Admin change list, deep", f"{admin_url}?p={deep_page}",
         f"rows {(deep_page - 1) * per_page + 1:,}+ of {data.permits:,}",
         first_row_is(admin_rows[(deep_page - 1) * per_page].reference, per_page, admin_row)),
        ("Admin change list, last page", f"{admin_url}?p={pages}", f"page {pages:,} of {pages:,}",
         first_row_is(admin_rows[(pages - 1) * per_page].reference,
                      data.permits - (pages - 1) * per_page, admin_row)),
    ]
    timings = [measure(client, label, url, runs=runs, check=check, note=note)
               for label, url, note, check in cases]
    queue_first, queue_deep, queue_last, _, admin_deep, _ = timings

    speedup = admin_deep.median / queue_deep.median
    speedup_p95 = admin_deep.p95 / queue_deep.p95
    slowest_queue = max(queue_first.median, queue_deep.median, queue_last.median)
    goals = [
        (f"queue at least {GOAL_SPEEDUP:g}x faster than the change list deep in the list",
         f"{speedup:.1f}x (median), {speedup_p95:.1f}x (p95)", speedup >= GOAL_SPEEDUP),
        (f"queue under {GOAL_MEDIAN_MS:g} ms median at any depth",
         f"{slowest_queue:.1f} ms at worst", slowest_queue < GOAL_MEDIAN_MS),
    ]
    for goal, value, ok in goals:
        say(f"{'PASS' if ok else 'FAIL'} {goal}: {value}")

    queue_sql = _statement(queue_deep, '"permits_permit"."due_date" ASC')
    queue_plan = explain(queue_sql)
    admin_sql = _statement(admin_deep, "OFFSET")
    seed = (f"seeded in {data.seconds:.1f} s" if data.seeded
            else f"already seeded (same data set), ANALYZE in {data.seconds:.1f} s")
    return "\n".join([
        f"Data: {data.permits:,} packets ({data.open_permits:,} open), {seed}. Server time is",
        "the wall time of Django's test `Client.get` in-process (middleware, view, template, "
        "database; no network), signed in as a superuser with the `director` staff role; "
        f"{runs} timed requests per page after 3 warm-ups, queries counted on one more request.",
        "",
        table(timings),
        f"Speed-up, queue deep vs. change list deep: **{speedup:.1f}x** median, "
        f"{speedup_p95:.1f}x p95.",
        "",
        "| Goal | Result | |",
        "|---|---|---|",
        *[f"| {goal} | {value} | {'met' if ok else '**not met**'} |" for goal, value, ok in goals],
        "",
        "### Plan of the deep queue query",
        "",
        "```sql",
        queue_sql,
        "```",
        "",
        "```",
        queue_plan,
        "```",
        "",
        _plan_observation(queue_plan),
        "",
        "### Plan of the deep change-list query (for comparison)",
        "",
        "```",
        explain(admin_sql),
        "```",
    ])


def _statement(timing: Timing, marker: str) -> str:
    matches = [sql for sql in timing.queries if '"permits_permit"' in sql and marker in sql]
    if not matches:
        raise RuntimeError(f"no captured query of {timing.label!r} contains {marker!r}")
    return matches[0]


def _plan_observation(plan: str) -> str:
    """One sentence on how the deep queue query uses open_permits_by_due_date."""
    lines = plan.splitlines()
    scan = next((i for i, line in enumerate(lines) if "open_permits_by_due_date" in line), None)
    if scan is None:
        return "**The deep queue query does not use the index `open_permits_by_due_date`.**"
    indent = len(lines[scan]) - len(lines[scan].lstrip())
    details = []
    for line in lines[scan + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        details.append(line.strip())
    cond = next((d for d in details if d.startswith("Index Cond:")), None)
    removed = next((d for d in details if d.startswith("Rows Removed by Filter:")), None)
    removed_n = int(re.sub(r"\D", "", removed)) if removed else 0
    if cond is None:
        return (
            "**The deep queue query scans `open_permits_by_due_date` from its first entry**: "
            "the cursor condition is not an index condition but a filter, which read and "
            f"discarded {removed_n:,} rows, so the cost grows with the depth of the page."
        )
    return (
        f"The deep queue query seeks into `open_permits_by_due_date` ({cond}); "
        f"{removed_n:,} rows discarded by the remaining filter."
    )
