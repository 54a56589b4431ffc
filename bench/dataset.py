"""The benchmark data set: 100,000 packets of 75,000 students in 60,000 families.

`ensure_dataset(size=STATE)` seeds the same shape ten times larger (1,000,000 packets,
600,000 families) into the database the connection points at (portal_bench_state for
bench/pages.py); the default, DISTRICT, is the queue's portal_bench.

Big tables are filled with one `INSERT ... SELECT ... FROM generate_series` each, with
values derived from a hash of the row number, so the data are the same on every run.
Seeding is skipped when portal_bench already holds the same data set (bench_seed).
Everything here runs only against portal_bench.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from bench.common import BENCH_DB, say

SEED_VERSION = 1
PERMITS = 100_000
FAMILIES = 60_000
STUDENTS = 75_000
SCHOOLS = 24
TECHNICIANS = 6


@dataclass(frozen=True)
class Size:
    permits: int
    families: int
    students: int


DISTRICT = Size(PERMITS, FAMILIES, STUDENTS)
STATE = Size(1_000_000, 600_000, 750_000)

DIRECTOR_EMAIL = "bench-director@district.example"

# The status mix, in per mille of packets: 15% open, the rest closed or draft.
STATUS_MIX = [
    ("submitted", 50),
    ("under_review", 50),
    ("info_requested", 50),
    ("approved", 430),
    ("denied", 120),
    ("withdrawn", 80),
    ("voided", 40),
    ("abandoned", 60),
    ("revoked", 10),
    ("draft", 110),
]
assert sum(share for _, share in STATUS_MIX) == 1000

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


@dataclass
class Dataset:
    permits: int
    open_permits: int
    director_id: int
    seconds: float
    seeded: bool


def sql_text_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def sql_int_array(values: list[int]) -> str:
    return "ARRAY[" + ", ".join(str(int(v)) for v in values) + "]::bigint[]"


def insert_select(cursor, model, exprs: dict[str, str], source: str) -> int:
    """INSERT INTO model's table SELECT exprs FROM source.

    Columns not named in `exprs` get NULL when nullable, else the model field's default,
    so that fields added to the models later do not break the seed. `exprs` and `source`
    must not contain parameters or a bare percent sign.
    """
    from django.db import connection

    columns, values, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.column in exprs:
            columns.append(f.column)
            values.append(exprs.pop(f.column))
        elif f.null:
            continue
        elif f.has_default():
            columns.append(f.column)
            values.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
        else:
            raise RuntimeError(f"bench seed: no value for {model.__name__}.{f.name}")
    if exprs:
        raise RuntimeError(f"bench seed: {model.__name__} has no column(s) {', '.join(exprs)}")
    cursor.execute(
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"SELECT {', '.join(values)} FROM {source}",
        params,
    )
    return cursor.rowcount


def _seeded(cursor, size: Size) -> bool:
    from permits.models import Permit

    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_seed ("
        " name text PRIMARY KEY, version int NOT NULL, permits int NOT NULL,"
        " seeded_on date NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())"
    )
    cursor.execute("SELECT version, permits, seeded_on FROM bench_seed WHERE name = 'permits'")
    row = cursor.fetchone()
    if row is None or row[0] != SEED_VERSION or row[1] != size.permits:
        return False
    # Due dates are relative to the day of seeding; a stale set is seeded again.
    from django.utils import timezone

    if row[2] != timezone.localdate():
        return False
    return Permit.objects.count() == size.permits


def ensure_dataset(*, reseed: bool = False, size: Size = DISTRICT) -> Dataset:
    from django.db import connection, transaction

    from applicants.models import User
    from permits.models import Permit

    database = connection.settings_dict["NAME"]
    assert database.startswith(BENCH_DB), "the bench only seeds portal_bench* databases"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        seeded = False
        if reseed or not _seeded(cursor, size):
            say(f"seeding {size.permits:,} packets into {database} ...")
            with transaction.atomic():
                _seed(cursor, size)
            seeded = True
            # VACUUM cannot run in a transaction: Django is in autocommit mode here. It
            # also sets the visibility map, as autovacuum would on a production table.
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    say(f"{'seeded' if seeded else 'data already seeded; analyzed'} in {seconds:.1f} s")
    director = User.objects.get(email=DIRECTOR_EMAIL)
    return Dataset(
        permits=Permit.objects.count(),
        open_permits=Permit.objects.filter(status__in=Permit.OPEN_STATUSES).count(),
        director_id=director.pk,
        seconds=seconds,
        seeded=seeded,
    )


def _seed(cursor, size: Size) -> None:
    from django.utils import timezone

    from applicants.models import Family, Student, User
    from permits.defaults import install_defaults
    from permits.models import (
        Document,
        DocumentType,
        Permit,
        PermitEvent,
        Reason,
        School,
        SchoolYear,
        SeatAllocation,
    )
    from reviews.models import Role, StaffRole

    step = time.perf_counter()

    def done(what: str, rows: int | None = None) -> None:
        nonlocal step
        count = f" {rows:,} rows" if rows is not None else ""
        say(f"  {what}:{count} ({time.perf_counter() - step:.1f} s)")
        step = time.perf_counter()

    tables = [m._meta.db_table for m in (
        PermitEvent, Document, Permit, Student, User, Family, SeatAllocation, School, SchoolYear
    )]
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    cursor.execute("DELETE FROM bench_seed")
    # h(x, salt): a deterministic pseudo-random number in [0, 2^32) per row and purpose.
    cursor.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.h(x bigint, salt int) RETURNS bigint"
        " LANGUAGE sql IMMUTABLE AS 'SELECT hashint8(x * 1000 + salt)::bigint + 2147483648'"
    )
    done("truncated")

    install_defaults(
        name="Valle Verde Unified School District", county="Sierra Azul",
        street="1200 Valle Verde Blvd", city="Valle Verde", postal_code="90999",
        phone="(555) 010-2000", email="permits@district.example",
        county_office="Sierra Azul County Office of Education",
    )
    today = timezone.localdate()
    first = today.year if today.month >= 8 else today.year - 1
    years = [
        SchoolYear.objects.create(
            name=f"{y}-{(y + 1) % 100:02d}",
            first_day_of_instruction=date(y, 8, 12),
            last_day_of_instruction=date(y + 1, 6, 3),
            applications_open_on=date(y - 1, 11, 1),
            applications_close_on=date(y + 1, 6, 3),
        )
        for y in (first, first + 1)
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
        for s in schools for y in years for g in range(s.lowest_grade, s.highest_grade + 1)
    )
    done("district, schools, school years, seats")

    now = "now()"
    rows = insert_select(cursor, Family, {
        "id": "f",
        "street": "(100 + f)::text || ' Elm Street'",
        "unit": "''",
        "city": "'Valle Verde'",
        "state": "'CA'",
        "postal_code": "'90999'",
        "preferred_language": "CASE WHEN mod(pg_temp.h(f, 1), 10) < 3 THEN 'es' ELSE 'en' END",
        "created_at": f"{now} - make_interval(days => mod(pg_temp.h(f, 2), 900)::int)",
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
        "date_joined": f"{now} - make_interval(days => mod(pg_temp.h(f, 2), 900)::int)",
        "email": "'guardian' || f || '@bench.example'",
        "phone": "''",
        "email_verified_at": now,
        "family_id": "f",
    }, f"generate_series(1, {size.families}) AS f")
    _reset_sequence(cursor, User)
    done("guardians", rows)

    director = User.objects.create_superuser(DIRECTOR_EMAIL, None, first_name="Dana",
                                             last_name="Director")
    StaffRole.objects.create(user=director, role=Role.DIRECTOR)
    technicians = []
    for i in range(TECHNICIANS):
        tech = User.objects.create_user(f"bench-tech{i}@district.example", None, is_staff=True,
                                        first_name=FIRST_NAMES[i], last_name="Technician")
        StaffRole.objects.create(user=tech, role=Role.TECHNICIAN)
        technicians.append(tech.pk)
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
        "created_at": f"{now} - make_interval(days => mod(pg_temp.h(s, 2), 900)::int)",
    }, f"generate_series(1, {size.students}) AS s")
    done("students", rows)

    status_case = "CASE"
    upper = 0
    for status, share in STATUS_MIX:
        upper += share
        status_case += f" WHEN b < {upper} THEN '{status}'"
    status_case += " END"
    school_ids = sql_int_array([s.pk for s in schools])
    tech_ids = sql_int_array(technicians)
    reasons = list(Reason.objects.order_by("pk").values_list("pk", flat=True))
    reason_ids = sql_int_array(reasons)
    open_sql = "status IN ('submitted', 'under_review', 'info_requested')"
    decided_sql = "status IN ('approved', 'denied', 'revoked', 'voided')"
    # Step 1: the hashes and the status/kind per packet; step 2: derived columns.
    base = f"""(
        SELECT g, s.id AS student_id, s.family_id, s.grade,
               (g - 1) / {size.students} AS year_index,
               {status_case} AS status,
               CASE WHEN k < 5 THEN 'inter_in' WHEN k < 8 THEN 'intra' ELSE 'inter_out' END AS kind,
               ({school_ids})[mod(pg_temp.h(g, 3), {SCHOOLS}) + 1] AS school_a,
               ({school_ids})[mod(pg_temp.h(g, 4), {SCHOOLS}) + 1] AS school_b,
               DATE '{today.isoformat()}' + (mod(pg_temp.h(g, 5), 365)::int - 60) AS due,
               mod(pg_temp.h(g, 6), 1000)::int AS r
        FROM (SELECT g, mod(pg_temp.h(g, 1), 1000) AS b, mod(pg_temp.h(g, 2), 10) AS k
              FROM generate_series(1, {size.permits}) AS g) AS hashed
        JOIN "{Student._meta.db_table}" s ON s.id = mod(g - 1, {size.students}) + 1
    ) AS p"""
    received = "(p.due - 45 + (p.r / 100)::int)::timestamp AT TIME ZONE 'UTC' + interval '10 hours'"
    drafted = f"{now} - make_interval(days => mod(p.r, 200), hours => mod(p.r, 24))"
    rows = insert_select(cursor, Permit, {
        "id": "p.g",
        "reference": "'P-' || upper(lpad(to_hex(p.g), 8, '0'))",
        "family_id": "p.family_id",
        "student_id": "p.student_id",
        "school_year_id": f"CASE p.year_index WHEN 0 THEN {years[0].pk} ELSE {years[1].pk} END",
        "year_type": "CASE p.year_index WHEN 0 THEN 'current' ELSE 'future' END",
        "kind": "p.kind",
        "status": "p.status",
        "grade": "p.grade",
        "requested_school_id": "CASE WHEN p.kind <> 'inter_out' THEN p.school_a END",
        "school_of_residence_id": "CASE WHEN p.kind = 'intra' THEN p.school_b END",
        "home_district": f"CASE WHEN p.kind = 'inter_in' THEN ({sql_text_array(DISTRICTS)})"
                         f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "release_pending": f"p.kind = 'inter_in' AND p.{open_sql} AND mod(p.r, 4) = 0",
        "destination_district": f"CASE WHEN p.kind = 'inter_out' THEN ({sql_text_array(DISTRICTS)})"
                                f"[mod(p.r, {len(DISTRICTS)}) + 1] ELSE '' END",
        "destination_school": "CASE WHEN p.kind = 'inter_out' THEN 'Central Elementary'"
                              " ELSE '' END",
        "reason_id": f"CASE WHEN p.kind = 'inter_out' THEN ({reason_ids})"
                     f"[mod(p.r, {len(reasons)}) + 1] END",
        "bullying_victim": "mod(p.r, 50) = 0",
        "military_family": "mod(p.r, 80) = 1",
        "explanation": "''",
        "assigned_to_id": f"CASE WHEN p.status NOT IN ('draft', 'submitted') OR mod(p.r, 2) = 0"
                          f" THEN ({tech_ids})[mod(p.r, {TECHNICIANS}) + 1] END",
        "placed_school_id": "CASE WHEN p.status IN ('approved', 'revoked')"
                            " AND p.kind <> 'inter_out' THEN p.school_a END",
        "denial_reasons": "CASE WHEN p.status = 'denied' THEN ARRAY['no_space']::varchar[]"
                          " ELSE '{}'::varchar[] END",
        "decision_note": "''",
        "info_due_date": "CASE WHEN p.status = 'info_requested' THEN p.due - 20 END",
        "revocation_effective_on": "CASE WHEN p.status = 'revoked' THEN p.due + 60 END",
        "wizard_step": "CASE WHEN p.status = 'draft' THEN 'documents' ELSE 'done' END",
        "attested_by_id": "CASE WHEN p.status <> 'draft' THEN p.family_id END",
        "received_at": f"CASE WHEN p.status <> 'draft' THEN {received} END",
        "legal_due_date": "CASE WHEN p.status <> 'draft' THEN p.due END",
        "due_date": "CASE WHEN p.status <> 'draft' THEN p.due END",
        "decided_at": f"CASE WHEN p.{decided_sql} THEN {received}"
                      " + make_interval(days => 5 + mod(p.r, 35)) END",
        "created_at": f"CASE WHEN p.status <> 'draft' THEN {received}"
                      f" - make_interval(days => 1 + mod(p.r, 10)) ELSE {drafted} END",
        "updated_at": now,
        "created_by_id": "p.family_id",
    }, base)
    _reset_sequence(cursor, Permit)
    done("packets", rows)

    permit_table = Permit._meta.db_table
    doc_type_ids = list(DocumentType.objects.order_by("pk").values_list("pk", flat=True))
    # 3 or 4 documents per packet: rows only, `file` is a storage key that does not exist.
    rows = insert_select(cursor, Document, {
        "id": "(p.id - 1) * 4 + d",
        "permit_id": "p.id",
        "document_type_id": f"({sql_int_array(doc_type_ids)})"
                            f"[mod(p.id + d * 3, {len(doc_type_ids)}) + 1]",
        "file": "'permits/' || p.id || '/' || md5(p.id || '-' || d) || '.pdf'",
        "original_name": "'document-' || d || '.pdf'",
        "content_type": "'application/pdf'",
        "size": "40000 + mod(pg_temp.h(p.id * 4 + d, 9), 2000000)::int",
        "sha256": "md5(p.id || '/' || d) || md5(d || '/' || p.id)",
        "uploaded_by_id": "p.created_by_id",
        "uploaded_at": "p.created_at + make_interval(hours => d)",
        "review": f"CASE WHEN p.status IN ('approved', 'revoked') THEN 'verified'"
                  f" WHEN p.{open_sql} AND mod(p.id + d, 3) = 0 THEN 'verified'"
                  " ELSE 'pending' END",
        "rejection_reason": "''",
    }, f'"{permit_table}" p CROSS JOIN generate_series(1, 4) AS d'
       " WHERE d <= 3 + mod(pg_temp.h(p.id, 7), 2)")
    _reset_sequence(cursor, Document)
    done("documents", rows)

    # 2 to 4 events per packet: created, submitted, then decided / assigned / a document.
    rows = insert_select(cursor, PermitEvent, {
        "id": "(p.id - 1) * 4 + e",
        "permit_id": "p.id",
        "kind": "CASE WHEN e = 1 THEN 'created' WHEN p.status = 'draft' THEN 'document_added'"
                " WHEN e = 2 THEN 'status'"
                f" WHEN e = 3 AND NOT p.{open_sql} THEN 'status'"
                " WHEN p.assigned_to_id IS NOT NULL THEN 'assigned' ELSE 'document_verified' END",
        "actor_id": "CASE WHEN e <= 2 OR p.status = 'draft' THEN p.created_by_id"
                    " ELSE p.assigned_to_id END",
        "old_status": "CASE WHEN p.status = 'draft' OR e = 1 THEN ''"
                      " WHEN e = 2 THEN 'draft'"
                      f" WHEN e = 3 AND NOT p.{open_sql} THEN 'submitted' ELSE '' END",
        "new_status": "CASE WHEN p.status = 'draft' OR e = 1 THEN ''"
                      " WHEN e = 2 THEN 'submitted'"
                      f" WHEN e = 3 AND NOT p.{open_sql} THEN p.status ELSE '' END",
        "note": "''",
        "created_at": "CASE WHEN e = 1 THEN p.created_at"
                      " ELSE coalesce(p.decided_at, p.received_at, p.created_at)"
                      " - make_interval(hours => 4 - e) END",
    }, f'"{permit_table}" p CROSS JOIN generate_series(1, 4) AS e'
       " WHERE e <= 2 + mod(pg_temp.h(p.id, 8), 3)")
    _reset_sequence(cursor, PermitEvent)
    done("events", rows)

    cursor.execute(
        "INSERT INTO bench_seed (name, version, permits, seeded_on) VALUES ('permits', %s, %s, %s)",
        [SEED_VERSION, size.permits, today],
    )


def _reset_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
        f' (SELECT max(id) FROM "{table}"))'
    )

