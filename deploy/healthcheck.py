#!/usr/bin/env python3
"""Health checks of the portal's containers (docker-compose.yml, `healthcheck:`).

    python deploy/healthcheck.py web    GET /healthz on this container's gunicorn
    python deploy/healthcheck.py beat   Celery beat is running here and reaches its broker

Exit status 0 means healthy. Standard library plus the redis client (in the image), and
no Django: a check must be cheap, it runs every 30 seconds.
(The worker's check is `celery inspect ping`, which proves it consumes from the broker.)
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path

WEB_PORT = 8000
BEAT_SCHEDULE = Path(os.environ.get("PORTAL_BEAT_SCHEDULE", "/app/var/celerybeat-schedule"))


def _host_header() -> str:
    """A Host header Django accepts (any other gets a 400): the first entry of
    DJANGO_ALLOWED_HOSTS, where '.example.org' also admits 'example.org' itself."""
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def check_web() -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=5)
    try:
        # X-Forwarded-Proto as nginx sends it: with DJANGO_SECURE_SSL_REDIRECT=true a plain
        # request would only get a redirect.
        connection.request("GET", "/healthz", headers={"Host": _host_header(), "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read(500).decode("utf-8", "replace")
    except OSError as error:
        return f"web: {error}"
    finally:
        connection.close()
    if response.status != 200:
        return f"web: /healthz answered {response.status}: {body}"
    return None


def _own_command_line() -> str:
    """The container's main process (PID 1) is the service itself (exec-form command)."""
    try:
        return Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def check_beat() -> str | None:
    if "beat" not in _own_command_line():
        return "beat: the container's main process is not celery beat"
    # Beat writes its schedule file when it starts (and on every sync afterwards).
    if not any(BEAT_SCHEDULE.parent.glob(BEAT_SCHEDULE.name + "*")):
        return f"beat: no schedule file {BEAT_SCHEDULE} yet"
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as error:  # any failure to reach the broker makes beat useless
        return f"beat: broker unreachable: {error}"
    return None


CHECKS = {"web": check_web, "beat": check_beat}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: healthcheck.py {{{'|'.join(CHECKS)}}}", file=sys.stderr)
        return 2
    problem = CHECKS[argv[0]]()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
