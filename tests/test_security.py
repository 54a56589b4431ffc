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


# --- Error pages: no credentials (DEFAULT_EXCEPTION_REPORTER_FILTER) ------------------

CREDENTIALED_URLS = {
    "DATABASE_URL": ("postgres://portal:s3cret-pw@db/portal", "s3cret-pw", "@db/portal"),
    "REDIS_URL": ("redis://:r3dis-pw@redis:6379/0", "r3dis-pw", "@redis:6379/0"),
    "EMAIL_URL": ("smtp://mailer:m4il-pw@smtp:587", "m4il-pw", "@smtp:587"),
}


def env_example_variables() -> set[str]:
    import re

    text = (ROOT / "deploy" / "env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def error_page(request) -> str:
    """The page DEBUG (`make run`) shows for an exception in a view."""
    import sys

    from django.views.debug import technical_500_response

    def view(request):
        broker = CREDENTIALED_URLS["REDIS_URL"][0]  # a local variable holding a URL
        raise ConnectionError(f"cannot reach the broker ({len(broker)})")

    try:
        view(request)
    except ConnectionError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_the_debug_error_page_hides_every_password_and_secret_but_shows_the_hosts(settings, accept):
    from django.test import RequestFactory

    from config.security import SECRET_VARIABLES

    redis = CREDENTIALED_URLS["REDIS_URL"][0]
    settings.DEBUG = True
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": redis}}
    # Under runserver request.META holds the whole environment.
    marker = secrets.token_hex(8)
    environ = {name: url for name, (url, _password, _host) in CREDENTIALED_URLS.items()}
    environ |= {name: f"{name.lower()}-{marker}" for name in SECRET_VARIABLES}
    page = error_page(RequestFactory().get("/family/", HTTP_ACCEPT=accept, **environ))
    for _url, password, host in CREDENTIALED_URLS.values():
        assert password not in page
        assert host in page  # still useful for debugging
    assert marker not in page
    assert all(name in page for name in SECRET_VARIABLES)  # listed, with the value hidden


def test_the_filter_knows_every_secret_of_deploy_env_example():
    """env.example has no marker for a secret: the filter's list is checked against the
    names that hold one (a password, key or token) and must stay in step."""
    import re

    from config.security import SECRET_VARIABLES

    names = env_example_variables()
    assert SECRET_VARIABLES <= names
    assert {name for name in names if re.search("PASSWORD|SECRET|KEY|TOKEN", name)} == SECRET_VARIABLES


def test_a_url_keeps_its_user_and_host_but_not_its_password():
    from config.security import hide_url_credentials

    hidden = "********************"
    assert hide_url_credentials("postgres://portal:pw@db/portal") == f"postgres://portal:{hidden}@db/portal"
    assert hide_url_credentials("x redis://:p@ss@redis:6379/0 x") == f"x redis://:{hidden}@redis:6379/0 x"
    assert hide_url_credentials("smtp+tls://u:p%40ss@mail:587") == f"smtp+tls://u:{hidden}@mail:587"
    # A user name alone may be a token.
    assert hide_url_credentials("https://t0ken@git.example.org/x") == f"https://{hidden}@git.example.org/x"
    assert hide_url_credentials("https://example.org/?mail=a@b.org") == "https://example.org/?mail=a@b.org"


def test_the_admin_never_shows_a_second_factor_key(diana):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .conftest import login, staff

    root = staff("root@district.example", "district_admin")
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    device = TOTPDevice.objects.get(user=diana)
    client = login(root)
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    change = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert change.status_code == 200 and device.key not in change.text
