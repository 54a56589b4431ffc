"""The benchmarks' data sets: one seeder, shaped by a `Size`.

A data set is N packets over N / students school years (the last one next year's), one
packet per student and school year, in a database of its own, filled with one
`INSERT ... SELECT ... FROM generate_series` per big table, with values derived from a
hash of the row number, so that the data are the same on every run. It is reused while
it matches (same shape and version, seeded today: its dates are relative to the day of
seeding). Only portal_bench* databases are ever seeded.

The sizes the benchmarks use:

- `DISTRICT`, portal_bench: 100,000 packets of 75,000 students in 60,000 families, 15% open
  (due from 60 days ago to 304 days ahead), with documents and events (queue, pages,
  letters, load); `STATE`, portal_bench_state: the same ten times larger (pages).
- `deadline_size(n)`: n packets over ten school years, 5% open (a quarter of the last two
  years', due from 180 days ago to 180 days ahead), no documents and no event history,
  12 technicians and 2 directors, in portal_bench_1m, portal_bench_100k, ... (sweep:
  `SWEEP`, `SWEEP_SMALL`; email_latency: `LATENCY`), in the steady state of a district
  whose daily deadline sweep ran every day up to yesterday:

  - overdue open packets already carry `deemed_denial_risk_since` (the day after their
    legal due date, which the seed makes their due date), except those due yesterday,
    which today's run records as deemed denials;
  - every reminder threshold reached before today is recorded (DeadlineReminder) for
    the packets due from today on, so today's run owes only the thresholds reached today;
  - 1 in 10 open packets waits for information; 1 in 50 of those had its answer due
    yesterday and is abandoned by today's run;
  - ~0.3% of the last two years' closed packets were denied in the last 48 hours; every
    denial has its notice in the outbox (sent), except 1 in 100: the directors were
    alerted on an earlier day for those denied more than two days ago;
  - eight pending county appeals, due from 15 days ago to 5 days ahead.

  `restore(mode)` puts such a data set back into that state after a sweep ("steady"),
  or into the state of a first run ever ("cold": no reminders, flags or alerts).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from bench.common import BENCH_DB, say

SEED_VERSION = 2
TZ = "America/Los_Angeles"  # the district's time zone (District.time_zone's default)
SCHOOLS = 24
DIRECTOR_EMAIL = "bench-director@district.example"  # the first director, a superuser
OPEN_SQL = "('submitted', 'under_review', 'info_requested')"
# Per cent of the open packets, and of the others.
OPEN_MIX = (("submitted", 45), ("under_review", 45), ("info_requested", 10))
CLOSED_MIX = (
    ("approved", 55), ("denied", 14), ("withdrawn", 9), ("voided", 4), ("abandoned", 7), ("revoked", 1),
    ("draft", 10),
)
assert sum(n for _, n in OPEN_MIX) == sum(n for _, n in CLOSED_MIX) == 100
COUNTY_APPEALS = [5, 4, 2, 0, -1, -3, -8, -15]  # county due date, days from today (deadline state)

FIRST_NAMES = [
    "Sofia", "Mateo", "Olivia", "Liam", "Camila", "Noah", "Isabella", "Ethan", "Valentina",
    "Lucas", "Emma", "Santiago", "Mia", "Diego", "Ava", "Gabriel", "Lucia", "Daniel", "Chloe",
    "Adrian", "Harper", "Leonardo", "Aria", "Julian", "Zoe", "Nathan", "Elena", "Isaac", "Maya",
    "Samuel", "Nora", "Elias", "Layla", "Aaron", "Ruby", "Miguel", "Hazel", "Angel", "Iris",
    "Tomas",
]
LAST_NAMES = [
    "Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez",
    "Ramirez", "Torres", "Nguyen", "Kim", "Patel", "Smith", "Johnson", "Williams", "Brown",
    "Jones", "Miller", "Davis", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Flores",
]
DISTRICTS = [
    "Mesa Grande Unified", "Sierra Azul Elementary", "Rio Claro Unified", "Pinecrest Unified",
    "Bahia Verde School District", "Lomita Heights Unified",
]


@dataclass(frozen=True)
class Size:
    """The shape of a data set. Every field is part of it: change one and the data set is
    seeded again."""

    database: str
    permits: int
    families: int
    students: int  # one packet per student and school year: permits / students years
    open_per_mille: int = 150  # open packets, of the last two school years' packets
    open_due: tuple[int, int] = (-60, 304)  # open packets due from today + a to today + b days
    technicians: int = 6
    directors: int = 1
    history: bool = True  # 3-4 documents and 2-4 events per packet
    deadline_state: bool = False  # "yesterday's sweep ran" (see the module's docstring)
    fresh_denials_per_mille: int = 0  # of the last two years' closed packets: denied in the last 48 h

    def __post_init__(self):
        assert self.database.startswith(BENCH_DB), "the bench only seeds portal_bench* databases"
        assert 0 <= self.open_per_mille < 1000 and self.open_due[0] <= self.open_due[1]
        assert self.students <= self.permits and self.families <= self.students and self.directors >= 1
        # restore() removes every event and what refers to it: the seed must write none.
        assert not (self.deadline_state and self.history), "a deadline-state data set has no event history"

    @property
    def years(self) -> int:
        return -(-self.permits // self.students)


DISTRICT = Size("portal_bench", 100_000, 60_000, 75_000)
STATE = Size("portal_bench_state", 1_000_000, 600_000, 750_000)


def database_for(permits: int) -> str:
    if permits % 1_000_000 == 0:
        return f"{BENCH_DB}_{permits // 1_000_000}m"
    return f"{BENCH_DB}_{permits // 1000}k"


def deadline_size(permits: int) -> Size:
    """Ten school years of `permits` packets in the deadline sweep's steady state."""
    students = permits // 10
    return Size(
        database_for(permits), permits, families=students * 4 // 5, students=students,
        open_per_mille=250, open_due=(-180, 180), technicians=12, directors=2, history=False,
        deadline_state=True, fresh_denials_per_mille=3,
    )


SWEEP = deadline_size(1_000_000)  # 50,000 open
SWEEP_SMALL = deadline_size(100_000)  # 5,000 open: the sweep's memory at a tenth of the size
LATENCY = deadline_size(10_000)  # 500 open: email_latency, seeded again at every run


@dataclass
class Dataset:
    size: Size
    database: str
    permits: int
    open_permits: int
    director_id: int  # DIRECTOR_EMAIL's user
    today: date  # the day of seeding, in the district
    seconds: float
    seeded: bool


# --- SQL helpers ---------------------------------------------------------------------


def sql_text_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def sql_int_array(values: list[int]) -> str:
    return "ARRAY[" + ", ".join(str(int(v)) for v in values) + "]::bigint[]"


def insert_select(cursor, model, exprs: dict[str, str], source: str) -> int:
    """INSERT INTO model's table SELECT exprs FROM source.

    Columns not named in `exprs` get NULL when nullable (an id: its sequence's next),
    else the model field's default (an empty string for blank text), so that fields added to the models later do not
    break the seed. `exprs` and `source`
    must not contain parameters or a bare percent sign.
    """
    from django.db import connection

    exprs = dict(exprs)
    columns, values, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.column in exprs:
            columns.append(f.column)
            values.append(exprs.pop(f.column))
        elif f.null or f.db_returning:  # NULL, or the id from its sequence
            continue
        elif f.has_default() or (f.blank and f.empty_strings_allowed):  # a default, or ""
            columns.append(f.column)
            values.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
        else:
            raise RuntimeError(f"bench seed: no value for {model.__name__}.{f.name}")
    if exprs:
        raise RuntimeError(f"bench seed: {model.__name__} has no column(s) {', '.join(exprs)}")
    quoted = ", ".join(f'"{c}"' for c in columns)  # "to" is a reserved word
    cursor.execute(
        f'INSERT INTO "{model._meta.db_table}" ({quoted}) SELECT {", ".join(values)} FROM {source}',
        params,
    )
    return cursor.rowcount


def _reset_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
        f' (SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
    )


def _cases(value: str, mix: tuple[tuple[str, int], ...]) -> str:
    """CASE over `value` in [0, 100): each status for its share of per cent."""
    sql, upper = "CASE", 0
    for status, share in mix:
        upper += share
        sql += f" WHEN {value} < {upper} THEN '{status}'"
    return sql + " END"


# --- Seeding ------------------------------------------------------------------------


def local_today() -> date:
    from django.utils import timezone

    from permits import clock

    return clock.local_date(timezone.now(), TZ)


def _table(cursor):
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_dataset ("
        " name text PRIMARY KEY, version int NOT NULL, shape text NOT NULL, seeded_on date NOT NULL,"
        " base_outbox bigint NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())"
    )


def _shape(size: Size) -> str:
    return json.dumps(asdict(size), sort_keys=True)


def _fresh(cursor, size: Size, today: date) -> bool:
    from permits.models import Permit

    _table(cursor)
    cursor.execute("SELECT version, shape, seeded_on FROM bench_dataset WHERE name = 'permits'")
    row = cursor.fetchone()
    return row == (SEED_VERSION, _shape(size), today) and Permit.objects.count() == size.permits


def ensure(size: Size, *, reseed: bool = False) -> Dataset:
    """Seed the current database (portal_bench, or another through
    support.use_database(size.database)) unless it already holds today's data set of this
    shape; a deadline-state data set is then put back into its steady state."""
    from django.db import connection, transaction

    from applicants.models import User
    from permits.models import Permit

    database = connection.settings_dict["NAME"]
    assert database == size.database, f"connected to {database}, not {size.database}"
    started = time.perf_counter()
    today = local_today()
    with connection.cursor() as cursor:
        seeded = reseed or not _fresh(cursor, size, today)
        if seeded:
            say(f"seeding {size.permits:,} packets into {database} ...")
            with transaction.atomic():
                _seed(cursor, size, today)
            # VACUUM cannot run in a transaction: Django is in autocommit mode here. It
            # also sets the visibility map, as autovacuum would on a production table.
            cursor.execute("VACUUM (ANALYZE)")
        else:
            if size.deadline_state:
                restore("steady")
            cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    note = "seeded" if seeded else "already seeded today; " + ("restored, " if size.deadline_state else "") + "analyzed"
    say(f"{database}: {note} in {seconds:.1f} s")
    return Dataset(
        size=size,
        database=database,
        permits=Permit.objects.count(),
        open_permits=Permit.objects.filter(status__in=Permit.OPEN_STATUSES).count(),
        director_id=User.objects.get(email=DIRECTOR_EMAIL).pk,
        today=today,
        seconds=seconds,
        seeded=seeded,
    )


def _seed(cursor, size: Size, today: date) -> None:
    from applicants.models import Family, Student, User
    from boundaries.models import School
    from outbox.models import OutboxEmail
    from permits.defaults import install_defaults
    from permits.models import Appeal, Document, Permit, PermitEvent, SchoolYear, SeatAllocation
    from reviews.models import DeadlineCheckRun, DeadlineReminder, Role, StaffRole

    step = time.perf_counter()

    def done(what: str, rows: int | None = None) -> None:
        nonlocal step
        count = f" {rows:,} rows" if rows is not None else ""
        say(f"  {what}:{count} ({time.perf_counter() - step:.1f} s)")
        step = time.perf_counter()

    tables = [m._meta.db_table for m in (
        OutboxEmail, DeadlineReminder, DeadlineCheckRun, Appeal, StaffRole, PermitEvent, Document, Permit,
        Student, User, Family, SeatAllocation, School, SchoolYear,
    )]
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    cursor.execute("DROP TABLE IF EXISTS bench_seed, bench_sweep_seed")  # the seeders' of version 1
    _table(cursor)
    cursor.execute("DELETE FROM bench_dataset")
    # h(x, salt): a deterministic pseudo-random number in [0, 2^32) per row and purpose.
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
    # Year index years-2 is the current school year, years-1 the next one.
    current = today.year if today.month >= 8 else today.year - 1
    years = [
        SchoolYear.objects.create(
            name=f"{y}-{(y + 1) % 100:02d}",
            first_day_of_instruction=date(y, 8, 12),
            last_day_of_instruction=date(y + 1, 6, 3),
            applications_open_on=date(y - 1, 11, 1),
            applications_close_on=date(y + 1, 6, 3),
        )
        for y in range(current - size.years + 2, current + 2)
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
    SeatAllocation.objects.bulk_create(
        SeatAllocation(school=s, school_year=y, grade=g, capacity=20 + (s.pk * 7 + g) % 30)
        for s in schools for y in years[-2:] for g in range(s.lowest_grade, s.highest_grade + 1)
    )
    done("district, schools, school years, seats")

    age = max(900, 365 * size.years)  # days: families and students registered since
    rows = insert_select(cursor, Family, {
        "id": "f",
        "street": "(100 + f)::text || ' Elm Street'",
        "unit": "''",
        "city": "'Valle Verde'",
        "state": "'CA'",
        "postal_code": "'90999'",
        "preferred_language": "CASE WHEN mod(pg_temp.h(f, 1), 10) < 3 THEN 'es' ELSE 'en' END",
        "created_at": f"now() - make_interval(days => mod(pg_temp.h(f, 2), {age})::int)",
    }, f"generate_series(1, {size.families}) AS f")
    done("families", rows)

    first_names, last_names = sql_text_array(FIRST_NAMES), sql_text_array(LAST_NAMES)
    # One guardian per family, with the family's id; unusable passwords ("!").
    rows = insert_select(cursor, User, {
        "id": "f",
        "password": "'!bench'",
        "is_superuser": "false",
        "first_name": f"({first_names})[mod(pg_temp.h(f, 3), {len(FIRST_NAMES)}) + 1]",
        "last_name": f"({last_names})[mod(pg_temp.h(f, 4), {len(LAST_NAMES)}) + 1]",
        "is_staff": "false",
        "is_active": "true",
        "date_joined": f"now() - make_interval(days => mod(pg_temp.h(f, 2), {age})::int)",
        "email": "'guardian' || f || '@bench.example'",
        "phone": "''",
        "email_verified_at": "now()",
        "family_id": "f",
    }, f"generate_series(1, {size.families}) AS f")
    _reset_sequence(cursor, User)
    done("guardians", rows)

    # The first director is a superuser (the admin pages); the others are staff.
    director = User.objects.create_superuser(DIRECTOR_EMAIL, None, first_name="Dana", last_name="Director")
    StaffRole.objects.create(user=director, role=Role.DIRECTOR)
    for i in range(1, size.directors):
        user = User.objects.create_user(f"bench-director{i}@district.example", None, is_staff=True,
                                        first_name=FIRST_NAMES[-1 - i], last_name="Director")
        StaffRole.objects.create(user=user, role=Role.DIRECTOR)
    technicians = []
    for i in range(size.technicians):
        user = User.objects.create_user(f"bench-tech{i}@district.example", None, is_staff=True,
                                        first_name=FIRST_NAMES[i], last_name="Technician")
        StaffRole.objects.create(user=user, role=Role.TECHNICIAN)
        technicians.append(user.pk)
    done("staff")

    rows = insert_select(cursor, Student, {
        "id": "s",
        "family_id": f"mod(s - 1, {size.families}) + 1",
        "legal_first_name": f"({first_names})[mod(pg_temp.h(s, 5), {len(FIRST_NAMES)}) + 1]",
        "legal_middle_name": "''",
        "legal_last_name": f"({last_names})[mod(pg_temp.h(mod(s - 1, {size.families}) + 1, 4),"
                           f" {len(LAST_NAMES)}) + 1]",
        "date_of_birth": f"DATE '{today.year - 6}-09-01' - mod(pg_temp.h(s, 6), 4700)::int",
        "grade": "mod(pg_temp.h(s, 7), 14)::int - 1",
        "current_school": "'Mesa Elementary'",
        "current_district": "'Mesa Grande Unified'",
        "special_education": "mod(pg_temp.h(s, 8), 12) = 0",
        "created_at": f"now() - make_interval(days => mod(pg_temp.h(s, 2), {age})::int)",
    }, f"generate_series(1, {size.students}) AS s")
    done("students", rows)

    _seed_permits(cursor, size, today, years, schools, technicians)
    done("packets", size.permits)
    if size.history:
        done("documents", _seed_documents(cursor))
        done("events", _seed_events(cursor))
    base_outbox = 0
    if size.deadline_state:
        base_outbox = _seed_deadline_state(cursor, today, done)
    cursor.execute(
        "INSERT INTO bench_dataset (name, version, shape, seeded_on, base_outbox) VALUES ('permits', %s, %s, %s, %s)",
        [SEED_VERSION, _shape(size), today, base_outbox],
    )
    if size.deadline_state:
        restore("steady", cursor=cursor)
        done("steady state (reminders, alerts, check run)")


def _seed_permits(cursor, size: Size, today: date, years, schools, technicians: list[int]) -> None:
    """One packet per student and school year, so that the one-live-packet constraint holds."""
    from permits.models import Permit, Reason, Student

    school_ids = sql_int_array([s.pk for s in schools])
    year_ids = sql_int_array([y.pk for y in years])
    tech_ids = sql_int_array(technicians)
    reasons = list(Reason.objects.order_by("pk").values_list("pk", flat=True))
    districts = sql_text_array(DISTRICTS)
    d = f"DATE '{today.isoformat()}'"
    recent = size.years - 2  # the last two school years: the only ones with open packets
    o = size.open_per_mille
    low, high = size.open_due
    # Three levels: hashes per row; status, kind and due date; the receipt date.
    source = f"""(
      SELECT q.*, LEAST(q.due - 3 - mod(q.r, 58), {d}) AS rec_on
      FROM (
        SELECT h.g, h.y, h.r, h.h9, h.h10, s.id AS student_id, s.family_id, s.grade, h.is_open,
               CASE WHEN h.is_open THEN {_cases(f"h.b * 100 / {o or 1}", OPEN_MIX)}
                    WHEN h.just_denied THEN 'denied'
                    WHEN h.y >= {recent} THEN {_cases(f"(h.b - {o}) * 100 / {1000 - o}", CLOSED_MIX)}
                    ELSE {_cases("h.b / 10", CLOSED_MIX)} END AS status,
               h.just_denied,
               CASE WHEN h.k < 5 THEN 'inter_in' WHEN h.k < 8 THEN 'intra' ELSE 'inter_out' END AS kind,
               ({school_ids})[mod(pg_temp.h(h.g, 3), {SCHOOLS}) + 1] AS school_a,
               ({school_ids})[mod(pg_temp.h(h.g, 4), {SCHOOLS}) + 1] AS school_b,
               CASE WHEN h.is_open THEN {d} + ({low} + mod(h.h5, {high - low + 1})::int)
                    WHEN h.y >= {recent} THEN {d} - 1 - mod(h.h5, 365)::int
                    ELSE {d} - 365 * ({recent} - h.y) - mod(h.h5, 365)::int END AS due
        FROM (
          SELECT g, y, b, k, h5, r, h9, h10,
                 y >= {recent} AND b < {o} AS is_open,
                 y >= {recent} AND b >= {o} AND r < {size.fresh_denials_per_mille} AS just_denied
          FROM (
            SELECT g, (g - 1) / {size.students} AS y,
                   mod(pg_temp.h(g, 1), 1000) AS b, mod(pg_temp.h(g, 2), 10) AS k,
                   pg_temp.h(g, 5) AS h5, mod(pg_temp.h(g, 6), 1000)::int AS r,
                   pg_temp.h(g, 9) AS h9, mod(pg_temp.h(g, 10), 50)::int AS h10
            FROM generate_series(1, {size.permits}) AS g
          ) AS hashed
        ) AS h
        JOIN "{Student._meta.db_table}" s ON s.id = mod(h.g - 1, {size.students}) + 1
      ) AS q
    ) AS p"""
    received = f"(p.rec_on + time '10:00') AT TIME ZONE '{TZ}'"
    decided = (f"CASE WHEN p.just_denied THEN now() - make_interval(mins => mod(p.h9, 2880)::int)"
               f" WHEN p.status IN ('approved', 'denied', 'revoked', 'voided') THEN"
               f" (p.rec_on + LEAST(p.due - p.rec_on, 5 + mod(p.r, 35)) + time '14:00')"
               f" AT TIME ZONE '{TZ}' END")
    recommended = "p.status = 'under_review' AND mod(p.r, 100) = 7"  # a denial to confirm
    insert_select(cursor, Permit, {
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
        "home_district": f"CASE WHEN p.kind = 'inter_in' THEN ({districts})"
                         f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "release_pending": "p.kind = 'inter_in' AND p.is_open AND mod(p.r, 4) = 0",
        "destination_district": f"CASE WHEN p.kind = 'inter_out' THEN ({districts})"
                                f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "destination_school": "CASE WHEN p.kind = 'inter_out' THEN 'Central Elementary' ELSE '' END",
        "reason_id": f"CASE WHEN p.kind = 'inter_out' THEN ({sql_int_array(reasons)})"
                     f"[mod(p.r, {len(reasons)}) + 1] END",
        "bullying_victim": "mod(p.r, 50) = 0",
        "military_family": "mod(p.r, 80) = 1",
        "explanation": "''",
        "assigned_to_id": f"CASE WHEN p.status NOT IN ('draft', 'submitted') OR mod(p.r, 2) = 0"
                          f" THEN ({tech_ids})[mod(p.r, {len(technicians)}) + 1] END",
        "placed_school_id": "CASE WHEN p.status IN ('approved', 'revoked')"
                            " AND p.kind <> 'inter_out' THEN p.school_a END",
        "denial_reasons": "CASE WHEN p.status = 'denied' THEN ARRAY['no_space']::varchar[]"
                          " ELSE '{}'::varchar[] END",
        "decision_note": "''",
        "denial_recommended_by_id": f"CASE WHEN {recommended} THEN ({tech_ids})[mod(p.r, {len(technicians)}) + 1] END",
        "denial_recommended_at": f"CASE WHEN {recommended} THEN {received} + interval '3 days' END",
        # 1 in 50 information requests had its answer due yesterday: today's sweep abandons it.
        "info_due_date": f"CASE WHEN p.status = 'info_requested' THEN"
                         f" CASE WHEN p.h10 = 0 THEN {d} - 1 ELSE {d} + mod(p.r, 11) END END",
        # Flagged by the sweeps up to yesterday's.
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


def _seed_documents(cursor) -> int:
    """3 or 4 documents per packet: rows only, `file` is a storage key that does not exist."""
    from permits.models import Document, DocumentType, Permit

    doc_type_ids = list(DocumentType.objects.order_by("pk").values_list("pk", flat=True))
    rows = insert_select(cursor, Document, {
        "id": "(p.id - 1) * 4 + d",
        "permit_id": "p.id",
        "document_type_id": f"({sql_int_array(doc_type_ids)})[mod(p.id + d * 3, {len(doc_type_ids)}) + 1]",
        "file": "'permits/' || p.id || '/' || md5(p.id || '-' || d) || '.pdf'",
        "original_name": "'document-' || d || '.pdf'",
        "content_type": "'application/pdf'",
        "size": "40000 + mod(pg_temp.h(p.id * 4 + d, 9), 2000000)::int",
        "sha256": "md5(p.id || '/' || d) || md5(d || '/' || p.id)",
        "uploaded_by_id": "p.created_by_id",
        "uploaded_at": "p.created_at + make_interval(hours => d)",
        "review": f"CASE WHEN p.status IN ('approved', 'revoked') THEN 'verified'"
                  f" WHEN p.status IN {OPEN_SQL} AND mod(p.id + d, 3) = 0 THEN 'verified'"
                  " ELSE 'pending' END",
        "rejection_reason": "''",
    }, f'"{Permit._meta.db_table}" p CROSS JOIN generate_series(1, 4) AS d'
       " WHERE d <= 3 + mod(pg_temp.h(p.id, 7), 2)")
    _reset_sequence(cursor, Document)
    return rows


def _seed_events(cursor) -> int:
    """2 to 4 events per packet: created, submitted, then decided / assigned / a document;
    all handled long ago (`notified_at`)."""
    from permits.models import Permit, PermitEvent

    is_open = f"p.status IN {OPEN_SQL}"
    created = ("CASE WHEN e = 1 THEN p.created_at"
               " ELSE coalesce(p.decided_at, p.received_at, p.created_at) - make_interval(hours => 4 - e) END")
    rows = insert_select(cursor, PermitEvent, {
        "id": "(p.id - 1) * 4 + e",
        "permit_id": "p.id",
        "kind": "CASE WHEN e = 1 THEN 'created' WHEN p.status = 'draft' THEN 'document_added'"
                " WHEN e = 2 THEN 'status'"
                f" WHEN e = 3 AND NOT {is_open} THEN 'status'"
                " WHEN p.assigned_to_id IS NOT NULL THEN 'assigned' ELSE 'document_verified' END",
        "actor_id": "CASE WHEN e <= 2 OR p.status = 'draft' THEN p.created_by_id ELSE p.assigned_to_id END",
        "old_status": "CASE WHEN p.status = 'draft' OR e = 1 THEN ''"
                      " WHEN e = 2 THEN 'draft'"
                      f" WHEN e = 3 AND NOT {is_open} THEN 'submitted' ELSE '' END",
        "new_status": "CASE WHEN p.status = 'draft' OR e = 1 THEN ''"
                      " WHEN e = 2 THEN 'submitted'"
                      f" WHEN e = 3 AND NOT {is_open} THEN p.status ELSE '' END",
        "note": "''",
        "created_at": created,
        "notified_at": created,
    }, f'"{Permit._meta.db_table}" p CROSS JOIN generate_series(1, 4) AS e'
       " WHERE e <= 2 + mod(pg_temp.h(p.id, 8), 3)")
    _reset_sequence(cursor, PermitEvent)
    return rows


def _outbox_exprs(*, key: str, about_type: str, about_id: str, template: str, to: str, subject: str, body: str,
                  at: str, sent: str) -> dict[str, str]:
    """An email already sent, for insert_select into the outbox."""
    return {
        "key": key, "about_type_id": about_type, "about_id": about_id,
        "template": f"'{template}'", "language": "'en'", "to": to, "subject": subject,
        "body_text": f"'{body}'", "body_html": f"'<p>{body}</p>'", "attachment": "''", "attachment_name": "''",
        "status": "'sent'", "attempts": "1", "last_error": "''",
        "queued_at": at, "last_attempt_at": at, "sent_at": sent,
    }


def _permit_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    from permits.models import Permit

    return ContentType.objects.get_for_model(Permit).pk


def _seed_deadline_state(cursor, today: date, done) -> int:
    """The denial notices (sent, 1 in 100 missing) and the pending county appeals;
    returns the last outbox id of the seed."""
    from outbox.models import OutboxEmail
    from permits.models import Appeal, Permit

    permits = f'"{Permit._meta.db_table}"'
    rows = insert_select(cursor, OutboxEmail, _outbox_exprs(
        key="'bench-notice:' || p.id", about_type=str(_permit_type_id()), about_id="p.id", template="permit_denied",
        to="'guardian' || p.family_id || '@bench.example'", subject="'Your permit request ' || p.reference",
        body="Bench notice.", at="p.decided_at", sent="p.decided_at + interval '2 seconds'",
    ), f"{permits} p WHERE p.status = 'denied' AND p.decided_at >= now() - interval '730 days'"
       " AND mod(pg_temp.h(p.id, 11), 100) <> 0 ORDER BY p.id")
    done("denial notices in the outbox", rows)

    d = f"DATE '{today.isoformat()}'"
    rows = insert_select(cursor, Appeal, {
        "permit_id": "d.id",
        "level": "'county'",
        "filed_on": f"{d} + v.days::int - 30",
        "statement": "''",
        "county_due_date": f"{d} + v.days::int",
        "extension_reason": "''",
        "outcome": "'pending'",
        "created_at": "now()",
    }, f"""(SELECT id, row_number() OVER (ORDER BY id) AS n FROM {permits}
              WHERE status = 'denied' AND decided_at < now() - interval '20 days'
                AND decided_at >= now() - interval '60 days'
              ORDER BY id LIMIT {len(COUNTY_APPEALS)}) d
        JOIN unnest({sql_int_array(COUNTY_APPEALS)}) WITH ORDINALITY AS v(days, n) ON v.n = d.n""")
    done("county appeals", rows)
    cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{OutboxEmail._meta.db_table}"')
    return cursor.fetchone()[0]


# --- The deadline sweep's state ----------------------------------------------------------


def restore(mode: str = "steady", *, cursor=None) -> dict:
    """Undo what sweeps did to a deadline-state data set and put it into `mode`: "steady"
    (yesterday's sweep ran) or "cold" (no sweep ever ran). Returns the row counts touched."""
    from django.db import connection, transaction

    from outbox.models import OutboxEmail
    from permits.models import Permit, PermitEvent
    from reviews.models import DeadlineCheckRun, DeadlineReminder

    assert mode in ("steady", "cold")
    if cursor is None:
        with transaction.atomic(), connection.cursor() as cursor:
            counts = restore(mode, cursor=cursor)
        if counts["flags reset"] > 1000:
            # Going from "steady" to "cold" and back rewrites ~25,000 rows of a table with
            # 15 indexes; vacuum so that the next runs do not read the dead versions
            # (a daily sweep rewrites ~140).
            with connection.cursor() as cursor:
                cursor.execute(f'VACUUM (ANALYZE) "{Permit._meta.db_table}"')
        return counts
    permits, events = Permit._meta.db_table, PermitEvent._meta.db_table
    cursor.execute("SELECT seeded_on, base_outbox, shape FROM bench_dataset")
    today, base_outbox, shape = cursor.fetchone()
    assert json.loads(shape)["deadline_state"], "restore() is for the deadline sweep's data sets"
    d = f"DATE '{today.isoformat()}'"
    counts = {}
    # Packets the sweep abandoned go back to waiting for information.
    cursor.execute(
        f'UPDATE "{permits}" p SET status = e.old_status FROM "{events}" e'
        " WHERE e.permit_id = p.id AND e.kind = 'status' AND p.status = e.new_status"
    )
    counts["packets reopened"] = cursor.rowcount
    cursor.execute(
        f"DELETE FROM \"{OutboxEmail._meta.db_table}\" WHERE template <> 'permit_denied' OR id > %s",
        [base_outbox],
    )
    counts["emails deleted"] = cursor.rowcount
    # The seed writes no events: all are the sweeps', and so is whatever refers to them
    # (decision letters, ...): those rows go first, found from the foreign keys.
    counts["events deleted"] = _clear(cursor, events)
    cursor.execute(f'TRUNCATE "{DeadlineReminder._meta.db_table}" RESTART IDENTITY')
    flag = "NULL::date"
    if mode == "steady":
        flag = f"CASE WHEN due_date < {d} - 1 THEN due_date + 1 END"
    cursor.execute(
        f'UPDATE "{permits}" SET deemed_denial_risk_since = {flag}'
        f" WHERE status IN {OPEN_SQL} AND deemed_denial_risk_since IS DISTINCT FROM {flag}"
    )
    counts["flags reset"] = cursor.rowcount
    cursor.execute(f'DELETE FROM "{DeadlineCheckRun._meta.db_table}"')
    cursor.execute(
        f'INSERT INTO "{DeadlineCheckRun._meta.db_table}" (last_day, finished_at) VALUES (%s, now())',
        [today - timedelta(days=1)],
    )
    if mode == "steady":
        counts["reminders"] = _steady_reminders(cursor, d)
        counts["alerts"] = _steady_alerts(cursor, d)
    return counts


def _clear(cursor, table: str, _seen: frozenset = frozenset()) -> int:
    """DELETE every row of `table` after the rows of the tables that refer to it."""
    cursor.execute(
        "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass AND conrelid <> confrelid",
        [f'"{table}"'],
    )
    for (referring,) in cursor.fetchall():
        name = referring.strip('"')
        if name not in _seen:
            _clear(cursor, name, _seen | {table})
    cursor.execute(f'DELETE FROM "{table}"')
    return cursor.rowcount


def _steady_reminders(cursor, d: str) -> int:
    """Every threshold reached by yesterday, for the open packets due from today on."""
    from permits.models import District, Permit
    from reviews.models import DeadlineReminder

    thresholds = ", ".join(str(int(t)) for t in sorted(set(District.current().reminder_days)))
    return insert_select(cursor, DeadlineReminder, {
        "permit_id": "p.id",
        "days_before": "t",
        "created_at": f"(p.due_date - t + time '06:00') AT TIME ZONE '{TZ}'",
    }, f'"{Permit._meta.db_table}" p CROSS JOIN unnest(ARRAY[{thresholds}]::int[]) AS t'
       f" WHERE p.status IN {OPEN_SQL} AND p.due_date >= {d} AND p.due_date - t <= {d} - 1"
       f"   AND p.due_date - t >= (p.received_at AT TIME ZONE '{TZ}')::date"
       " ORDER BY p.id, t")


def _steady_alerts(cursor, d: str) -> int:
    """The alerts earlier sweeps queued once per packet or appeal: a missing denial
    notice (denied more than two days ago), a county appeal due within 5 days of
    yesterday."""
    from applicants.models import User
    from outbox.models import OutboxEmail
    from permits.models import Appeal, Permit
    from reviews.models import Role, StaffRole

    users = User._meta.db_table
    directors = sql_int_array(list(
        StaffRole.objects.filter(role=Role.DIRECTOR).order_by("user_id").values_list("user_id", flat=True)
    ))
    outbox = OutboxEmail._meta.db_table
    rows = insert_select(cursor, OutboxEmail, _outbox_exprs(
        key="'denial-notice:' || p.id || ':' || u.id", about_type="NULL", about_id="NULL",
        template="staff_denial_notice_missing",
        to="u.email", subject="'Denial notice missing'", body="Bench alert.",
        at="p.decided_at + interval '1 day'", sent="p.decided_at + interval '1 day'",
    ), f'"{Permit._meta.db_table}" p CROSS JOIN "{users}" u'
       f" WHERE u.id = ANY({directors}) AND p.status = 'denied'"
       "   AND p.decided_at >= now() - interval '60 days' AND p.decided_at < now() - interval '2 days'"
       f'  AND NOT EXISTS (SELECT 1 FROM "{outbox}" o WHERE o.about_type_id = {_permit_type_id()}'
       "     AND o.about_id = p.id AND o.template = 'permit_denied' AND o.status = 'sent')")
    rows += insert_select(cursor, OutboxEmail, _outbox_exprs(
        key="'county:' || a.id || ':due-soon:' || u.id", about_type="NULL", about_id="NULL",
        template="staff_county_appeal",
        to="u.email", subject="'County appeal'", body="Bench alert.",
        at="now() - interval '1 day'", sent="now() - interval '1 day'",
    ), f'"{Appeal._meta.db_table}" a CROSS JOIN "{users}" u'
       f" WHERE u.id = ANY({directors}) AND a.level = 'county' AND a.outcome = 'pending'"
       f"   AND a.county_due_date <= {d} + 4")
    return rows
