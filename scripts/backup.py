#!/usr/bin/env python3
"""Back up and restore the portal: the PostgreSQL database and every stored file
(documents, letters, letter batches), wherever the files live (a folder or an S3 bucket).

    python scripts/backup.py backup [DIR] [--keep N]    write DIR/portal-<UTC time>/
    python scripts/backup.py restore BACKUP [--replace] restore one such folder

`make backup` / `make restore BACKUP=...` run this from a checkout; in the containers it is
`docker compose run --rm backup` (see README.md). It reads the environment variables the
portal's settings read, so it backs up exactly what the portal uses:

    DATABASE_URL                   the database (backup: dumped; restore: the target)
    PORTAL_STORAGE                 "filesystem" (default) or "s3"
    PORTAL_MEDIA_ROOT              filesystem: the folder (default var/media of the checkout)
    AWS_STORAGE_BUCKET_NAME        s3: the bucket, and AWS_S3_ENDPOINT_URL,
                                   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_REGION_NAME
    PG_BINDIR                      optional: the folder of pg_dump and pg_restore (default:
                                   the installation matching the server's major version)

A backup folder holds database.dump (pg_dump's custom format), files.tar (every stored
file under its storage key) and manifest.json (what was taken, with SHA-256 checksums).
It is written under a temporary name and renamed when complete, so a folder named
portal-* is always whole. The database is dumped first, the files copied after it: a
file uploaded in between is kept without a row (harmless), never a row without its file.

restore checks the checksums, then loads the dump into DATABASE_URL (created if missing)
and writes the files into the configured storage. It refuses a database that already has
tables, or stored files that differ from the backup's, unless --replace is given: then the
database's public schema is emptied first and same-named files are overwritten. Stop the
web, worker and beat first when replacing a live database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 1
DUMP_NAME = "database.dump"
FILES_NAME = "files.tar"
MANIFEST_NAME = "manifest.json"
PREFIX = "portal-"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A problem worth one clear line (exit status 1)."""


def say(message: str) -> None:
    print(f"backup: {message}", file=sys.stderr, flush=True)


# --- database ------------------------------------------------------------------

PG_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}
# libpq environment variables for the query parameters a DATABASE_URL may carry.
PG_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
}


class Database:
    """The database of a DATABASE_URL, as libpq environment variables (no password on
    a command line, where `ps` would show it)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in PG_SCHEMES:
            raise BackupError(f"DATABASE_URL is not a PostgreSQL URL (scheme {parts.scheme!r})")
        self.name = unquote(parts.path.lstrip("/"))
        if not self.name:
            raise BackupError("DATABASE_URL names no database")
        self.env = {"PGDATABASE": self.name}
        # The host may be a percent-encoded socket directory (postgres://%2Frun%2Fpostgresql/db).
        host = unquote(parts.hostname or "")
        if host:
            self.env["PGHOST"] = host
        if parts.port:
            self.env["PGPORT"] = str(parts.port)
        if parts.username:
            self.env["PGUSER"] = unquote(parts.username)
        if parts.password:
            self.env["PGPASSWORD"] = unquote(parts.password)
        for key, value in parse_qsl(parts.query):
            if key in PG_QUERY_ENV:
                self.env[PG_QUERY_ENV[key]] = value

    def connect(self, dbname: str | None = None):
        import psycopg2

        kwargs = {
            "dbname": dbname or self.name,
            "host": self.env.get("PGHOST"),
            "port": self.env.get("PGPORT"),
            "user": self.env.get("PGUSER"),
            "password": self.env.get("PGPASSWORD"),
            "sslmode": self.env.get("PGSSLMODE"),
            "connect_timeout": int(self.env.get("PGCONNECT_TIMEOUT", "10")),
        }
        return psycopg2.connect(**{k: v for k, v in kwargs.items() if v is not None})

    def exists(self) -> bool:
        import psycopg2
        import psycopg2.errorcodes

        try:
            self.connect().close()
            return True
        except psycopg2.OperationalError as error:
            if getattr(error, "pgcode", None) == psycopg2.errorcodes.INVALID_CATALOG_NAME or (
                f'database "{self.name}" does not exist' in str(error)
            ):
                return False
            raise BackupError(f"cannot connect to database {self.name!r}: {error}".strip()) from None

    def create(self) -> None:
        from psycopg2 import sql

        connection = self.connect("postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        finally:
            connection.close()

    def server_major(self) -> int:
        connection = self.connect()
        try:
            return connection.server_version // 10000
        finally:
            connection.close()

    def user_relations(self) -> int:
        """Tables, views and sequences outside PostgreSQL's own schemas."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
                    " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                )
                return cursor.fetchone()[0]
        finally:
            connection.close()

    def empty_public_schema(self) -> None:
        connection = self.connect()
        try:
            with connection, connection.cursor() as cursor:
                # Fail clearly instead of waiting forever behind a running portal's locks.
                cursor.execute("SET LOCAL lock_timeout = '10s'")
                cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
                cursor.execute("CREATE SCHEMA public")
        finally:
            connection.close()

    def run(self, command: list[str]) -> None:
        env = {**os.environ, **self.env}
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise BackupError(f"{Path(command[0]).name} failed: {detail}")


def _version_of(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_binary(name: str, server_major: int) -> str:
    """pg_dump/pg_restore no older than the server: PG_BINDIR, else Debian's installation
    of the server's major version (or the nearest newer one), else PATH."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]) / name)
    else:
        debian = sorted(
            (Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")),
            key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
        )
        candidates += [d / name for d in debian if d.parent.name.isdigit() and int(d.parent.name) >= server_major]
        if shutil.which(name):
            candidates.append(Path(shutil.which(name)))
    for candidate in candidates:
        if candidate.exists():
            version = _version_of(str(candidate))
            if version is not None and version >= server_major:
                return str(candidate)
    raise BackupError(
        f"no {name} of version {server_major} or newer (the server's major version) found;"
        " install the PostgreSQL client of that version or set PG_BINDIR"
    )


# --- stored files --------------------------------------------------------------


def _safe_key(name: str) -> str:
    """A storage key as a relative POSIX path without '..' (refuse anything else)."""
    key = name.replace("\\", "/")
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise BackupError(f"refusing the file name {name!r} in the archive")
    return key


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


class FileStore:
    """The portal's default storage, described by the same variables as the settings."""

    def __init__(self, environ=os.environ):
        self.kind = environ.get("PORTAL_STORAGE", "filesystem") or "filesystem"
        if self.kind == "s3":
            self.bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
            if not self.bucket:
                raise BackupError("PORTAL_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
            import boto3
            from botocore.config import Config

            self.client = boto3.client(
                "s3",
                endpoint_url=environ.get("AWS_S3_ENDPOINT_URL") or None,
                aws_access_key_id=environ.get("AWS_ACCESS_KEY_ID") or None,
                aws_secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
                region_name=environ.get("AWS_S3_REGION_NAME") or None,
                config=Config(signature_version="s3v4"),
            )
            self.description = f"s3 bucket {self.bucket}"
        elif self.kind == "filesystem":
            self.root = Path(environ.get("PORTAL_MEDIA_ROOT") or ROOT / "var" / "media")
            self.description = f"folder {self.root}"
        else:
            raise BackupError(f"unknown PORTAL_STORAGE {self.kind!r} (filesystem or s3)")

    def list(self) -> dict[str, int]:
        """Every stored file: key -> size."""
        if self.kind == "s3":
            found = {}
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):
                        found[item["Key"]] = item["Size"]
            return found
        if not self.root.exists():
            return {}
        found = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(self.root).as_posix()] = path.stat().st_size
        return found

    def open(self, key: str):
        if self.kind == "s3":
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return open(self.root / key, "rb")

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        reader = self.open(key)
        try:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
        finally:
            reader.close()
        return digest.hexdigest()

    def write(self, key: str, reader) -> None:
        if self.kind == "s3":
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
            self.client.upload_fileobj(reader, self.bucket, key, ExtraArgs={"ContentType": content_type})
            return
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same mode as the portal's own uploads (FILE_UPLOAD_PERMISSIONS = 0o600).
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                shutil.copyfileobj(reader, out, CHUNK)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# --- backup ----------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup(directory: Path, keep: int | None = None) -> Path:
    database = Database(_database_url())
    store = FileStore()
    major = database.server_major()
    pg_dump = pg_binary("pg_dump", major)

    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = f"{PREFIX}{stamp}", 1
    while (directory / name).exists():
        n += 1
        name = f"{PREFIX}{stamp}-{n}"
    final = directory / name
    partial = directory / f".{name}.partial"
    partial.mkdir(mode=0o700)
    try:
        say(f"dumping database {database.name} ...")
        database.run([pg_dump, "--format=custom", "--no-password", f"--file={partial / DUMP_NAME}"])

        say(f"copying files from the {store.description} ...")
        entries = {}
        with tarfile.open(partial / FILES_NAME, "w", format=tarfile.PAX_FORMAT) as archive:
            for key, size in store.list().items():
                info = tarfile.TarInfo(_safe_key(key))
                info.size, info.mode = size, 0o600
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                reader = store.open(key)
                try:
                    hashing = _Hashing(reader)
                    archive.addfile(info, hashing)
                finally:
                    reader.close()
                entries[key] = {"size": size, "sha256": hashing.sha256.hexdigest()}

        manifest = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": {
                "name": database.name,
                "server_major": major,
                "file": DUMP_NAME,
                "sha256": _sha256_file(partial / DUMP_NAME),
            },
            "files": {
                "source": store.description,
                "file": FILES_NAME,
                "sha256": _sha256_file(partial / FILES_NAME),
                "count": len(entries),
                "bytes": sum(entry["size"] for entry in entries.values()),
                "entries": entries,
            },
        }
        (partial / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    say(f"done: database {database.name} and {len(entries)} files ({manifest['files']['bytes']} bytes)")
    if keep:
        _prune(directory, keep)
    return final


def _prune(directory: Path, keep: int) -> None:
    complete = sorted(p for p in directory.glob(PREFIX + "*") if (p / MANIFEST_NAME).exists())
    for old in complete[:-keep]:
        say(f"removing old backup {old.name}")
        shutil.rmtree(old)


# --- restore ---------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} is not a complete backup (manifest.json: {error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: unknown backup format {manifest.get('format')!r}")
    for part in ("database", "files"):
        path = folder / manifest[part]["file"]
        if not path.exists() or _sha256_file(path) != manifest[part]["sha256"]:
            raise BackupError(f"{path} is missing or damaged (checksum differs from manifest.json)")
    return manifest


def restore(folder: Path, replace: bool = False) -> None:
    manifest = _read_manifest(folder)
    database = Database(_database_url())
    store = FileStore()
    entries = manifest["files"]["entries"]

    # Every check before anything is written.
    exists = database.exists()
    if exists and database.user_relations() and not replace:
        raise BackupError(
            f"database {database.name} already has tables; restore into a new database, or pass --replace"
        )
    present = store.list()
    conflicts = [key for key in entries if key in present and store.sha256(key) != entries[key]["sha256"]]
    if conflicts and not replace:
        raise BackupError(
            f"{len(conflicts)} files in the {store.description} differ from the backup"
            f" (e.g. {conflicts[0]}); pass --replace to overwrite them"
        )

    if not exists:
        say(f"creating database {database.name}")
        database.create()
    elif replace:
        say(f"emptying database {database.name}")
        database.empty_public_schema()
    pg_restore = pg_binary("pg_restore", database.server_major())
    say(f"restoring database {database.name} from {folder.name} ...")
    database.run(
        [
            pg_restore,
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={database.name}",
            str(folder / DUMP_NAME),
        ]
    )

    say(f"restoring {len(entries)} files into the {store.description} ...")
    written = 0
    with tarfile.open(folder / FILES_NAME, "r") as archive:
        for member in archive:
            key = _safe_key(member.name)
            if not member.isfile() or key not in entries:
                raise BackupError(f"unexpected entry {member.name!r} in {FILES_NAME}")
            if key in present and key not in conflicts:
                continue  # already there, same bytes
            reader = _Hashing(archive.extractfile(member))
            store.write(key, reader)
            if reader.sha256.hexdigest() != entries[key]["sha256"]:
                raise BackupError(f"{key}: checksum differs from manifest.json")
            written += 1
    extra = len(set(present) - set(entries))
    say(
        f"done: database {database.name}, {written} files written, {len(entries) - written} already present"
        + (f"; {extra} stored files not in the backup were left alone" if extra else "")
    )


# --- command line ----------------------------------------------------------------


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise BackupError("DATABASE_URL must be set")
    return url


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="backup.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("backup", help="write a new backup folder into DIR")
    take.add_argument("directory", nargs="?", default=os.environ.get("PORTAL_BACKUP_DIR", "var/backups"))
    take.add_argument("--keep", type=int, default=None, help="then keep only the newest N backups in DIR")
    put = commands.add_parser("restore", help="restore one backup folder")
    put.add_argument("backup", help="a folder written by `backup` (portal-<time>)")
    put.add_argument("--replace", action="store_true", help="replace an existing database and files")
    args = parser.parse_args(argv)
    # A backup holds every family's documents: readable by its owner only.
    os.umask(0o077)
    try:
        if args.command == "backup":
            print(backup(Path(args.directory), keep=args.keep))
        else:
            restore(Path(args.backup), replace=args.replace)
    except BackupError as error:
        say(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
