"""Headers on every response (issue 17, security details): nosniff everywhere, CSP and no framing on
every HTML page, no caching of tokens, HSTS over HTTPS when configured."""

from __future__ import annotations

from services.people.identity import grant_staff
from tests.api.test_dashboard import consent
from tests.api.test_mock_eid import authorize_params
from tests.dossier_helpers import SIMPLE
from tests.helpers import OFFICIAL, id_token


def refuses_frames(response) -> None:
    assert response.mimetype == "text/html", (response.status_code, response.mimetype)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (response.request.path, policy)


def test_every_response_says_nosniff_and_pages_refuse_frames(client):
    for path in ("/healthz", "/api/v1/procedures", "/api/v1/nowhere", "/docs", "/api/v1/payments/vnpay/return"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        if response.mimetype == "text/html":
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_portal_pages_refuse_frames(client, session):
    refuses_frames(client.get("/admin/callback", query_string={"error": "access_denied"}))  # a message page
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SIMPLE["agency"])
    assert consent(client, OFFICIAL).status_code == 303
    dashboard = client.get("/admin/dashboard")
    assert dashboard.status_code == 200
    refuses_frames(dashboard)


def test_the_mock_eid_consent_page_refuses_frames(client):
    params, _ = authorize_params()
    page = client.get("/mock-eid/authorize", query_string=params)
    assert page.status_code == 200
    refuses_frames(page)


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
