#!/usr/bin/env python3
"""Give a command a PostgreSQL and a Redis, whatever the machine has.

    python3 scripts/services.py exec -- CMD ARGS...   run CMD with DATABASE_URL and REDIS_URL set
    python3 scripts/services.py env                   print the URLs of the shared services

Each service is resolved on its own, in this order:

1. DATABASE_URL / REDIS_URL already in the environment: used as is.
2. A server already answering on 127.0.0.1 (PostgreSQL on 5432, Redis on 6379), unless
   PORTAL_LOCAL_SERVICES=private.
3. A private instance started under var/pg or var/redis on a free port, stopped again when
   CMD exits. The PostgreSQL data directory is kept, so later runs start in about a second.

Pure standard library on purpose: it must run before (and without) the project's virtualenv.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PG_DIR = VAR / "pg"
REDIS_DIR = VAR / "redis"
LOCK_FILE = VAR / ".services.lock"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

HOST = "127.0.0.1"
SHARED_PG_PORT = 5432
SHARED_REDIS_PORT = 6379
DB_NAME = "portal"
DB_USER = "postgres"
START_TIMEOUT = 30.0
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ServiceError(Exception):
    """A problem worth one clear line to the user (and exit status 2)."""


def say(message: str) -> None:
    # stderr, so that the child's stdout (e.g. `exec -- env`) stays clean.
    print(f"portal: {message}", file=sys.stderr, flush=True)


# --- small helpers ---------------------------------------------------------


def is_root() -> bool:
    return os.geteuid() == 0


def can_apt() -> bool:
    """Only install system packages where that is clearly ours to do: root on Debian."""
    return is_root() and Path("/etc/debian_version").exists() and bool(shutil.which("apt-get"))


def apt_install(*packages: str) -> bool:
    """Quietly apt-get install; refresh the package lists only if the first try fails."""
    say(f"installing {' '.join(packages)} with apt-get ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    result = subprocess.run(install, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
    return result.returncode == 0


def free_port() -> int:
    """Let the kernel pick an unused port (tiny race until the server binds it; fine here)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tcp_open(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check, what: str, timeout: float = START_TIMEOUT, alive=lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not alive():
            raise ServiceError(f"{what} exited during start-up")
        time.sleep(0.1)
    raise ServiceError(f"{what} did not answer within {timeout:.0f} s")


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rel(path: Path) -> str:
    return os.path.relpath(path, ROOT)


# --- PostgreSQL client side ------------------------------------------------

try:  # present when run with the project's .venv python
    import psycopg2
except ImportError:
    psycopg2 = None

_CREATE_DB_SNIPPET = """
import sys, psycopg2
conn = psycopg2.connect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3],
                        dbname="postgres", connect_timeout=3)
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (sys.argv[4],))
if cur.fetchone() is None:
    cur.execute('CREATE DATABASE "%s"' % sys.argv[4])
"""


def find_pg_bindirs() -> list[Path]:
    """Directories holding initdb and pg_ctl: PATH first, then Debian's, newest first."""
    dirs = []
    on_path = shutil.which("pg_ctl")
    # Resolve symlinks (e.g. /usr/local/bin/pg_ctl): initdb and the postgres server must
    # come from the same installation as pg_ctl.
    if on_path and (Path(on_path).resolve().parent / "initdb").exists():
        dirs.append(Path(on_path).resolve().parent)
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    debian.sort(key=lambda d: [int(n) for n in re.findall(r"\d+", d)], reverse=True)
    for candidate in map(Path, debian):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            if candidate not in dirs:
                dirs.append(candidate)
    return dirs


def pg_client(name: str) -> str | None:
    """psql / pg_isready: on PATH, or next to a server installation."""
    found = shutil.which(name)
    if found:
        return found
    for bindir in find_pg_bindirs():
        if (bindir / name).exists():
            return str(bindir / name)
    return None


def pg_accepts(port: int) -> bool:
    """A real protocol-level check, not just an open TCP port."""
    if psycopg2 is not None:
        try:
            psycopg2.connect(
                host=HOST, port=port, user=DB_USER, dbname="postgres", connect_timeout=3
            ).close()
            return True
        except psycopg2.Error:
            return False
    pg_isready = pg_client("pg_isready")
    if pg_isready is None:
        return True  # the TCP port answered; ensure_database() will find out the rest
    command = [pg_isready, "-q", "-h", HOST, "-p", str(port), "-U", DB_USER, "-t", "3"]
    return subprocess.run(command).returncode == 0


def ensure_database(port: int) -> None:
    """CREATE DATABASE portal unless it exists. Uses whichever client is at hand."""
    if psycopg2 is not None:
        command = [sys.executable, "-c", _CREATE_DB_SNIPPET]
    elif pg_client("psql"):
        command = None
    elif VENV_PYTHON.exists():
        command = [str(VENV_PYTHON), "-c", _CREATE_DB_SNIPPET]
    else:
        raise ServiceError("cannot create the database: neither psycopg2 nor psql is available")

    if command is not None:
        result = subprocess.run(
            [*command, HOST, str(port), DB_USER, DB_NAME], capture_output=True, text=True
        )
    else:
        result = _ensure_database_psql(port)
    if result.returncode != 0:
        raise ServiceError(
            f"cannot create database {DB_NAME!r} on {HOST}:{port}: "
            + (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        )


def _ensure_database_psql(port: int) -> subprocess.CompletedProcess:
    # -w: never prompt for a password (a password-protected server is "not usable" here).
    psql = [pg_client("psql"), "-X", "-w", "-q", "-h", HOST, "-p", str(port), "-U", DB_USER]
    psql += ["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc"]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "3"}
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],
        capture_output=True,
        text=True,
        env=env,
    )
    if exists.returncode != 0 or exists.stdout.strip() == "1":
        return exists
    return subprocess.run(
        [*psql, f'CREATE DATABASE "{DB_NAME}"'], capture_output=True, text=True, env=env
    )


def pg_url(port: int) -> str:
    return f"postgres://{DB_USER}@{HOST}:{port}/{DB_NAME}"


# --- Redis client side -----------------------------------------------------


def redis_pong(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_url(port: int) -> str:
    return f"redis://{HOST}:{port}/0"


# --- shared (already running) services ---------------------------------------


def shared_postgres() -> str | None:
    if not (tcp_open(SHARED_PG_PORT) and pg_accepts(SHARED_PG_PORT)):
        return None
    try:
        ensure_database(SHARED_PG_PORT)
    except ServiceError as error:
        say(f"not using the PostgreSQL on {HOST}:{SHARED_PG_PORT}: {error}")
        return None
    return pg_url(SHARED_PG_PORT)


def shared_redis() -> str | None:
    return redis_url(SHARED_REDIS_PORT) if redis_pong(SHARED_REDIS_PORT) else None


# --- private instances -------------------------------------------------------


def service_user() -> pwd.struct_passwd | None:
    """initdb refuses to run as root, so root runs PostgreSQL as 'postgres' (or 'nobody')."""
    if not is_root():
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServiceError("running as root but neither a 'postgres' nor a 'nobody' user exists")


def as_service_user(command: list[str]) -> list[str]:
    user = service_user()
    return ["runuser", "-u", user.pw_name, "--", *command] if user else command


def give_to_service_user(path: Path) -> None:
    """chown a directory (recursively only if needed, e.g. made by another user before)."""
    user = service_user()
    if user is None or path.stat().st_uid == user.pw_uid:
        return
    for current, dirnames, filenames in os.walk(path):
        for name in [current, *(os.path.join(current, n) for n in dirnames + filenames)]:
            os.lchown(name, user.pw_uid, user.pw_gid)


class PrivatePostgres:
    """A throw-away-speed cluster in var/pg/data, listening on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.data = PG_DIR / "data"
        self.log = PG_DIR / "postgres.log"
        self.bindir = self._pick_bindir()
        self.port = free_port()
        self.socket_dir = self._socket_dir()
        self.started = False

    def _pick_bindir(self) -> Path:
        bindirs = find_pg_bindirs()
        if not bindirs and can_apt() and apt_install("postgresql"):
            bindirs = find_pg_bindirs()
        if not bindirs:
            raise ServiceError(
                "PostgreSQL is not reachable and initdb/pg_ctl are not installed; "
                "install the Debian package 'postgresql' or set DATABASE_URL"
            )
        version_file = self.data / "PG_VERSION"
        if not version_file.exists():
            return bindirs[0]
        # An existing cluster only starts with the major version that created it.
        wanted = version_file.read_text().strip()
        for bindir in bindirs:
            if self._major_version(bindir) == wanted:
                return bindir
        raise ServiceError(
            f"{rel(self.data)} was made by PostgreSQL {wanted}, which is not installed; "
            f"remove {rel(PG_DIR)} to start afresh"
        )

    @staticmethod
    def _major_version(bindir: Path) -> str:
        output = subprocess.run(
            [str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", output)
        return match.group(1) if match else ""

    def _socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes; deep checkouts fall back to /tmp.
        preferred = PG_DIR / "run"
        if len(str(preferred)) + len("/.s.PGSQL.65535") < 100:
            preferred.mkdir(parents=True, exist_ok=True)
            return preferred
        return Path(tempfile.mkdtemp(prefix="portal-pg-"))

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = as_service_user([str(self.bindir / args[0]), *args[1:]])
        # cwd inside var/pg: the service user may not be allowed into the caller's cwd.
        result = subprocess.run(command, cwd=PG_DIR, capture_output=True, text=True)
        if check and result.returncode != 0:
            details = (result.stdout + result.stderr).strip() or log_tail(self.log)
            raise ServiceError(f"{args[0]} {args[1] if len(args) > 1 else ''} failed:\n{details}")
        return result

    def start(self) -> None:
        PG_DIR.mkdir(parents=True, exist_ok=True)
        for path in (PG_DIR, self.socket_dir):
            give_to_service_user(path)
        self._check_service_user_can_write()
        if not (self.data / "PG_VERSION").exists():
            self._init_cluster()
        else:
            give_to_service_user(self.data)
        self._stop_leftover()
        options = (
            f"-p {self.port} -h {HOST} -k '{self.socket_dir}' "
            # Durability is pointless for a dev/test database; speed is not.
            "-F -c full_page_writes=off -c synchronous_commit=off"
        )
        wait = ["-w", "-t", str(int(START_TIMEOUT))]
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), *wait, "-o", options
        )
        self.started = True
        wait_until(lambda: tcp_open(self.port), f"PostgreSQL on port {self.port}")
        ensure_database(self.port)

    def _init_cluster(self) -> None:
        """initdb into a staging directory and rename it when complete: an interrupted
        initdb must not leave something that looks like a cluster (PG_VERSION comes early)."""
        say(f"creating a PostgreSQL cluster in {rel(self.data)} (first run only) ...")
        staging = PG_DIR / "data.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)  # a directory without PG_VERSION
        cluster = ["-D", str(staging), "-U", DB_USER, "-A", "trust", "-E", "UTF8"]
        self._run("initdb", *cluster, "--no-locale", "--no-sync")
        staging.rename(self.data)

    def _check_service_user_can_write(self) -> None:
        user = service_user()
        if user and subprocess.run(as_service_user(["test", "-w", str(PG_DIR)])).returncode:
            raise ServiceError(
                f"user {user.pw_name!r} cannot reach {PG_DIR}; make the parent "
                "directories traversable (chmod o+x) or set DATABASE_URL"
            )

    def _stop_leftover(self) -> None:
        """A server still running here was orphaned by a killed run (we hold the lock)."""
        if self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0:
            say(f"stopping a PostgreSQL left running in {rel(self.data)} by an earlier run")
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", check=False)
            self.started = False
        if not self.socket_dir.is_relative_to(PG_DIR):
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return pg_url(self.port)


def _die_with_parent() -> None:
    """Runs in the redis child before exec: if we get SIGKILLed, Redis goes too."""
    os.setsid()  # its own session: a Ctrl-C in the terminal must not reach it before we stop it
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class PrivateRedis:
    """redis-server as our child process: in-memory only, 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.binary = self._find_binary()
        self.port = free_port()
        self.pidfile = REDIS_DIR / "redis.pid"
        self.log = REDIS_DIR / "redis.log"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def _find_binary() -> str:
        found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin")
        if not found and can_apt() and apt_install("redis-server"):
            found = shutil.which("redis-server")
        if not found:
            raise ServiceError(
                "Redis is not reachable and redis-server is not installed; "
                "install the Debian package 'redis-server' or set REDIS_URL"
            )
        return found

    def start(self) -> None:
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        # In memory only (no snapshots, no AOF): the test suite and `make run` start fresh.
        command = [self.binary, "--port", str(self.port), "--bind", HOST]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        command += ["--dir", str(REDIS_DIR), "--pidfile", str(self.pidfile)]
        command += ["--logfile", str(self.log)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        try:
            wait_until(
                lambda: redis_pong(self.port),
                f"Redis on port {self.port}",
                alive=lambda: self.process.poll() is None,
            )
        except ServiceError as error:
            raise ServiceError(f"{error}\n{log_tail(self.log)}") from None

    def _stop_leftover(self) -> None:
        """Normally PDEATHSIG already took care of it; this covers the rest."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                say(f"stopping a Redis left running under {rel(REDIS_DIR)} by an earlier run")
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda: not Path(f"/proc/{pid}").exists(), "old Redis", timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def url(self) -> str:
        return redis_url(self.port)


def lock_private_dir(stack: contextlib.ExitStack) -> None:
    """One private PostgreSQL per data directory: a second concurrent run must not stop
    (or fight over) the first one's server. The lock dies with our process."""
    VAR.mkdir(exist_ok=True)
    handle = stack.enter_context(open(LOCK_FILE, "a+"))
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ServiceError(
            f"another 'services.py exec' is using the private services under {rel(VAR)}/; "
            "wait for it to finish"
        ) from None


# --- resolution ----------------------------------------------------------------


def wants_private() -> bool:
    return os.environ.get("PORTAL_LOCAL_SERVICES", "").strip().lower() == "private"


def resolve(stack: contextlib.ExitStack, allow_private: bool = True) -> tuple[dict, list]:
    """Return (URLs to put into the environment, human-readable descriptions).

    Without allow_private (the `env` subcommand) only the shared services are looked at.
    """
    urls, notes = {}, []
    shared_ok = not (allow_private and wants_private())
    specs = [
        ("DATABASE_URL", "PostgreSQL", SHARED_PG_PORT, shared_postgres, PrivatePostgres, PG_DIR),
        ("REDIS_URL", "Redis", SHARED_REDIS_PORT, shared_redis, PrivateRedis, REDIS_DIR),
    ]
    locked = False
    for variable, label, shared_port, find_shared, Private, directory in specs:
        if os.environ.get(variable):
            urls[variable] = os.environ[variable]
            notes.append(f"{label} from {variable}")
            continue
        url = find_shared() if shared_ok else None
        if url:
            urls[variable] = url
            notes.append(f"{label} at {HOST}:{shared_port} (local)")
            continue
        if not allow_private:
            notes.append(f"{label} not reachable on {HOST}:{shared_port}")
            continue
        if not locked:
            lock_private_dir(stack)
            locked = True
        instance = Private()
        # Registered before start() so that a half-started instance is stopped as well.
        stack.callback(instance.stop)
        instance.start()
        urls[variable] = instance.url
        notes.append(f"{label} private on {HOST}:{instance.port} under {rel(directory)}")
    return urls, notes


# --- running the child ---------------------------------------------------------


def foreground_tty() -> int | None:
    """The terminal we may hand to the child, if we are its foreground job."""
    with contextlib.suppress(OSError):
        fd = sys.stdin.fileno()
        if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
            return fd
    return None


def set_foreground(fd: int | None, pgid: int) -> None:
    if fd is None:
        return
    # A background process changing the terminal's foreground group gets SIGTTOU.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.tcsetpgrp(fd, pgid)
    signal.signal(signal.SIGTTOU, previous)


def run_child(command: list[str], env: dict) -> int:
    """Run the command in its own process group, like a shell runs a job.

    Its own group lets us signal it together with everything it started (honcho's
    processes, pytest's servers). When we own the terminal the child becomes the
    foreground group, so Ctrl-C goes straight to it and it can still read the tty.
    """
    tty = foreground_tty()
    child_pid, pending = None, []

    def child_setup() -> None:
        os.setpgid(0, 0)
        set_foreground(tty, os.getpgrp())

    def forward(signum, _frame) -> None:
        if child_pid is None:
            pending.append(signum)  # arrived while the child was being spawned
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child_pid, signum)

    # Handlers first, so that no signal slips through between spawn and installation.
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)
    try:
        try:
            child = subprocess.Popen(command, env=env, preexec_fn=child_setup)
        except OSError as error:
            say(f"cannot run {command[0]!r}: {error.strerror}")
            return 127 if isinstance(error, FileNotFoundError) else 126  # as a shell would
        child_pid = child.pid
        for signum in pending:
            forward(signum, None)
        while True:
            _, status = os.waitpid(child_pid, os.WUNTRACED)
            if os.WIFSTOPPED(status):
                # Ctrl-Z would stop the child while nobody can resume it: carry on instead.
                os.killpg(child_pid, signal.SIGCONT)
                continue
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode
    finally:
        set_foreground(tty, os.getpgrp())


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def cmd_exec(command: list[str]) -> int:
    if not command:
        raise ServiceError("usage: services.py exec -- CMD [ARGS...]")
    # Until the child runs, SIGTERM/SIGHUP unwind like Ctrl-C, so that the ExitStack stops
    # whatever was (half) started.
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, _interrupt)
    with contextlib.ExitStack() as stack:
        urls, notes = resolve(stack)
        say(", ".join(notes))
        code = run_child(command, {**os.environ, **urls})
        # A second Ctrl-C must not interrupt stopping the private servers.
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
    # Shell convention: killed by signal N -> 128 + N.
    return 128 - code if code < 0 else code


def cmd_env() -> int:
    with contextlib.ExitStack() as stack:
        urls, notes = resolve(stack, allow_private=False)
    for variable, url in urls.items():
        print(f"{variable}={url}")
    say(", ".join(notes))
    return 0 if len(urls) == 2 else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["exec"]:
        rest = argv[1:]
        return cmd_exec(rest[1:] if rest[:1] == ["--"] else rest)
    if argv == ["env"]:
        return cmd_env()
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ServiceError as error:
        say(str(error))
        sys.exit(2)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
