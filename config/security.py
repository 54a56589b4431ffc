"""Response headers that Django 5.2 does not set by itself."""

from django.conf import settings


def content_security_policy() -> str:
    # Scripts only from our own static files: no inline script, no eval, no CDN.
    files = f" {settings.PORTAL_FILES_ORIGIN}" if settings.PORTAL_FILES_ORIGIN else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data:{files}",
            "font-src 'self'",
            "connect-src 'self'",
            f"frame-src 'self'{files}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        # A view that serves a file sets its own, stricter policy.
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not settings.DEBUG:
            response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
