"""Headers on every response (issue 17, security details): nosniff everywhere, CSP and no framing on
every HTML page, no caching of tokens, HSTS over HTTPS when configured."""

from __future__ import annotations

from tests.helpers import id_token


def test_every_response_says_nosniff_and_pages_refuse_frames(client):
    for path in ("/healthz", "/api/v1/procedures", "/api/v1/nowhere", "/docs", "/api/v1/payments/vnpay/return"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        if response.mimetype == "text/html":
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_tokens_are_never_cached(client):
    response = client.post("/api/v1/auth/eid", json={"id_token": id_token(client)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert refused.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https_and_when_configured(make_app):
    app = make_app(hsts_seconds=31536000)
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers
    secure = app.test_client().get("/healthz", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
