"""Headers every response carries: no MIME sniffing, no framing of our pages, no caching of tokens,
HSTS when served over HTTPS (SMARTQN_HSTS_SECONDS)."""

from __future__ import annotations

from flask import Flask, Response, request

from services.settings import Settings

# For pages that set none of their own (Swagger UI, the payment return page, the mock pages): our own
# scripts and styles only (inline ones allowed for those small pages), never inside another site's frame.
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
NO_STORE = ("/api/v1/auth/", "/mock-eid/token")


def hsts_value(settings: Settings) -> str:
    return f"max-age={settings.hsts_seconds}; includeSubDomains" if settings.hsts_seconds else ""


def install(app: Flask, settings: Settings) -> None:
    hsts = hsts_value(settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(NO_STORE):
            headers["Cache-Control"] = "no-store"
        if hsts and request.is_secure:
            headers["Strict-Transport-Security"] = hsts
        return response
