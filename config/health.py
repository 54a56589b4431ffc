import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        )
        return bool(client.ping())
    except Exception:
        return False


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the portal can serve families. Redis being down only delays email
    (the outbox keeps it), so it is reported but does not fail the check."""
    database, broker = _database_ok(), _redis_ok()
    return JsonResponse(
        {"database": "ok" if database else "down", "redis": "ok" if broker else "down"},
        status=200 if database else 503,
    )
