"""`make backup` and `make restore` (scripts/backup.py): the test database and its stored
files are backed up, restored into a scratch database and a fresh storage, and found again
there: the same packets, documents and letters, the same bytes."""

import hashlib
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from psycopg2 import sql

from permits.models import Document

from .test_s3 import ACCESS_KEY, REGION, SECRET_KEY, add_letter, new_bucket, s3, s3_endpoint  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump must see the rows: committed

# Rows compared one by one between the test database and the restored one.
COMPARED = {
    "permits_permit": "SELECT id, status, kind, family_id, student_id FROM permits_permit ORDER BY id",
    "permits_document": "SELECT id, permit_id, file, original_name, size, sha256 FROM permits_document ORDER BY id",
    "permits_letter": "SELECT id, permit_id, kind, pdf, sha256 FROM permits_letter ORDER BY id",
}
TABLES = (
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def database_url(name: str) -> str:
    params = connection.settings_dict
    user = quote(params["USER"] or "", safe="")
    password = f":{quote(params['PASSWORD'], safe='')}" if params.get("PASSWORD") else ""
    host = params["HOST"] or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{name}"


def connect(name: str):
    params = connection.settings_dict
    return psycopg2.connect(
        dbname=name,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or None,
    )


def make(target: str, environment: dict, *variables: str) -> subprocess.CompletedProcess:
    """The real Makefile target (its `install` prerequisite skipped with -o: the test
    suite's environment is installed already)."""
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, **environment}
    for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "PORTAL_MEDIA_ROOT"):
        if name not in environment:
            env.pop(name, None)
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "install", target, *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(cursor) -> dict:
    found = {}
    cursor.execute(TABLES)
    tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        found[table] = cursor.fetchone()[0]
    for name, query in COMPARED.items():
        cursor.execute(query)
        found[name + " rows"] = cursor.fetchall()
    return found


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    yield name
    admin = connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def backed_up_folder(result: subprocess.CompletedProcess) -> Path:
    assert result.returncode == 0, result.stdout + result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.name.startswith("portal-") and (folder / "manifest.json").is_file()
    assert {path.name for path in folder.iterdir()} == {"database.dump", "files.tar", "manifest.json"}
    return folder


def restored_rows(name: str) -> dict:
    restored = connect(name)
    try:
        with restored.cursor() as cursor:
            return rows(cursor)
    finally:
        restored.close()


def source_rows() -> dict:
    with connection.cursor() as cursor:
        return rows(cursor.cursor)


def test_backup_and_restore_with_files_in_a_folder(draft_in, tmp_path, scratch_database):
    letter = add_letter(draft_in)
    media = tmp_path / "media"  # where tests/conftest.py puts this test's uploads
    documents = list(Document.objects.filter(permit=draft_in))
    assert documents and all((media / document.file.name).is_file() for document in documents)

    result = make(
        "backup",
        {
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
            "PORTAL_STORAGE": "filesystem",
            "PORTAL_MEDIA_ROOT": str(media),
        },
        f"BACKUP_DIR={tmp_path / 'backups'}",
    )
    folder = backed_up_folder(result)

    fresh = tmp_path / "restored-media"
    target = {
        "DATABASE_URL": database_url(scratch_database),
        "PORTAL_STORAGE": "filesystem",
        "PORTAL_MEDIA_ROOT": str(fresh),
    }
    result = make("restore", target, f"BACKUP={folder}")
    assert result.returncode == 0, result.stdout + result.stderr

    assert restored_rows(scratch_database) == source_rows()
    assert restored_rows(scratch_database)["permits_document rows"]
    for document in documents:
        restored = (fresh / document.file.name).read_bytes()
        assert restored == (media / document.file.name).read_bytes()
        assert hashlib.sha256(restored).hexdigest() == document.sha256
    assert hashlib.sha256((fresh / letter.pdf.name).read_bytes()).hexdigest() == letter.sha256

    # A database that already has tables is never overwritten by accident ...
    again = make("restore", target, f"BACKUP={folder}")
    assert again.returncode != 0
    assert "already has tables" in again.stderr
    # ... only on request.
    replaced = make("restore", target, f"BACKUP={folder}", "REPLACE=1")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert restored_rows(scratch_database) == source_rows()


def test_a_damaged_backup_is_refused(draft_in, tmp_path, scratch_database):
    result = make(
        "backup",
        {
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
            "PORTAL_STORAGE": "filesystem",
            "PORTAL_MEDIA_ROOT": str(tmp_path / "media"),
        },
        f"BACKUP_DIR={tmp_path / 'backups'}",
    )
    folder = backed_up_folder(result)
    with open(folder / "files.tar", "r+b") as archive:
        archive.seek(600)
        archive.write(b"X")
    result = make(
        "restore",
        {
            "DATABASE_URL": database_url(scratch_database),
            "PORTAL_STORAGE": "filesystem",
            "PORTAL_MEDIA_ROOT": str(tmp_path / "fresh"),
        },
        f"BACKUP={folder}",
    )
    assert result.returncode != 0
    assert "damaged" in result.stderr
    assert not (tmp_path / "fresh").exists()


def test_backup_and_restore_with_files_in_s3(s3, draft_in, tmp_path, scratch_database):  # noqa: F811
    """The compose stack's case: documents and letters in the object store."""
    letter = add_letter(draft_in)
    documents = list(Document.objects.filter(permit=draft_in))
    store = {
        "PORTAL_STORAGE": "s3",
        "AWS_S3_ENDPOINT_URL": s3["endpoint"],
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_S3_REGION_NAME": REGION,
    }
    result = make(
        "backup",
        {
            **store,
            "AWS_STORAGE_BUCKET_NAME": s3["bucket"],
            "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        },
        f"BACKUP_DIR={tmp_path / 'backups'}",
    )
    folder = backed_up_folder(result)

    fresh_bucket = new_bucket(s3["endpoint"])
    result = make(
        "restore",
        {**store, "AWS_STORAGE_BUCKET_NAME": fresh_bucket, "DATABASE_URL": database_url(scratch_database)},
        f"BACKUP={folder}",
    )
    assert result.returncode == 0, result.stdout + result.stderr

    assert restored_rows(scratch_database) == source_rows()
    client = s3["client"]
    for name, sha256 in [(d.file.name, d.sha256) for d in documents] + [(letter.pdf.name, letter.sha256)]:
        body = client.get_object(Bucket=fresh_bucket, Key=name)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha256
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=fresh_bucket)["Contents"]}
    assert len(keys) == len(documents) + 1
