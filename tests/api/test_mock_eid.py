"""The mock eID provider: discovery, JWKS and keys, the consent page and the code flow with PKCE."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from api.context import state_of
from services.clock import clock
from services.people.eid import s256
from tests.helpers import CITIZEN

REDIRECT = "vn.gov.quangnam.smartqn:/oauth/callback"


def test_discovery_points_at_its_endpoints(client, settings):
    doc = client.get("/mock-eid/.well-known/openid-configuration").json
    assert doc["issuer"] == settings.eid_issuer
    assert doc["jwks_uri"] == f"{settings.eid_issuer}/jwks.json"
    assert doc["code_challenge_methods_supported"] == ["S256"]


def test_jwks_publishes_rsa_keys_with_kids(client):
    keys = client.get("/mock-eid/jwks.json").json["keys"]
    assert keys and all(k["kty"] == "RSA" and k["kid"] and k["alg"] == "RS256" and "d" not in k for k in keys)


def test_id_tokens_carry_the_contract_claims(client, settings):
    response = client.post("/mock-eid/token", json={**CITIZEN, "nonce": "n-123"})
    assert response.status_code == 200 and response.json["token_type"] == "Bearer"
    token = response.json["id_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"]
    body = jwt.decode(token, options={"verify_signature": False})
    assert {"iss", "aud", "sub", "iat", "exp", "nonce", "name", "birthdate", "gender", "cccd", "eid_level"} <= set(body)
    assert body["iss"] == settings.eid_issuer and body["cccd"] == CITIZEN["cccd"] and body["nonce"] == "n-123"


@pytest.mark.parametrize("change", [
    {"gender": "female"}, {"date_of_birth": "1995-03-12"}, {"cccd": "123"}, {"eid_level": 3}, {"gender": "x"},
])
def test_the_mock_refuses_a_person_whose_number_disagrees(client, change):
    response = client.post("/mock-eid/token", json={**CITIZEN, **change})
    assert response.status_code == 422 and response.json["code"] == "validation_failed"


def test_keys_survive_a_restart_and_rotation_keeps_old_tokens_valid(app, client, make_app):
    old_token = client.post("/mock-eid/token", json=CITIZEN).json["id_token"]
    restarted = make_app()
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    assert restarted.extensions["smartqn.mock_eid_keys"].signing_key().kid == old_kid

    result = app.test_cli_runner().invoke(args=["eid", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_token = client.post("/mock-eid/token", json=CITIZEN).json["id_token"]
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    jwks = state_of(app).runtime.jwks
    fetches = jwks.fetches
    # The verifier has not seen the new kid yet: it re-fetches the JWKS once, then both verify.
    assert client.post("/api/v1/auth/eid", json={"id_token": new_token}).status_code == 200
    assert client.post("/api/v1/auth/eid", json={"id_token": old_token}).status_code == 200
    assert jwks.fetches == fetches + 1


def test_unknown_kids_cannot_make_us_hammer_the_provider(make_app):
    app = make_app(eid_jwks_min_refetch_seconds=30)
    jwks = state_of(app).runtime.jwks
    client = app.test_client()
    forged = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
    for kid in ("a", "b", "c"):
        token = jwt.encode({"sub": "x"}, app.extensions["smartqn.mock_eid_keys"].signing_key().private_key,
                           algorithm="RS256", headers={"kid": kid})
        assert client.post("/api/v1/auth/eid", json={"id_token": token}).status_code == 401
    assert client.post("/api/v1/auth/eid", json={"id_token": forged}).status_code == 401
    assert jwks.fetches == 1


# --- The browser flow: authorize → consent → code → token (PKCE S256). -------------------------


def authorize_params(**changes):
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": "smartqn-app", "redirect_uri": REDIRECT,
              "state": "state-" + secrets.token_hex(4), "nonce": "nonce-1", "code_challenge": s256(verifier),
              "code_challenge_method": "S256", "scope": "openid"}
    return {**params, **changes}, verifier


def consent(client, params, person=CITIZEN, decision="approve"):
    page = client.get("/mock-eid/authorize", query_string=params)
    assert page.status_code == 200 and "Đồng ý" in page.get_data(as_text=True)
    response = client.post("/mock-eid/authorize", data={**params, **person, "decision": decision})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    return location, {k: v[0] for k, v in parse_qs(location.query).items()}


def redeem(client, params, code, verifier, **changes):
    form = {"grant_type": "authorization_code", "code": code, "client_id": params["client_id"],
            "redirect_uri": params["redirect_uri"], "code_verifier": verifier, "state": params["state"], **changes}
    return client.post("/mock-eid/token", data=form)


def test_the_code_flow_signs_a_citizen_in(client):
    params, verifier = authorize_params()
    location, query = consent(client, params)
    assert f"{location.scheme}:{location.path}" == REDIRECT and query["state"] == params["state"]
    token = redeem(client, params, query["code"], verifier)
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"
    claims = jwt.decode(token.json["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "nonce-1" and claims["aud"] == "smartqn-app" and claims["cccd"] == CITIZEN["cccd"]
    signed_in = client.post("/api/v1/auth/eid", json={"id_token": token.json["id_token"]})
    assert signed_in.status_code == 200 and signed_in.json["user"]["cccd"] == CITIZEN["cccd"]


def test_the_consent_page_is_vietnamese_and_escapes_what_it_echoes(client):
    params, _ = authorize_params(state="<script>alert(1)</script>")
    html = client.get("/mock-eid/authorize", query_string=params).get_data(as_text=True)
    assert '<html lang="vi">' in html and "Số định danh cá nhân" in html and "<script>alert(1)" not in html


@pytest.mark.parametrize("change", [
    {"code_verifier": secrets.token_urlsafe(48)},
    {"code_verifier": "short"},
    {"redirect_uri": "vn.gov.quangnam.smartqn:/other"},
    {"client_id": "someone-else"},
    {"state": "state-forged"},
])
def test_a_code_with_any_mismatch_is_refused_and_spent(client, change):
    params, verifier = authorize_params()
    _, query = consent(client, params)
    refused = redeem(client, params, query["code"], verifier, **change)
    assert refused.status_code == 400 and refused.json["code"] == "invalid_grant"
    assert redeem(client, params, query["code"], verifier).status_code == 400


def test_a_code_works_once(client):
    params, verifier = authorize_params()
    _, query = consent(client, params)
    assert redeem(client, params, query["code"], verifier).status_code == 200
    assert redeem(client, params, query["code"], verifier).json["code"] == "invalid_grant"


def test_a_code_expires_after_60_seconds(client):
    params, verifier = authorize_params()
    _, query = consent(client, params)
    clock.advance(seconds=61)
    assert redeem(client, params, query["code"], verifier).status_code == 400


def test_denying_consent_returns_access_denied(client):
    params, _ = authorize_params()
    _, query = consent(client, params, decision="deny")
    assert query == {"error": "access_denied", "state": params["state"]}


def test_consent_with_an_inconsistent_person_shows_the_page_again(client):
    params, _ = authorize_params()
    response = client.post("/mock-eid/authorize", data={**params, **CITIZEN, "gender": "female",
                                                         "decision": "approve"})
    assert response.status_code == 422 and "cccd" in response.get_data(as_text=True)


@pytest.mark.parametrize("change", [
    {"code_challenge_method": "plain"}, {"code_challenge": ""}, {"response_type": "token"},
    {"client_id": "unknown"}, {"redirect_uri": "https://"}, {"redirect_uri": "http://x/cb#frag"}, {"state": ""},
])
def test_bad_authorization_requests_are_refused(client, change):
    params, _ = authorize_params(**change)
    response = client.get("/mock-eid/authorize", query_string={k: v for k, v in params.items() if v})
    assert response.status_code == 400 and response.json["code"] == "invalid_request"


def test_token_endpoint_rejects_other_grants(client):
    response = client.post("/mock-eid/token", data={"grant_type": "password"})
    assert response.status_code == 400 and re.match("invalid_", response.json["code"])


def test_the_mock_can_be_switched_off(make_app):
    client = make_app(eid_mock_enabled=False).test_client()
    assert client.get("/mock-eid/jwks.json").status_code == 404
    assert client.post("/mock-eid/token", json=CITIZEN).status_code == 404
