"""Real processes for integration tests: an SMTP sink and a Celery worker.

Nothing of the project is faked: the worker is `celery -A config worker` in its own
process, reading the test database, and the sink is a real SMTP server on loopback.
"""

import asyncio
import os
import signal
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
    """An SMTP server that keeps every message it accepts.

    With `stall_first_recipient()`, the first conversation stops before its message is
    sent (at RCPT TO) until `release()`: a window in which to kill the sender.
    """

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._stall = False
        self.stalled = threading.Event()
        self._released = threading.Event()

    def stall_first_recipient(self):
        self._stall = True

    def release(self):
        self._released.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._stall and not self.stalled.is_set():
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

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
        log = open(self.log_path, "ab")
        self._ready_marks = self.log_path.read_bytes().count(b"ready.")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{free_port()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while self.log_path.read_bytes().count(b"ready.") <= self._ready_marks:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("worker did not start:\n" + self.log())
            time.sleep(0.1)
        return self

    def wait_for_log(self, text: str, occurrences: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < occurrences:
            if time.monotonic() > deadline:
                raise AssertionError(f"worker log never showed {text!r}:\n" + self.log())
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL the worker and its pool processes at once, mid-task."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RedisServer:
    """A private redis-server on a free port that a test can stop and start again."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def point_celery_at(broker_url: str) -> None:
    """Make this process publish to another broker: the connection and producer pools
    were built for the old URL, so they are dropped and rebuilt on next use."""
    from config.celery import app

    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None
