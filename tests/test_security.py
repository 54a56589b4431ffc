"""Headers, settings and deployment checks, on real responses and real processes."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides) -> dict:
    """The environment docker-compose.yml gives the web container."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": "postgres://portal:pw@127.0.0.1:5432/portal",
            "DJANGO_ALLOWED_HOSTS": "permits.example.org",
            "DJANGO_SECURE_SSL_REDIRECT": "true",
            "DJANGO_HSTS_PRELOAD": "true",
            **overrides,
        }
    )
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_deployment_check_passes_with_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL"])
def test_production_settings_refuse_to_start_without(missing):
    env = production_env()
    env.pop(missing)
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_no_secret_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in tracked if Path(f).name in (".env", "id_rsa", "secrets.json")]
    settings_text = (ROOT / "config" / "settings.py").read_text()
    assert 'SECRET_KEY = "' not in settings_text and "SECRET_KEY = '" not in settings_text


def test_pages_carry_the_security_headers(district):
    response = Client().get("/", secure=True)
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(alice):
    from .factories import PASSWORD

    client = Client()
    client.get("/accounts/login/", secure=True)
    response = client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD}, secure=True)
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def test_a_new_session_id_is_issued_at_login(alice):
    from .factories import PASSWORD

    client = Client()
    client.get("/accounts/login/")
    before = client.session.session_key or client.cookies.get("sessionid", None)
    client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD})
    assert client.session.session_key != before


def test_inline_scripts_and_event_handlers_are_absent_from_templates():
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
