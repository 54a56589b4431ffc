"""The address a request comes from, also behind the portal's own proxies."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind PROXY_COUNT proxies (nginx) the
    address the outermost of them received the request from.

    Each proxy appends the address it got the request from to X-Forwarded-For, so that
    one is the PROXY_COUNT-th entry from the right. Entries further left are whatever the
    client sent, and are never read: prepending made-up addresses changes nothing. The
    rate limit of /verify/, sign-in throttling (axes) and the record of staff access all
    use this one function."""
    address = request.META.get("REMOTE_ADDR", "")
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = header.split(",") if header else []
    # Fewer entries than proxies: the request did not come through all of them (a
    # health check straight to gunicorn), and REMOTE_ADDR is the client.
    if settings.PROXY_COUNT and len(forwarded) >= settings.PROXY_COUNT:
        address = forwarded[-settings.PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None
