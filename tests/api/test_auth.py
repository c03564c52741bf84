"""Sign-in with eID tokens, rotating sessions, and every attack we know of answering 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from api.observability import JsonFormatter
from services.clock import clock
from services.models import RefreshToken, User
from services.people.identity import grant_staff
from tests.helpers import CITIZEN, OTHER, bearer, id_token, sign_in


def users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_first_sign_in_creates_the_citizen_and_me_describes_them(client, session):
    before = users(session)
    tokens = sign_in(client)
    assert users(session) == before + 1
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = client.get("/api/v1/me", headers=bearer(tokens)).json
    assert me == {"id": tokens["user"]["id"], "full_name": "Nguyễn Văn An", "cccd": "049085001234",
                  "date_of_birth": "1985-03-12", "gender": "male", "eid_level": 2, "roles": ["citizen"],
                  "agency_code": None}
    assert tokens["user"] == me


def test_later_sign_ins_update_name_and_level_and_keep_the_person(client, session):
    first = sign_in(client)
    later = sign_in(client, full_name="Nguyễn Văn Ân", eid_level=1)
    assert later["user"]["id"] == first["user"]["id"]
    assert later["user"]["full_name"] == "Nguyễn Văn Ân" and later["user"]["eid_level"] == 1
    assert session.scalar(select(func.count()).select_from(User).where(User.cccd == CITIZEN["cccd"])) == 1


def test_refresh_rotates_and_a_replayed_token_revokes_the_family(client):
    first = sign_in(client)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200

    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.json["code"] == "unauthorized"
    # The thief (or the owner) holding the newer token is out too.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401


def test_other_sessions_survive_a_revoked_family(client):
    phone, tablet = sign_in(client), sign_in(client)
    client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tablet["refresh_token"]}).status_code == 200


def test_refresh_tokens_are_stored_only_as_hashes(client, session):
    tokens = sign_in(client)
    stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert tokens["refresh_token"] not in stored and all(len(h) == 64 for h in stored)


def test_logout_revokes_and_is_idempotent(client):
    tokens = sign_in(client)
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/logout", json={"refresh_token": "never-issued"}).status_code == 204


def test_access_tokens_expire_after_the_ttl(client):
    """Also once the guard has checked the token and kept it (services.people.identity.VerifiedTokens)."""
    clock.freeze(clock.now())  # a slow machine must not age the token between the steps
    tokens = sign_in(client)
    clock.advance(seconds=899)
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    clock.advance(seconds=2)
    response = client.get("/api/v1/me", headers=bearer(tokens))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_refresh_tokens_live_30_days(client):
    tokens = sign_in(client)
    clock.advance(days=30, seconds=1)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_a_role_granted_later_arrives_at_the_next_refresh(client, session):
    tokens = sign_in(client)
    grant_staff(session, CITIZEN["cccd"], role="admin", agency_code=None)
    assert client.get("/api/v1/admin/staff/" + CITIZEN["cccd"], headers=bearer(tokens)).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(tokens)).json["roles"] == ["citizen", "admin"]
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json
    assert client.get("/api/v1/admin/staff/" + CITIZEN["cccd"], headers=bearer(fresh)).status_code == 200


def test_missing_or_malformed_body_is_422(client):
    assert client.post("/api/v1/auth/eid", json={}).json["code"] == "validation_failed"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": ""}).status_code == 422


def test_the_full_citizen_number_never_reaches_the_logs(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        sign_in(client)
        client.get("/api/v1/admin/staff/" + CITIZEN["cccd"])
    finally:
        logging.getLogger().removeHandler(handler)
    assert "1234" in stream.getvalue() and CITIZEN["cccd"] not in stream.getvalue()


# --- Attacks: each answers 401 `unauthorized` and creates nothing. -------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims(settings, **changes):
    now = int(time.time())
    base = {"iss": settings.eid_issuer, "aud": settings.eid_audience[0], "sub": "attacker", "iat": now,
            "exp": now + 600, "cccd": OTHER["cccd"], "name": OTHER["full_name"],
            "birthdate": OTHER["date_of_birth"], "gender": OTHER["gender"], "eid_level": 2}
    return {**base, **changes}


def hs256(secret: bytes, header: dict, payload: dict) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def provider_key(app):
    return app.extensions["smartqn.mock_eid_keys"].signing_key()


def signed(app, payload, **headers):
    key = provider_key(app)
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid, **headers})


def forged_tokens(app, settings, client):
    key = provider_key(app)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    genuine = signed(app, claims(settings))
    head, body, signature = genuine.split(".")
    edited = json.loads(base64.urlsafe_b64decode(body + "=="))
    edited["eid_level"] = 2
    edited["cccd"] = "049085001234"
    now = int(time.time())
    return {
        "alg_none": f"{b64(json.dumps({'alg': 'none', 'kid': key.kid}).encode())}."
                    f"{b64(json.dumps(claims(settings)).encode())}.",
        # PyJWT refuses to sign HS256 with a PEM key, which is the point; sign by hand.
        "hs256_with_public_key": hs256(public_pem, {"alg": "HS256", "kid": key.kid}, claims(settings)),
        "other_key_known_kid": jwt.encode(claims(settings), stranger, algorithm="RS256", headers={"kid": key.kid}),
        "unknown_kid": jwt.encode(claims(settings), stranger, algorithm="RS256", headers={"kid": "nobody"}),
        "no_kid": jwt.encode(claims(settings), key.private_key, algorithm="RS256"),
        "expired": signed(app, claims(settings, iat=now - 4000, exp=now - 3000)),
        "not_yet_valid": signed(app, claims(settings, iat=now + 3000, exp=now + 4000)),
        "not_before": signed(app, claims(settings, nbf=now + 3000)),
        "wrong_aud": signed(app, claims(settings, aud="someone-else")),
        "wrong_iss": signed(app, claims(settings, iss="https://evil.example/")),
        "missing_exp": signed(app, {k: v for k, v in claims(settings).items() if k != "exp"}),
        "payload_changed": f"{head}.{b64(json.dumps(edited).encode())}.{signature}",
        "malformed": "not.a.jwt",
        "garbage": "x" * 50,
        "invalid_cccd": signed(app, claims(settings, cccd="049185001234")),  # digit says 1900s female
        "eid_level_3": signed(app, claims(settings, eid_level=3)),
        # Signed by the provider, but no column can hold the name (a 500 before, on PostgreSQL).
        "name_with_nul": signed(app, claims(settings, name="Nguyễn Văn\x00 An")),
        "name_with_surrogate": signed(app, claims(settings, name="Nguyễn Văn \ud800An")),
        "access_token_as_eid": sign_in(client, OTHER)["access_token"],
    }


ATTACKS = ["alg_none", "hs256_with_public_key", "other_key_known_kid", "unknown_kid", "no_kid", "expired",
           "not_yet_valid", "not_before", "wrong_aud", "wrong_iss", "missing_exp", "payload_changed", "malformed",
           "garbage", "invalid_cccd", "eid_level_3", "access_token_as_eid", "name_with_nul", "name_with_surrogate"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_eid_tokens_are_401_and_create_nothing(app, settings, client, session, attack):
    token = forged_tokens(app, settings, client)[attack]
    before = users(session), session.scalar(select(func.count()).select_from(RefreshToken))
    response = client.post("/api/v1/auth/eid", json={"id_token": token})
    assert response.status_code == 401, response.json
    assert response.json["code"] == "unauthorized"
    assert (users(session), session.scalar(select(func.count()).select_from(RefreshToken))) == before


def test_the_genuine_token_of_the_attack_fixture_is_accepted(app, settings, client):
    # The attacks above differ from this token by one thing each, so they fail for that thing.
    assert client.post("/api/v1/auth/eid", json={"id_token": signed(app, claims(settings))}).status_code == 200


def test_an_eid_token_is_not_an_access_token(client):
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {id_token(client)}"})
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


def test_an_access_token_edited_to_add_a_role_is_refused(client):
    tokens = sign_in(client)
    head, body, signature = tokens["access_token"].split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["roles"] = ["citizen", "admin"]
    forged = f"{head}.{b64(json.dumps(payload).encode())}.{signature}"
    response = client.get("/api/v1/admin/staff/" + CITIZEN["cccd"], headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic abc", "Bearer a.b.c", "bearer x"])
def test_missing_or_broken_authorization_is_401_with_www_authenticate(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"


def test_an_eid_token_opens_one_session_only(client):
    token = id_token(client)
    assert client.post("/api/v1/auth/eid", json={"id_token": token}).status_code == 200
    replayed = client.post("/api/v1/auth/eid", json={"id_token": token})  # a stolen copy, or a second tap
    assert replayed.status_code == 401 and replayed.json["code"] == "unauthorized"
    assert client.post("/api/v1/auth/eid", json={"id_token": id_token(client)}).status_code == 200  # a fresh one


def test_a_logout_or_a_revoked_role_stops_the_access_token_within_a_minute(client, session):
    from datetime import timedelta

    from services.clock import clock
    from services.people.identity import grant_staff, revoke_staff
    from tests.helpers import OFFICIAL

    tokens = sign_in(client)
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    clock.freeze(clock.now() + timedelta(seconds=61))
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401  # not 15 minutes later
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code="000.20.24.H15")
    official = sign_in(client, OFFICIAL)
    assert client.get("/api/v1/admin/dossiers", headers=bearer(official)).status_code == 200
    revoke_staff(session, OFFICIAL["cccd"])
    clock.freeze(clock.now() + timedelta(seconds=61))
    refused = client.get("/api/v1/admin/dossiers", headers=bearer(official))
    assert refused.status_code == 401 and refused.json["code"] == "unauthorized"
