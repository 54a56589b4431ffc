"""Data sets for the daily deadline sweep: N packets over ten school years, the open ones
(5% of all, a quarter of the last two years') due from 180 days ago to 180 days ahead.

Each size lives in a database of its own (portal_bench_1m, portal_bench_100k, ...), filled
with one `INSERT ... SELECT generate_series` per table like bench/dataset.py, and reused
while it matches (same size and version, seeded today: the dates are relative to the day
of seeding). Only what the sweep reads is seeded: no documents and no event history.

The state is the steady state of a district whose sweep ran every day up to yesterday:

- overdue open packets already carry `deemed_denial_risk_since` (the day after their
  due date), except those due yesterday, which today's run flags;
- every reminder threshold reached before today is recorded (DeadlineReminder) for the
  packets due from today on, so today's run owes only the thresholds reached today;
- 1 in 10 open packets waits for information; 1 in 50 of those had its answer due
  yesterday and is abandoned by today's run (with an email to the family);
- ~0.3% of the last two years' closed packets were denied in the last 48 hours; every
  denial has its notice in the outbox (sent), except 1 in 100: the directors were
  alerted on an earlier day for those denied more than two days ago;
- eight pending county appeals, due from 15 days ago to 5 days ahead;
- 12 technicians and 2 directors (StaffRole rows, all with emails).

`restore(mode)` puts a data set back into that state after a sweep ("steady"), or into
the state of a first run ever ("cold": no reminders, no deemed-denial flags, no alerts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from bench.common import say
from bench.dataset import (
    DISTRICTS,
    FIRST_NAMES,
    LAST_NAMES,
    _reset_sequence,
    insert_select,
    sql_int_array,
    sql_text_array,
)

SEED_VERSION = 1
YEARS = 10  # school years of history; the open packets are in the last two
OPEN_EVERY = 4  # one in four packets of the last two years is open
SCHOOLS = 24
TECHNICIANS = 12
DIRECTORS = 2
COUNTY_APPEALS = [5, 4, 2, 0, -1, -3, -8, -15]  # county due date, days from today
OPEN = "('submitted', 'under_review', 'info_requested')"
TZ = "America/Los_Angeles"  # the district's time zone (District.time_zone default)
OUTBOX_COLUMNS = ('key, permit_id, template, language, "to", subject, body_text, body_html,'
                  " status, attempts, last_error, queued_at, last_attempt_at, sent_at")


def database_for(permits: int) -> str:
    if permits % 1_000_000 == 0:
        return f"portal_bench_{permits // 1_000_000}m"
    return f"portal_bench_{permits // 1000}k"


@dataclass
class SweepData:
    database: str
    permits: int
    open_permits: int
    today: date
    seconds: float
    seeded: bool


def _state(cursor):
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_sweep_seed ("
        " name text PRIMARY KEY, version int NOT NULL, permits int NOT NULL,"
        " seeded_on date NOT NULL, base_outbox bigint NOT NULL,"
        " seeded_at timestamptz NOT NULL DEFAULT now())"
    )
    cursor.execute("SELECT version, permits, seeded_on, base_outbox FROM bench_sweep_seed")
    return cursor.fetchone()


def local_today() -> date:
    from django.utils import timezone

    from permits import clock

    return clock.local_date(timezone.now(), TZ)


def ensure(permits: int, *, reseed: bool = False) -> SweepData:
    """Seed the current database (see support.use_database) with `permits` packets unless
    it already holds today's data set of that size; then restore the steady state."""
    from django.db import connection, transaction

    from permits.models import Permit

    database = connection.settings_dict["NAME"]
    assert database == database_for(permits), f"{database} is not the {permits:,} data set"
    started = time.perf_counter()
    today = local_today()
    with connection.cursor() as cursor:
        row = _state(cursor)
        fresh = row is not None and tuple(row[:3]) == (SEED_VERSION, permits, today)
        seeded = reseed or not fresh
        if seeded:
            say(f"seeding {permits:,} packets into {database} ...")
            with transaction.atomic():
                _seed(cursor, permits, today)
            cursor.execute("VACUUM (ANALYZE)")
        else:
            restore("steady")
            cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    say(f"{database}: {'seeded' if seeded else 'already seeded today; restored, analyzed'}"
        f" in {seconds:.1f} s")
    return SweepData(
        database=database,
        permits=Permit.objects.count(),
        open_permits=Permit.objects.filter(status__in=Permit.OPEN_STATUSES).count(),
        today=today,
        seconds=seconds,
        seeded=seeded,
    )


def _seed(cursor, permits: int, today: date) -> None:
    from applicants.models import Family, Student, User
    from notifications.models import OutboxEmail
    from permits.defaults import install_defaults
    from permits.models import Permit, Reason, School, SchoolYear
    from reviews.models import Appeal, DeadlineCheckRun, DeadlineReminder, Role, StaffRole

    students = permits // YEARS
    families = students * 4 // 5
    step = time.perf_counter()

    def done(what: str, rows: int | None = None) -> None:
        nonlocal step
        count = f" {rows:,} rows" if rows is not None else ""
        say(f"  {what}:{count} ({time.perf_counter() - step:.1f} s)")
        step = time.perf_counter()

    tables = [m._meta.db_table for m in (
        OutboxEmail, DeadlineReminder, Appeal, DeadlineCheckRun, StaffRole, Permit, Student,
        User, Family, School, SchoolYear,
    )]
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    cursor.execute("DELETE FROM bench_sweep_seed")
    cursor.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.h(x bigint, salt int) RETURNS bigint"
        " LANGUAGE sql IMMUTABLE AS 'SELECT hashint8(x * 1000 + salt)::bigint + 2147483648'"
    )
    install_defaults(
        name="Valle Verde Unified School District", county="Sierra Azul",
        street="1200 Valle Verde Blvd", city="Valle Verde", postal_code="90999",
        phone="(555) 010-2000", email="permits@district.example",
        county_office="Sierra Azul County Office of Education", time_zone=TZ,
    )
    # Year index YEARS-2 is the current school year, YEARS-1 the next one.
    current = today.year if today.month >= 8 else today.year - 1
    years = [
        SchoolYear.objects.create(
            name=f"{y}-{(y + 1) % 100:02d}",
            first_day_of_instruction=date(y, 8, 12),
            last_day_of_instruction=date(y + 1, 6, 3),
            applications_open_on=date(y - 1, 11, 1),
            applications_close_on=date(y + 1, 6, 3),
        )
        for y in range(current - YEARS + 2, current + 2)
    ]
    schools = School.objects.bulk_create(
        School(
            name=f"{LAST_NAMES[i]} {'Elementary' if i < 14 else 'Middle' if i < 20 else 'High'}",
            code=f"S{i:02d}",
            lowest_grade=-1 if i < 14 else 6 if i < 20 else 9,
            highest_grade=5 if i < 14 else 8 if i < 20 else 12,
        )
        for i in range(SCHOOLS)
    )
    done("district, schools, school years")

    rows = insert_select(cursor, Family, {
        "id": "f",
        "street": "(100 + f)::text || ' Elm Street'",
        "unit": "''",
        "city": "'Valle Verde'",
        "state": "'CA'",
        "postal_code": "'90999'",
        "preferred_language": "CASE WHEN mod(pg_temp.h(f, 1), 10) < 3 THEN 'es' ELSE 'en' END",
        "created_at": "now() - make_interval(days => mod(pg_temp.h(f, 2), 3650)::int)",
    }, f"generate_series(1, {families}) AS f")
    done("families", rows)

    first_names, last_names = sql_text_array(FIRST_NAMES), sql_text_array(LAST_NAMES)
    rows = insert_select(cursor, User, {
        "id": "f",
        "password": "'!bench'",
        "is_superuser": "false",
        "first_name": f"({first_names})[mod(pg_temp.h(f, 3), {len(FIRST_NAMES)}) + 1]",
        "last_name": f"({last_names})[mod(pg_temp.h(f, 4), {len(LAST_NAMES)}) + 1]",
        "is_staff": "false",
        "is_active": "true",
        "date_joined": "now() - make_interval(days => mod(pg_temp.h(f, 2), 3650)::int)",
        "email": "'guardian' || f || '@bench.example'",
        "phone": "''",
        "email_verified_at": "now()",
        "family_id": "f",
    }, f"generate_series(1, {families}) AS f")
    _reset_sequence(cursor, User)
    done("guardians", rows)

    directors = []
    for i in range(DIRECTORS):
        user = User.objects.create_user(f"bench-director{i}@district.example", None, is_staff=True,
                                        first_name=FIRST_NAMES[-1 - i], last_name="Director")
        StaffRole.objects.create(user=user, role=Role.DIRECTOR)
        directors.append(user.pk)
    technicians = []
    for i in range(TECHNICIANS):
        user = User.objects.create_user(f"bench-tech{i}@district.example", None, is_staff=True,
                                        first_name=FIRST_NAMES[i], last_name="Technician")
        StaffRole.objects.create(user=user, role=Role.TECHNICIAN)
        technicians.append(user.pk)
    done("staff")

    rows = insert_select(cursor, Student, {
        "id": "s",
        "family_id": f"mod(s - 1, {families}) + 1",
        "legal_first_name": f"({first_names})[mod(pg_temp.h(s, 5), {len(FIRST_NAMES)}) + 1]",
        "legal_middle_name": "''",
        "legal_last_name": f"({last_names})[mod(pg_temp.h(mod(s - 1, {families}) + 1, 4),"
                           f" {len(LAST_NAMES)}) + 1]",
        "date_of_birth": f"DATE '{today.year - 6}-09-01' - mod(pg_temp.h(s, 6), 4700)::int",
        "grade": "mod(pg_temp.h(s, 7), 14)::int - 1",
        "current_school": "'Mesa Elementary'",
        "current_district": "'Mesa Grande Unified'",
        "special_education": "mod(pg_temp.h(s, 8), 12) = 0",
        "created_at": "now() - make_interval(days => mod(pg_temp.h(s, 2), 3650)::int)",
    }, f"generate_series(1, {students}) AS s")
    done("students", rows)

    # One packet per student and school year, so the one-live-packet constraint holds.
    school_ids = sql_int_array([s.pk for s in schools])
    year_ids = sql_int_array([y.pk for y in years])
    tech_ids = sql_int_array(technicians)
    reasons = list(Reason.objects.order_by("pk").values_list("pk", flat=True))
    d = f"DATE '{today.isoformat()}'"
    recent = YEARS - 2
    closed = (
        "CASE WHEN b < 55 THEN 'approved' WHEN b < 69 THEN 'denied' WHEN b < 78 THEN 'withdrawn'"
        " WHEN b < 82 THEN 'voided' WHEN b < 89 THEN 'abandoned' WHEN b < 90 THEN 'revoked'"
        " ELSE 'draft' END"
    )
    # Three levels: hashes per row; status, kind and due date; the receipt date.
    source = f"""(
      SELECT q.*, LEAST(q.due - 3 - mod(q.r, 58), {d}) AS rec_on
      FROM (
        SELECT h.g, h.y, h.r, h.h9, h.h10, s.id AS student_id, s.family_id, s.grade,
               h.is_open,
               CASE WHEN h.is_open THEN
                      CASE WHEN h.b < 45 THEN 'submitted' WHEN h.b < 90 THEN 'under_review'
                           ELSE 'info_requested' END
                    WHEN h.just_denied THEN 'denied'
                    ELSE {closed} END AS status,
               h.just_denied,
               CASE WHEN h.k < 5 THEN 'inter_in' WHEN h.k < 8 THEN 'intra'
                    ELSE 'inter_out' END AS kind,
               ({school_ids})[mod(pg_temp.h(h.g, 3), {SCHOOLS}) + 1] AS school_a,
               ({school_ids})[mod(pg_temp.h(h.g, 4), {SCHOOLS}) + 1] AS school_b,
               CASE WHEN h.is_open THEN {d} + (mod(h.h5, 361)::int - 180)
                    WHEN h.y >= {recent} THEN {d} - 1 - mod(h.h5, 365)::int
                    ELSE {d} - 365 * ({recent} - h.y) - mod(h.h5, 365)::int END AS due
        FROM (
          SELECT g, (g - 1) / {students} AS y,
                 mod(pg_temp.h(g, 1), 100) AS b, mod(pg_temp.h(g, 2), 10) AS k,
                 pg_temp.h(g, 5) AS h5, mod(pg_temp.h(g, 6), 1000)::int AS r,
                 pg_temp.h(g, 9) AS h9, mod(pg_temp.h(g, 10), 50)::int AS h10,
                 (g - 1) / {students} >= {recent} AND mod(g, {OPEN_EVERY}) = 0 AS is_open,
                 (g - 1) / {students} >= {recent} AND mod(g, {OPEN_EVERY}) <> 0
                   AND mod(pg_temp.h(g, 6), 1000) < 3 AS just_denied
          FROM generate_series(1, {permits}) AS g
        ) AS h
        JOIN "{Student._meta.db_table}" s ON s.id = mod(h.g - 1, {students}) + 1
      ) AS q
    ) AS p"""
    received = f"(p.rec_on + time '10:00') AT TIME ZONE '{TZ}'"
    decided = (f"CASE WHEN p.just_denied THEN now() - make_interval(mins => mod(p.h9, 2880)::int)"
               f" WHEN p.status IN ('approved', 'denied', 'revoked', 'voided') THEN"
               f" (p.rec_on + LEAST(p.due - p.rec_on, 5 + mod(p.r, 35)) + time '14:00')"
               f" AT TIME ZONE '{TZ}' END")
    assigned = (f"CASE WHEN p.status NOT IN ('draft', 'submitted') OR mod(p.r, 2) = 0"
                f" THEN ({tech_ids})[mod(p.r, {TECHNICIANS}) + 1] END")
    rows = insert_select(cursor, Permit, {
        "id": "p.g",
        "reference": "'P-' || upper(lpad(to_hex(p.g), 8, '0'))",
        "family_id": "p.family_id",
        "student_id": "p.student_id",
        "school_year_id": f"({year_ids})[p.y + 1]",
        "year_type": f"CASE WHEN p.y >= {recent} + 1 THEN 'future' ELSE 'current' END",
        "kind": "p.kind",
        "status": "p.status",
        "grade": "p.grade",
        "requested_school_id": "CASE WHEN p.kind <> 'inter_out' THEN p.school_a END",
        "school_of_residence_id": "CASE WHEN p.kind = 'intra' THEN p.school_b END",
        "home_district": f"CASE WHEN p.kind = 'inter_in' THEN ({sql_text_array(DISTRICTS)})"
                         f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "release_pending": "false",
        "destination_district": f"CASE WHEN p.kind = 'inter_out' THEN ({sql_text_array(DISTRICTS)})"
                                f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "destination_school": "CASE WHEN p.kind = 'inter_out' THEN 'Central Elementary'"
                              " ELSE '' END",
        "reason_id": f"CASE WHEN p.kind = 'inter_out' THEN ({sql_int_array(reasons)})"
                     f"[mod(p.r, {len(reasons)}) + 1] END",
        "bullying_victim": "mod(p.r, 50) = 0",
        "military_family": "mod(p.r, 80) = 1",
        "explanation": "''",
        "assigned_to_id": assigned,
        "placed_school_id": "CASE WHEN p.status IN ('approved', 'revoked')"
                            " AND p.kind <> 'inter_out' THEN p.school_a END",
        "denial_reasons": "CASE WHEN p.status = 'denied' THEN ARRAY['no_space']::varchar[]"
                          " ELSE '{}'::varchar[] END",
        "decision_note": "''",
        # 1 in 100 open packets under review carries a technician's recommended denial.
        "denial_recommended_by_id": f"CASE WHEN p.status = 'under_review' AND mod(p.r, 100) = 7"
                                    f" THEN ({tech_ids})[mod(p.r, {TECHNICIANS}) + 1] END",
        "denial_recommended_at": f"CASE WHEN p.status = 'under_review' AND mod(p.r, 100) = 7"
                                 f" THEN {received} + interval '3 days' END",
        "info_due_date": f"CASE WHEN p.status = 'info_requested' THEN"
                         f" CASE WHEN p.h10 = 0 THEN {d} - 1 ELSE {d} + mod(p.r, 11) END END",
        "deemed_denial_risk_since": f"CASE WHEN p.is_open AND p.due < {d} - 1 THEN p.due + 1 END",
        "revocation_effective_on": "CASE WHEN p.status = 'revoked' THEN p.due + 60 END",
        "wizard_step": "CASE WHEN p.status = 'draft' THEN 'documents' ELSE 'done' END",
        "attested_by_id": "CASE WHEN p.status <> 'draft' THEN p.family_id END",
        "received_at": f"CASE WHEN p.status <> 'draft' THEN {received} END",
        "legal_due_date": "CASE WHEN p.status <> 'draft' THEN p.due END",
        "due_date": "CASE WHEN p.status <> 'draft' THEN p.due END",
        "decided_at": decided,
        "created_at": f"CASE WHEN p.status <> 'draft' THEN {received} - make_interval(days => 1"
                      f" + mod(p.r, 10)) ELSE (p.due - 60 + time '12:00') AT TIME ZONE '{TZ}' END",
        "updated_at": "now()",
        "created_by_id": "p.family_id",
    }, source)
    _reset_sequence(cursor, Permit)
    done("packets", rows)

    # The denial notices of the last two years, sent; 1 in 100 missing.
    permit_table = Permit._meta.db_table
    cursor.execute(
        f"INSERT INTO notifications_outboxemail ({OUTBOX_COLUMNS})"
        f" SELECT 'bench-notice:' || p.id, p.id, 'permit_denied', 'en',"
        f"   'guardian' || p.family_id || '@bench.example', 'Your permit request ' || p.reference,"
        f"   'Bench notice.', '<p>Bench notice.</p>', 'sent', 1, '',"
        f"   p.decided_at, p.decided_at, p.decided_at + interval '2 seconds'"
        f' FROM "{permit_table}" p WHERE p.status = \'denied\''
        f"   AND p.decided_at >= now() - interval '730 days'"
        f"   AND mod(pg_temp.h(p.id, 11), 100) <> 0 ORDER BY p.id"
    )
    rows = cursor.rowcount
    done("denial notices in the outbox", rows)

    cursor.execute(f"""
        INSERT INTO "{Appeal._meta.db_table}" (permit_id, level, filed_on, statement,
            county_due_date, extension_reason, outcome, created_at)
        SELECT d.id, 'county', {d} + v.days::int - 30, '', {d} + v.days::int, '', 'pending', now()
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM "{permit_table}"
              WHERE status = 'denied' AND decided_at < now() - interval '20 days'
                AND decided_at >= now() - interval '60 days'
              ORDER BY id LIMIT {len(COUNTY_APPEALS)}) d
        JOIN unnest({sql_int_array(COUNTY_APPEALS)}) WITH ORDINALITY AS v(days, n) ON v.n = d.n
    """)
    done("county appeals", cursor.rowcount)

    cursor.execute(
        "SELECT max(id) FROM notifications_outboxemail"
    )
    base_outbox = cursor.fetchone()[0] or 0
    cursor.execute(
        "INSERT INTO bench_sweep_seed (name, version, permits, seeded_on, base_outbox)"
        " VALUES ('sweep', %s, %s, %s, %s)",
        [SEED_VERSION, permits, today, base_outbox],
    )
    restore("steady", cursor=cursor)
    done("steady state (reminders, alerts, check run)")


def restore(mode: str = "steady", *, cursor=None) -> dict:
    """Undo what sweeps did and put the data set into `mode`: "steady" (yesterday's
    sweep ran) or "cold" (no sweep ever ran). Returns the row counts touched."""
    from django.db import connection, transaction

    assert mode in ("steady", "cold")
    if cursor is None:
        with transaction.atomic(), connection.cursor() as cursor:
            counts = restore(mode, cursor=cursor)
        if counts["flags reset"] > 1000:
            # Going from "steady" to "cold" and back rewrites ~25,000 rows of a table with
            # 15 indexes; vacuum so that the next runs do not read the dead versions
            # (a daily sweep rewrites ~140).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) permits_permit")
        return counts
    cursor.execute("SELECT seeded_on, base_outbox FROM bench_sweep_seed")
    today, base_outbox = cursor.fetchone()
    d = f"DATE '{today.isoformat()}'"
    counts = {}
    # Packets the sweep abandoned go back to waiting for information.
    cursor.execute(
        "UPDATE permits_permit p SET status = e.old_status FROM permits_permitevent e"
        " WHERE e.permit_id = p.id AND e.kind = 'status' AND p.status = e.new_status"
    )
    counts["packets reopened"] = cursor.rowcount
    cursor.execute(
        "DELETE FROM notifications_outboxemail WHERE template <> 'permit_denied' OR id > %s",
        [base_outbox],
    )
    counts["emails deleted"] = cursor.rowcount
    # The seed writes no events: all are the sweep's, and so is whatever refers to them
    # (decision letters, ...): those rows go first, found from the foreign keys.
    counts["events deleted"] = _clear(cursor, "permits_permitevent")
    cursor.execute("TRUNCATE reviews_deadlinereminder RESTART IDENTITY")
    flag = "NULL::date"
    if mode == "steady":
        flag = f"CASE WHEN due_date < {d} - 1 THEN due_date + 1 END"
    cursor.execute(
        f"UPDATE permits_permit SET deemed_denial_risk_since = {flag}"
        f" WHERE status IN {OPEN} AND deemed_denial_risk_since IS DISTINCT FROM {flag}"
    )
    counts["flags reset"] = cursor.rowcount
    cursor.execute("DELETE FROM reviews_deadlinecheckrun")
    cursor.execute(
        "INSERT INTO reviews_deadlinecheckrun (last_day, finished_at) VALUES (%s, now())",
        [today - timedelta(days=1)],
    )
    if mode == "steady":
        counts["reminders"] = _steady_reminders(cursor, d)
        counts["alerts"] = _steady_alerts(cursor, d)
    return counts


def _clear(cursor, table: str, _seen: frozenset = frozenset()) -> int:
    """DELETE every row of `table` after the rows of the tables that refer to it, except
    the outbox, whose rows that refer to anything the sweep made are already deleted."""
    cursor.execute(
        "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass AND conrelid <> confrelid",
        [table],
    )
    for (referring,) in cursor.fetchall():
        name = referring.strip('"')
        if name != "notifications_outboxemail" and name not in _seen:
            _clear(cursor, name, _seen | {table})
    cursor.execute(f'DELETE FROM "{table}"')
    return cursor.rowcount


def _steady_reminders(cursor, d: str) -> int:
    """Every threshold reached by yesterday, for the open packets due from today on."""
    from permits.models import District

    thresholds = ", ".join(str(int(t)) for t in sorted(set(District.get().reminder_days)))
    cursor.execute(
        f"INSERT INTO reviews_deadlinereminder (permit_id, days_before, created_at)"
        f" SELECT p.id, t, (p.due_date - t + time '06:00') AT TIME ZONE '{TZ}'"
        f" FROM permits_permit p CROSS JOIN unnest(ARRAY[{thresholds}]::int[]) AS t"
        f" WHERE p.status IN {OPEN} AND p.due_date >= {d} AND p.due_date - t <= {d} - 1"
        f"   AND p.due_date - t >= (p.received_at AT TIME ZONE '{TZ}')::date"
        f" ORDER BY p.id, t"
    )
    return cursor.rowcount


def _steady_alerts(cursor, d: str) -> int:
    """The alerts earlier sweeps queued once per packet or appeal: a missing denial
    notice (denied more than two days ago), a county appeal due within 5 days of
    yesterday."""
    cursor.execute(
        "SELECT u.id FROM applicants_user u JOIN reviews_staffrole r ON r.user_id = u.id"
        " WHERE r.role = 'director' ORDER BY u.id"
    )
    directors = sql_int_array([row[0] for row in cursor.fetchall()])
    columns = OUTBOX_COLUMNS
    cursor.execute(
        f"INSERT INTO notifications_outboxemail ({columns})"
        f" SELECT 'denial-notice:' || p.id || ':' || u.id, NULL, 'staff_denial_notice_missing',"
        f"   'en', u.email, 'Denial notice missing', 'Bench alert.', '<p>Bench alert.</p>',"
        f"   'sent', 1, '',"
        f"   p.decided_at + interval '1 day', p.decided_at + interval '1 day',"
        f"   p.decided_at + interval '1 day'"
        f" FROM permits_permit p CROSS JOIN applicants_user u"
        f" WHERE u.id = ANY({directors}) AND p.status = 'denied'"
        f"   AND p.decided_at >= now() - interval '60 days'"
        f"   AND p.decided_at < now() - interval '2 days'"
        f"   AND NOT EXISTS (SELECT 1 FROM notifications_outboxemail o WHERE o.permit_id = p.id"
        f"                   AND o.template = 'permit_denied' AND o.status = 'sent')"
    )
    rows = cursor.rowcount
    cursor.execute(
        f"INSERT INTO notifications_outboxemail ({columns})"
        f" SELECT 'county:' || a.id || ':due-soon:' || u.id, NULL, 'staff_county_appeal', 'en',"
        f"   u.email, 'County appeal', 'Bench alert.', '<p>Bench alert.</p>', 'sent', 1, '',"
        f"   now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'"
        f" FROM reviews_appeal a CROSS JOIN applicants_user u"
        f" WHERE u.id = ANY({directors}) AND a.level = 'county' AND a.outcome = 'pending'"
        f"   AND a.county_due_date <= {d} + 4"
    )
    return rows + cursor.rowcount
