"""The admin portal's sign-in (eID code flow with PKCE, cookies) and the dashboard page, without a browser."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from services.people.identity import grant_staff
from tests.dossier_helpers import SIMPLE
from tests.helpers import ADMIN, CITIZEN, OFFICIAL


def location(response) -> tuple[str, dict[str, str]]:
    parts = urlsplit(response.headers["Location"])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def consent(client, person: dict, *, decision: str = "approve", next_url: str = "/admin/dashboard"):
    """Follow the portal to the provider, approve as `person`, and return the callback response."""
    start = client.get("/admin/login", query_string={"next": next_url})
    assert start.status_code == 302
    path, params = location(start)
    assert path == "/mock-eid/authorize" and params["code_challenge_method"] == "S256"
    assert params["redirect_uri"].endswith("/admin/callback") and "code_verifier" not in params
    back = client.post("/mock-eid/authorize", data={**params, **person, "decision": decision})
    assert back.status_code == 302
    path, query = location(back)
    assert path == "/admin/callback"
    return client.get("/admin/callback", query_string=query)


def cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


@pytest.fixture
def official(session):
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SIMPLE["agency"])


def test_the_dashboard_sends_a_stranger_to_sign_in(client):
    response = client.get("/admin/dashboard?from=2026-11-01")
    assert response.status_code == 302
    assert location(response) == ("/admin/login", {"next": "/admin/dashboard?from=2026-11-01"})


def test_an_official_signs_in_and_sees_their_agency(client, official):
    signed = consent(client, OFFICIAL)
    assert signed.status_code == 303 and signed.headers["Location"] == "/admin/dashboard"
    set_cookies = signed.headers.getlist("Set-Cookie")
    portal = next(c for c in set_cookies if c.startswith("smartqn_portal="))
    assert "HttpOnly" in portal and "SameSite=Lax" in portal and "Path=/admin" in portal
    page = client.get("/admin/dashboard")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self': no inline script
    html = page.get_data(as_text=True)
    assert re.findall(r'<tr data-agency="([^"]*)"', html) == [SIMPLE["agency"], ""]  # their agency, then the total
    assert 'id="on-time-chart"' in html and 'id="weekly-chart"' in html
    assert "<script>" not in html  # only the JSON data block and the two local scripts
    # The cookie is not a bearer token for the API.
    assert client.get("/api/v1/admin/stats").status_code == 401


def test_the_page_shows_another_agency_to_an_official_as_not_found(client, official):
    consent(client, OFFICIAL)
    response = client.get("/admin/dashboard", query_string={"agency_code": "000.00.19.H15"})
    assert response.status_code == 404 and 'id="message"' in response.get_data(as_text=True)


def test_a_bad_range_is_shown_with_the_default_range(client, official):
    consent(client, OFFICIAL)
    response = client.get("/admin/dashboard", query_string={"from": "2026-12-01", "to": "2026-11-01"})
    assert response.status_code == 422
    assert 'id="errors"' in response.get_data(as_text=True)
    assert client.get("/admin/dashboard.csv", query_string={"from": "2026-13-01"}).status_code == 422


def test_the_csv_of_the_page(client, official):
    consent(client, OFFICIAL)
    response = client.get("/admin/dashboard.csv", query_string={"from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == [SIMPLE["agency"], ""]


def test_a_citizen_is_refused_and_keeps_no_session(client):
    response = consent(client, CITIZEN)
    assert response.status_code == 403
    assert "smartqn_portal" not in cookies(client)
    assert client.get("/admin/dashboard").status_code == 302


def test_declining_consent_signs_nobody_in(client, official):
    response = consent(client, OFFICIAL, decision="deny")
    assert response.status_code == 401 and "smartqn_portal" not in cookies(client)


def test_a_forged_state_is_refused(client, official):
    start = client.get("/admin/login")
    _, params = location(start)
    back = client.post("/mock-eid/authorize", data={**params, **OFFICIAL, "decision": "approve"})
    _, query = location(back)
    response = client.get("/admin/callback", query_string={**query, "state": "someone-elses-state"})
    assert response.status_code == 400 and "smartqn_portal" not in cookies(client)


def test_an_expired_session_is_renewed_from_the_refresh_cookie(client, official):
    consent(client, OFFICIAL)
    client.delete_cookie("smartqn_portal", path="/admin")  # the access cookie expired
    again = client.get("/admin/dashboard")
    assert location(again)[0] == "/admin/login"
    renewed = client.get(again.headers["Location"])
    assert renewed.status_code == 303 and renewed.headers["Location"] == "/admin/dashboard"
    assert client.get("/admin/dashboard").status_code == 200


def test_logout_ends_the_session(client, official):
    consent(client, OFFICIAL)
    refresh = cookies(client)["smartqn_portal_refresh"]
    assert client.post("/admin/logout").status_code == 200
    assert "smartqn_portal" not in cookies(client)
    client.set_cookie("smartqn_portal_refresh", refresh, path="/admin")  # a copied cookie is dead too
    assert location(client.get("/admin/login"))[0] == "/mock-eid/authorize"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/admin/", "/api/v1/me"])
def test_sign_in_never_redirects_off_the_portal(client, official, next_url):
    assert consent(client, OFFICIAL, next_url=next_url).headers["Location"] == "/admin/dashboard"


def test_an_admin_sees_every_agency(client, session):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    consent(client, ADMIN)
    html = client.get("/admin/dashboard").get_data(as_text=True)
    assert len(re.findall(r'<tr data-agency="', html)) > 10
    assert '<option value="">Toàn tỉnh</option>' in html


def test_the_chart_library_is_served_locally(client):
    response = client.get("/admin/assets/vendor/chart-4.6.1.umd.min.js")
    assert response.status_code == 200 and b"Chart.js v4.6.1" in response.data
