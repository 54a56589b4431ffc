"""docker-compose.yml, the Dockerfiles and the nginx configuration, checked without docker
(which cannot run here): every command names modules, management commands and files that
exist; the environment passed to the portal's containers is exactly what config/settings.py
reads, and loads; nginx's paths and ports are the ones the portal and the volumes use;
exactly one beat; a health check on every long-running service."""

import ast
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
NGINX_DIR = ROOT / "deploy" / "nginx"
NGINX = "\n".join((NGINX_DIR / name).read_text() for name in ("nginx.conf", "portal-locations.conf"))
ENV_EXAMPLE = ROOT / "deploy" / "env.example"

PORTAL_IMAGE = "permit-portal:latest"
PORTAL_SERVICES = {name for name, service in SERVICES.items() if service.get("image") == PORTAL_IMAGE}
JOBS = {name for name, service in SERVICES.items() if service.get("restart") == "no"}
# Passed to the portal's containers but read by something other than config/settings.py.
NOT_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": {"migrate", "web", "worker", "beat", "backup"},  # Django itself
    "WEB_CONCURRENCY": {"web"},  # gunicorn's number of workers
}
# The image's working directory: where the checkout's files are at run time.
APP_DIR = PurePosixPath(re.search(r"^WORKDIR\s+(\S+)", DOCKERFILE, re.M).group(1))


# --- helpers ---------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


def interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op in (":-", ":?") and not current:
            current = None
        if current is None:
            if op and op.endswith("?"):
                raise AssertionError(f"compose would stop: {name} unset ({arg})")
            return interpolate(arg, env) if op else ""
        return current

    return _VARIABLE.sub(replace, value)


def variables_used(value) -> dict[str, str | None]:
    """Every ${VAR} in the compose file, with its operator."""
    found = {}
    for match in _VARIABLE.finditer(json.dumps(value)):
        if match.group("name"):
            found.setdefault(match.group("name"), match.group("op"))
    return found


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def documented_in_example() -> set[str]:
    """Names set in deploy/env.example, or shown there commented out (# NAME=...)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))


def district_env() -> dict[str, str]:
    """deploy/env.example as a district fills it in."""
    env = env_example()
    env.update(
        DJANGO_SECRET_KEY="x" * 50,
        POSTGRES_PASSWORD="pw123",
        AWS_ACCESS_KEY_ID="portal",
        AWS_SECRET_ACCESS_KEY="secret123",
    )
    return env


def resolved(service: str) -> dict:
    return interpolate(SERVICES[service], district_env())


def dockerfile_cmd(text: str) -> list[str]:
    return json.loads(re.search(r"^CMD\s+(\[.*\])\s*$", text, re.M).group(1))


def argvs(command) -> list[list[str]]:
    """The programs a command runs: `sh -c "a && b"` is two of them."""
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"]):
        return [argv for part in command[2:] for argv in argvs_of_shell(part)]
    return [command]


def argvs_of_shell(script: str) -> list[list[str]]:
    parts = re.split(r"&&|\|\||;|\|", script)
    return [shlex.split(part.split(">")[0]) for part in parts if part.strip()]


def service_argvs(name: str) -> list[list[str]]:
    service = resolved(name)
    command = service.get("command") or dockerfile_cmd(DOCKERFILE)
    entrypoint = service.get("entrypoint")
    if entrypoint:
        entrypoint = shlex.split(entrypoint) if isinstance(entrypoint, str) else entrypoint
        command = entrypoint + (shlex.split(command) if isinstance(command, str) else command)
    return argvs(command)


def healthcheck_argvs(name: str) -> list[list[str]]:
    test = resolved(name)["healthcheck"]["test"]
    if isinstance(test, str):
        return argvs_of_shell(test)
    if test[0] == "CMD-SHELL":
        return argvs_of_shell(test[1])
    assert test[0] == "CMD", test
    return [test[1:]]


def settings_names() -> tuple[set[str], set[str]]:
    """(every variable config/settings.py reads, the ones it cannot do without)."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    read, required = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            is_env = (
                isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
            ) or (isinstance(func, ast.Name) and func.id == "env")
            if is_env:
                read.add(node.args[0].value)
                if not any(keyword.arg == "default" for keyword in node.keywords):
                    required.add(node.args[0].value)
            elif isinstance(func, ast.Name) and func.id == "_required":
                read.add(node.args[0].value)
                required.add(node.args[0].value)
        # `if not env.str("X", default=""): raise ImproperlyConfigured(...)`
        if isinstance(node, ast.If) and any(isinstance(statement, ast.Raise) for statement in node.body):
            for call in ast.walk(node.test):
                if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant):
                    required.add(call.args[0].value)
    return read, required


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch(prefix, pattern.rstrip("/")) for pattern in patterns for prefix in prefixes)


def volume_mounts(name: str) -> dict[str, str]:
    """Named volume (or host path) -> mount point in the container."""
    mounts = {}
    for entry in resolved(name).get("volumes", []):
        source, target = entry.split(":")[:2]
        mounts[source] = target
    return mounts


def nginx_location(prefix: str) -> str:
    match = re.search(r"location\s+" + re.escape(prefix) + r"\s*\{(?P<body>.*?)\n\}", NGINX, re.S)
    assert match, f"nginx has no location {prefix}"
    return match.group("body")


def nginx_directive(body: str, name: str) -> list[str]:
    return [value.strip() for value in re.findall(r"^\s*" + name + r"\s+([^;]+);", body, re.M)]


# --- the services ------------------------------------------------------------------


def test_the_stack_has_every_part_of_the_deployment():
    assert PORTAL_SERVICES == {"migrate", "web", "worker", "beat", "backup"}
    for part in ("nginx", "postgres", "redis", "minio", "createbuckets", "mailpit"):
        assert part in SERVICES
    # Volumes for the data: the database, the broker, the object store, the caught mail.
    for service, target in (
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
        ("minio", "/data"),
        ("mailpit", "/data"),
    ):
        assert target in volume_mounts(service).values(), service
    used = {source for name in SERVICES for source in volume_mounts(name) if not source.startswith((".", "/"))}
    assert used == set(COMPOSE["volumes"])


def test_every_long_running_service_has_a_health_check_and_jobs_are_awaited():
    for name, service in SERVICES.items():
        if name in JOBS:
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck and not healthcheck.get("disable"), f"{name} has no health check"
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name
    for name, service in SERVICES.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on without conditions"
        for other, condition in depends_on.items():
            assert other in SERVICES, f"{name} depends on unknown {other}"
            expected = "service_completed_successfully" if other in JOBS else "service_healthy"
            assert condition["condition"] == expected, (name, other)


def test_exactly_one_beat():
    beats = [name for name in SERVICES if any("beat" in argv for argv in service_argvs(name))]
    assert beats == ["beat"]
    beat = SERVICES["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat
    # No worker runs an embedded beat either.
    for argv in service_argvs("worker"):
        assert "-B" not in argv and "--beat" not in argv
    # The beat health check looks at the schedule file beat is told to write.
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        healthcheck = importlib.import_module("healthcheck")
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    (argv,) = service_argvs("beat")
    assert argv[argv.index("--schedule") + 1] == str(healthcheck.BEAT_SCHEDULE)
    assert str(healthcheck.BEAT_SCHEDULE).startswith(volume_mounts("beat")["portal-var"] + "/")


def test_every_command_runs_something_that_exists():
    commands = get_commands()
    seen = set()
    for name in sorted(PORTAL_SERVICES):
        for argv in service_argvs(name) + (healthcheck_argvs(name) if "healthcheck" in SERVICES[name] else []):
            program = argv[0]
            if program == "python" and argv[1] == "manage.py":
                assert argv[2] in commands, f"{name}: no management command {argv[2]}"
                seen.add(argv[2])
            elif program == "python":
                script = argv[1]
                assert (ROOT / script).is_file(), f"{name}: {script} does not exist"
                assert not dockerignored(script), f"{name}: {script} is left out of the image (.dockerignore)"
                seen.add(script)
            elif program == "celery":
                assert argv[1:3] == ["-A", "config"], argv
                from celery.app.utils import find_app

                app = find_app("config")
                assert app.main == "config"
                assert argv[3] in ("worker", "beat", "inspect"), argv
                seen.add(f"celery {argv[3]}")
            elif program == "gunicorn":
                module = importlib.import_module(argv[1])
                assert callable(module.application)
                assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
                seen.add("gunicorn")
            else:
                pytest.fail(f"{name}: unexpected program {argv}")
    assert {"migrate", "collectstatic", "celery worker", "celery beat", "gunicorn"} <= seen
    assert {"scripts/backup.py", "deploy/healthcheck.py"} <= seen
    # The health check and backup scripts' subcommands exist.
    for name in PORTAL_SERVICES:
        for argv in service_argvs(name) + (healthcheck_argvs(name) if "healthcheck" in SERVICES[name] else []):
            if argv[:2] == ["python", "deploy/healthcheck.py"]:
                assert argv[2] in ("web", "beat")
            if argv[:2] == ["python", "scripts/backup.py"]:
                assert argv[2] in ("backup", "restore")


def test_beat_has_the_portals_schedule_and_the_worker_its_tasks():
    from celery.app.utils import find_app

    from config.schedule import BEAT_SCHEDULE

    app = find_app("config")
    app.loader.import_default_modules()
    assert app.conf.beat_schedule == BEAT_SCHEDULE, "config/schedule.py is not the beat schedule (CELERY_BEAT_SCHEDULE)"
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, f"no task {entry['task']} registered"


def test_the_web_command_is_the_images_default():
    assert "command" not in SERVICES["web"]
    assert dockerfile_cmd(DOCKERFILE)[:2] == ["gunicorn", settings.WSGI_APPLICATION.rpartition(".")[0]]
    assert re.search(r"^COPY \. \.$", DOCKERFILE, re.M)
    assert "8000" in [str(port) for port in SERVICES["web"]["expose"]]


# --- the environment -------------------------------------------------------------------


def test_the_environment_is_the_one_the_settings_read():
    read, required = settings_names()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= required
    for name in sorted(PORTAL_SERVICES):
        environment = SERVICES[name]["environment"]
        unknown = {key for key in set(environment) - read if name not in NOT_SETTINGS.get(key, ())}
        assert not unknown, f"{name} passes variables config/settings.py never reads: {sorted(unknown)}"
        missing = required - set(environment)
        assert not missing, f"{name} lacks required settings: {sorted(missing)}"
        assert environment["DJANGO_SETTINGS_MODULE"] == os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
        assert importlib.util.find_spec(environment["DJANGO_SETTINGS_MODULE"])


def test_every_compose_variable_is_in_the_example_env_file():
    example = env_example()
    used = variables_used(COMPOSE)
    assert set(used) <= documented_in_example(), sorted(set(used) - documented_in_example())
    # The variables compose cannot start without are left for the district to fill in.
    for name, op in used.items():
        if op and op.endswith("?"):
            assert example[name] == "", name


def test_the_settings_load_from_the_compose_environment():
    """config/settings.py run in a fresh interpreter with exactly the web container's
    environment: production mode, S3 storage on the bundled store, the right services."""
    environment = {key: str(value) for key, value in resolved("web")["environment"].items()}
    probe = (
        "import json, runpy;"
        "s = runpy.run_path('config/settings.py');"
        "print(json.dumps({k: s[k] for k in ('DEBUG', 'STORAGE_BACKEND', 'PORTAL_ACCEL_REDIRECT', 'REDIS_URL',"
        " 'EMAIL_HOST', 'EMAIL_PORT', 'SITE_URL', 'ALLOWED_HOSTS', 'SESSION_COOKIE_SECURE')}"
        " | {'db': s['DATABASES']['default']['HOST'], 'storage': s['STORAGES']['default'],"
        " 'media': str(s['MEDIA_ROOT'])}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["DEBUG"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["db"] == "postgres"
    assert loaded["REDIS_URL"] == "redis://redis:6379/0"
    assert (loaded["EMAIL_HOST"], loaded["EMAIL_PORT"]) == ("mailpit", 1025)
    assert loaded["STORAGE_BACKEND"] == "s3"
    options = loaded["storage"]["OPTIONS"]
    assert loaded["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "portal-files"
    assert options["endpoint_url"] == "http://minio:9000"
    assert (options["access_key"], options["secret_key"]) == ("portal", "secret123")
    assert options["querystring_auth"] is True and options["file_overwrite"] is False
    assert loaded["media"] == "/app/var/media"
    assert loaded["ALLOWED_HOSTS"] == ["permits.example.org"]


def test_the_object_store_and_the_portal_share_bucket_and_keys():
    portal = resolved("web")["environment"]
    minio = resolved("minio")["environment"]
    buckets = resolved("createbuckets")["environment"]
    assert (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == (
        portal["AWS_ACCESS_KEY_ID"],
        portal["AWS_SECRET_ACCESS_KEY"],
    )
    assert buckets["STORE_BUCKET"] == portal["AWS_STORAGE_BUCKET_NAME"]
    assert urlsplit(portal["AWS_S3_ENDPOINT_URL"]).netloc == "minio:9000"
    assert "http://minio:9000" in " ".join(resolved("createbuckets")["command"])


def test_postgres_matches_the_pg_dump_in_the_image():
    """pg_dump refuses a newer server: the image's client (Debian's) and the server agree."""
    client_major = {"bookworm": "15", "trixie": "17"}[re.search(r"^FROM \S+-(\w+)\s*$", DOCKERFILE, re.M).group(1)]
    assert "postgresql-client" in DOCKERFILE
    assert SERVICES["postgres"]["image"].split(":")[1].split(".")[0] == client_major


# --- nginx -----------------------------------------------------------------------------


def test_nginx_proxies_to_gunicorn():
    assert SERVICES["nginx"]["build"] == "deploy/nginx"
    upstream = re.search(r"upstream\s+portal_web\s*\{(.*?)\}", NGINX, re.S).group(1)
    assert nginx_directive(upstream, "server") == ["web:8000"]
    root = nginx_location("/")
    assert nginx_directive(root, "proxy_pass") == ["http://portal_web"]
    assert "Host $http_host" in nginx_directive(root, "proxy_set_header")
    # nginx's own image copies both files to where nginx.conf expects them.
    nginx_dockerfile = (NGINX_DIR / "Dockerfile").read_text()
    assert "COPY nginx.conf /etc/nginx/nginx.conf" in nginx_dockerfile
    assert "include /etc/nginx/portal-locations.conf;" in NGINX
    assert "COPY portal-locations.conf /etc/nginx/portal-locations.conf" in nginx_dockerfile
    # Its workers run as the uid of the portal's files (0600 uploads in filesystem mode).
    uid = re.search(r"useradd .*--uid (\d+) .*portal", DOCKERFILE).group(1)
    assert re.search(rf"adduser .*-u {uid} .*portal", nginx_dockerfile)
    assert re.search(r"^user portal;", NGINX, re.M)


def test_nginx_serves_the_collected_static_files():
    static_root = APP_DIR / Path(settings.STATIC_ROOT).relative_to(settings.BASE_DIR).as_posix()
    web_mounts = {target: source for source, target in volume_mounts("web").items()}
    volume = web_mounts[str(static_root)]
    nginx_target = volume_mounts("nginx")[volume]
    body = nginx_location(settings.STATIC_URL)
    assert nginx_directive(body, "alias") == [nginx_target.rstrip("/") + "/"]
    # The migrate job collects into the same volume (and web reads the manifest from it).
    assert volume_mounts("migrate")[volume] == str(static_root)
    assert any(argv[:3] == ["python", "manage.py", "collectstatic"] for argv in service_argvs("migrate"))


def test_nginx_serves_private_files_only_after_the_permission_check():
    environment = resolved("web")["environment"]
    accel = environment["PORTAL_ACCEL_REDIRECT"]
    body = nginx_location(accel)
    assert re.search(r"^\s*internal;", body, re.M)
    # The alias is MEDIA_ROOT as nginx sees it: the same volume, mounted elsewhere.
    media_root = PurePosixPath(environment["PORTAL_MEDIA_ROOT"])
    web_volume, web_target = next(
        (source, PurePosixPath(target))
        for source, target in volume_mounts("web").items()
        if media_root.is_relative_to(target)
    )
    nginx_target = PurePosixPath(volume_mounts("nginx")[web_volume])
    expected = nginx_target / media_root.relative_to(web_target)
    assert nginx_directive(body, "alias") == [f"{expected}/"]
    assert nginx_directive(body, "add_header").count("X-Content-Type-Options nosniff always") == 1


def test_nginx_passes_signed_urls_to_the_object_store():
    endpoint = resolved("web")["environment"]["AWS_S3_ENDPOINT_URL"].rstrip("/")
    root = nginx_location("/")
    (redirect,) = nginx_directive(root, "proxy_redirect")
    source, target = redirect.split()
    assert source == endpoint + "/"
    # Relative: inside its container nginx listens on plain port 80, not what visitors use.
    assert re.search(r"^\s*absolute_redirect off;", NGINX, re.M)
    body = nginx_location(target)
    assert nginx_directive(body, "proxy_pass") == [endpoint + "/"]
    # The URL was signed for this Host: anything else fails the signature.
    assert f"Host {urlsplit(endpoint).netloc}" in nginx_directive(body, "proxy_set_header")
    assert 'Cookie ""' in nginx_directive(body, "proxy_set_header")
    assert re.search(r"limit_except GET \{\s*deny all;\s*\}", body)


def test_nginx_admits_the_largest_upload():
    from permits.models import District

    (size,) = nginx_directive(NGINX, "client_max_body_size")
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", size.lower()).groups()
    limit = int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
    largest_file = District._meta.get_field("max_file_mb").default * 1024 * 1024
    # A file of the district's default limit plus the multipart form around it.
    assert largest_file + 64 * 1024 <= limit <= 2 * largest_file


def test_nginx_health_check_and_port():
    (argv,) = healthcheck_argvs("nginx")
    assert argv[-1].endswith("/nginx-health")
    nginx_location("= /nginx-health")
    (published,) = resolved("nginx")["ports"]
    assert published.endswith(":80")
    assert re.search(r"listen 80 default_server;", NGINX)


def test_the_backup_script_reads_the_portals_variables():
    """scripts/backup.py finds the database and the files the way the settings do."""
    source = (ROOT / "scripts" / "backup.py").read_text()
    read = set(re.findall(r"""environ(?:\.get\(|\[)["']([A-Z0-9_]+)["']""", source))
    settings_read, _ = settings_names()
    own = {"PG_BINDIR", "PORTAL_BACKUP_DIR"}  # the script's own, documented in its docstring
    assert read - own <= settings_read
    assert {"DATABASE_URL", "PORTAL_STORAGE", "PORTAL_MEDIA_ROOT", "AWS_STORAGE_BUCKET_NAME"} <= read
    assert read - own <= set(SERVICES["backup"]["environment"])
