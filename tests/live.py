"""Real processes for integration tests: an SMTP sink and a Celery worker.

Nothing of the project is faked: the worker is `celery -A config worker` in its own
process, reading the test database, and the sink is a real SMTP server on loopback.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """An SMTP server that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 OK"

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} emails arrived in {timeout}s")
                self._arrived.wait(left)
            return list(self.messages)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """`celery -A config worker` as its own process, on the test database."""

    def __init__(self, *, email_url: str, redis_url: str | None = None, extra_env: dict | None = None):
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"portal-worker-{os.getpid()}-{free_port()}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url or settings.REDIS_URL,
            "EMAIL_URL": email_url,
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30):
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", "1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{free_port()}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("worker did not start:\n" + self.log())
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
