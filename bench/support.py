"""Helpers for the benchmarks that leave portal_bench: other bench databases, a Redis
database of the bench's own for Celery messages, and memory figures.

Everything here runs after `common.setup_django()`.
"""

from __future__ import annotations

import contextlib
import os
import time
from urllib.parse import urlsplit, urlunsplit

from bench.common import say

# Celery messages of the bench go to this Redis database number, never to the one that
# `make run` workers or the test suite's workers consume (0).
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))


# --- Other bench databases ---------------------------------------------------------


def create_database(name: str) -> bool:
    """CREATE DATABASE `name` on the bench's server unless it exists; True if created."""
    import psycopg2
    from django.db import connection

    assert name.startswith("portal_bench"), "the bench only creates portal_bench* databases"
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres", user=s["USER"], password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, connect_timeout=5,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is not None:
                return False
            say(f"creating database {name}")
            cur.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        conn.close()


@contextlib.contextmanager
def use_database(name: str):
    """Point Django's default connection at the bench database `name` (created and
    migrated if needed) for the duration of the block, then back."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections

    conn = connections["default"]
    create_database(name)
    previous = conn.settings_dict["NAME"]
    conn.close()
    conn.settings_dict["NAME"] = name
    ContentType.objects.clear_cache()  # content type ids differ between databases
    try:
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        say(f"{name}: migrations applied ({time.perf_counter() - started:.1f} s)")
        yield
    finally:
        conn.close()
        conn.settings_dict["NAME"] = previous
        ContentType.objects.clear_cache()


# --- A Redis database of the bench's own -------------------------------------------


def bench_redis_url() -> str:
    from django.conf import settings

    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def _kombu_key(key: bytes) -> bool:
    """Keys that Celery's Redis transport creates for the default queue."""
    return (
        key == b"celery"
        or key.startswith(b"celery\x06\x16")  # priority sub-queues
        or key.startswith(b"_kombu.binding")
        or key.startswith(b"unacked")
    )


@contextlib.contextmanager
def private_broker():
    """Publish this process's Celery messages to the bench's Redis database for the
    duration of the block; at the end purge the queue and remove kombu's keys, so that
    the bench leaves nothing in Redis. Refuses a database holding anything else."""
    import redis

    from config.celery import app
    from devtools.live import point_celery_at

    url = bench_redis_url()
    client = redis.Redis.from_url(url, socket_timeout=5)
    foreign = [k for k in client.scan_iter(count=1000) if not _kombu_key(k)]
    if foreign:
        raise SystemExit(
            f"bench: Redis database {BENCH_REDIS_DB} holds keys that are not the bench's "
            f"({foreign[:3]!r} ...); choose another one with BENCH_REDIS_DB=n"
        )
    previous = app.conf.broker_url
    point_celery_at(url)
    try:
        yield url
    finally:
        purged = app.control.purge()
        leftovers = [k for k in client.scan_iter(count=1000) if _kombu_key(k)]
        if leftovers:
            client.delete(*leftovers)
        remaining = client.dbsize()
        say(f"Redis db {BENCH_REDIS_DB}: purged {purged} queued message(s), removed "
            f"{len(leftovers)} kombu key(s); {remaining} key(s) left")
        point_celery_at(previous)
        client.close()


# --- Memory ------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_kib() -> int:
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """VmHWM: the value getrusage(RUSAGE_SELF).ru_maxrss reports for this process's own
    memory. (In a child started by subprocess, ru_maxrss also includes the parent's peak,
    inherited through vfork/exec, so the child reads VmHWM.)"""
    return _status_kib("VmHWM")
