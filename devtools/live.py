"""Real services for integration tests and benchmarks: free ports, an SMTP sink, a Celery
worker, a private redis-server, and any long-running process with its own log.

Nothing of the project is faked: the worker is `celery -A config worker` in its own
process group, reading whatever database it is given (by default the one this process's
Django uses: the test database under pytest, a portal_bench* database in bench/), and
the sink is a real SMTP server (aiosmtpd) on loopback.

The defaults suit a test: one pool process, no gossip, mingle or heartbeat, database
connections closed after each task, the log in a temporary file. A benchmark passes the
production command's options instead (see bench/email_latency.py, bench/load.py).
Django and aiosmtpd are imported only when a class needs them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


class ServiceError(AssertionError):
    """A live service did not do what was expected in time. An AssertionError, so that
    pytest reports it as a test failure, with the service's log in the message."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (the kernel's pick; a tiny race
    until the caller binds it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until(
    check: Callable[[], bool],
    what: str,
    timeout: float,
    *,
    alive: Callable[[], bool] = lambda: True,
    log: Callable[[], str] = lambda: "",
    interval: float = 0.1,
) -> None:
    """Poll `check` until it is true; ServiceError (with `log()`) on timeout or once
    `alive()` is false."""
    deadline = time.monotonic() + timeout
    while not check():
        if not alive():
            raise ServiceError(f"{what}: the process exited\n{log()}")
        if time.monotonic() > deadline:
            raise ServiceError(f"{what}: not within {timeout:g} s\n{log()}")
        time.sleep(interval)


def database_url(name: str | None = None) -> str:
    """The URL of the database Django's default connection uses right now (under pytest,
    the test database), or of the database `name` on the same server."""
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    host = s["HOST"] or HOST
    return f"postgres://{s['USER']}{password}@{host}:{s['PORT'] or 5432}/{name or s['NAME']}"


_django_database_url = database_url  # Worker's parameter of the same name hides it


def point_celery_at(broker_url: str) -> None:
    """Make this process publish to another broker: the connection and producer pools
    were built for the old URL, so they are dropped and rebuilt on next use."""
    from config.celery import app

    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None


# --- Any process ------------------------------------------------------------------------


@dataclass
class Process:
    """A command in its own process group (session), its output in a log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    cpu_s: float = 0.0  # user + system of it and its reaped children, once it ended

    @classmethod
    def start(
        cls, name: str, command: Sequence[str], *, env: Mapping[str, str], log_path: Path, cwd: Path = ROOT
    ) -> Process:
        with open(log_path, "ab") as out:
            popen = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name, popen, log_path)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return self.log()[-chars:]

    def wait(self, timeout: float) -> int:
        """Wait for it to end by itself (SIGKILL to its group after `timeout`); its exit code."""
        self._reap(timeout)
        return self.popen.returncode

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the process (a warm shutdown: gunicorn's master, Celery's main
        process stop their children), then SIGKILL to whatever is left of its group."""
        if self.popen.returncode is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._reap(timeout)
        self._kill_group()

    def kill(self) -> None:
        """SIGKILL the process and its children at once (e.g. a worker mid-task)."""
        self._kill_group()
        if self.popen.returncode is None:
            self._reap(10)

    def _kill_group(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self, timeout: float) -> None:
        """Wait for the process with wait4, which also gives its CPU time."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (Popen.poll)
                self.popen.poll()
                return
            if pid:
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                self.cpu_s = usage.ru_utime + usage.ru_stime
                return
            if time.monotonic() > deadline:
                self._kill_group()
                _, status, usage = os.wait4(self.popen.pid, 0)
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                self.cpu_s = usage.ru_utime + usage.ru_stime
                return
            time.sleep(0.05)


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A message the sink accepted: when (perf_counter and wall clock) and its bytes."""

    at: float
    wall: float
    raw: bytes


class SmtpSink:
    """An SMTP server on loopback that keeps every message it accepts (`messages`), and
    notes when each Message-ID arrived (`arrivals`, `wait_for_id`).

    With `stall_first_recipient()`, the first conversation stops before its message is
    sent (at RCPT TO) until `release()`: a window in which to kill the sender.
    """

    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.arrivals: dict[str, Arrival] = {}
        self._arrived = threading.Condition()
        self.port = port or free_port()
        self._controller = Controller(self, hostname=HOST, port=self.port)
        self._stall = False
        self.stalled = threading.Event()
        self._released = threading.Event()

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def stall_first_recipient(self) -> None:
        self._stall = True

    def release(self) -> None:
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
        arrival = Arrival(time.perf_counter(), time.time(), envelope.original_content)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        message_id = str(BytesHeaderParser().parsebytes(envelope.original_content)["Message-ID"]).strip()
        with self._arrived:
            self.messages.append(message)
            self.arrivals[message_id] = arrival
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The messages once at least `count` have arrived."""
        self._wait(
            lambda: len(self.messages) >= count,
            timeout,
            lambda: f"{len(self.messages)} of {count} emails arrived in {timeout}s",
        )
        with self._arrived:
            return list(self.messages)

    def wait_for_id(self, message_id: str, timeout: float = 30) -> Arrival:
        """The arrival of the message with this Message-ID (e.g. "<outbox-7@permit-portal>")."""
        self._wait(
            lambda: message_id in self.arrivals, timeout, lambda: f"{message_id} did not arrive within {timeout:g} s"
        )
        return self.arrivals[message_id]

    def _wait(self, done: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(failure())
                self._arrived.wait(left)


# --- Celery -------------------------------------------------------------------------------

# A worker alone on its broker needs none of the cluster chatter; it starts faster without.
STANDALONE = ("--without-gossip", "--without-mingle", "--without-heartbeat")


class Worker:
    """`celery -A config worker -l info` as its own process group.

    Its environment is `env` (default: this process's) with DATABASE_URL (default: the
    database Django uses now), REDIS_URL (default: settings.REDIS_URL), the secret key of
    this process's settings, EMAIL_URL when given, then `extra_env` (a None value removes
    a variable). `concurrency=None` keeps Celery's default (one pool process per core);
    `standalone=False` and `conn_max_age=None` give the production command and
    persistent database connections.
    """

    def __init__(
        self,
        *,
        email_url: str | None = None,
        redis_url: str | None = None,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str | None] | None = None,
        log_path: Path | None = None,
        concurrency: int | None = 1,
        standalone: bool = True,
        conn_max_age: str | None = "0",
        name: str = "test",
    ):
        from django.conf import settings

        self.log_path = log_path or (
            Path(os.environ.get("TMPDIR", "/tmp")) / f"portal-worker-{os.getpid()}-{free_port()}.log"
        )
        self.env = dict(os.environ if env is None else env)
        self.env.update(
            DATABASE_URL=database_url or _django_database_url(),
            REDIS_URL=redis_url or settings.REDIS_URL,
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
        )
        if email_url is not None:
            self.env["EMAIL_URL"] = email_url
        overrides = {"DATABASE_CONN_MAX_AGE": conn_max_age, **(extra_env or {})}
        for key, value in overrides.items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        self.command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info"]
        if concurrency is not None:
            self.command += ["-c", str(concurrency)]
        if standalone:
            self.command += STANDALONE
        self.command += ["-n", f"{name}-{os.getpid()}-{free_port()}@%h"]
        self.process: Process | None = None

    def start(self, timeout: float = 60) -> Worker:
        """Start it and wait for its "ready." line (a new one, when the log is reused)."""
        ready_before = self.log().count("ready.")
        self.process = Process.start("worker", self.command, env=self.env, log_path=self.log_path)
        wait_until(
            lambda: self.log().count("ready.") > ready_before,
            "the Celery worker did not start",
            timeout,
            alive=self.process.alive,
            log=self.log,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, occurrences: int = 1, timeout: float = 60) -> None:
        wait_until(
            lambda: self.log().count(text) >= occurrences,
            f"the worker's log never showed {text!r}",
            timeout,
            log=self.log,
        )

    def concurrency(self) -> str:
        """What the worker's banner says, e.g. "2 (prefork)"."""
        for line in self.log().splitlines():
            if "concurrency:" in line:
                return line.split("concurrency:", 1)[1].strip()
        return "?"

    @property
    def cpu_s(self) -> float:
        return self.process.cpu_s if self.process else 0.0

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, mid-task."""
        if self.process:
            self.process.kill()

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL to what is left of its process group."""
        if self.process:
            self.process.stop(timeout)


# --- Redis --------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server on a free port, without persistence, that a test can stop
    and start again."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.dir = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
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
        wait_until(
            self._pong, "redis-server did not start", timeout, alive=lambda: self.process.poll() is None, interval=0.05
        )
        return self

    def _pong(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
