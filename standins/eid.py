"""The mock electronic-identity provider: signing keys, ID tokens and the authorization-code flow.

Standard OpenID Connect (RS256 ID tokens, authorization code with PKCE S256), so the verification
side is exercised exactly as against a real provider. Keys live as PEM files in the instance folder
(tokens survive a restart; `add_key` rotates by adding a newer key, the older ones stay published).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import rowcount, transaction
from services.errors import DomainError, ValidationFailed
from services.people import cccd as cccd_rules
from services.people.eid import s256
from standins.tables import MockAuthCode

CODE_TTL = timedelta(seconds=60)
KEYS = "smartqn.mock_eid_keys"  # the app extension holding the provider's KeyStore

# People to pick on the consent page; their numbers agree with their birth dates and genders.
DEMO_CITIZENS: list[dict[str, Any]] = [
    {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
     "eid_level": 2},
    {"cccd": "049192004567", "full_name": "Trần Thị Bình", "date_of_birth": "1992-07-01", "gender": "female",
     "eid_level": 1},
    {"cccd": "049301007890", "full_name": "Lê Minh Châu", "date_of_birth": "2001-11-20", "gender": "female",
     "eid_level": 2},
    {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05", "gender": "male",
     "eid_level": 2, "note": "cán bộ một cửa phường Tam Kỳ (demo)"},
    {"cccd": "049180003456", "full_name": "Võ Thị Hà", "date_of_birth": "1980-09-09", "gender": "female",
     "eid_level": 2, "note": "quản trị viên (demo)"},
]
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidGrant(DomainError):
    code = "invalid_grant"


class InvalidRequest(DomainError):
    code = "invalid_request"


def _rsa(key: object) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the mock eID signs with RSA keys only")
    return key


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey


class KeyStore:
    """RSA keys as `<kid>.pem` in a folder; the newest kid signs, all are published."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._cache: tuple[float, list[SigningKey]] | None = None

    def _load(self) -> list[SigningKey]:
        stamp = self.folder.stat().st_mtime if self.folder.exists() else 0.0
        if self._cache and self._cache[0] == stamp:
            return self._cache[1]
        keys = [SigningKey(p.stem, _rsa(serialization.load_pem_private_key(p.read_bytes(), password=None)))
                for p in sorted(self.folder.glob("*.pem"))]
        self._cache = (stamp, keys)
        return keys

    def keys(self) -> list[SigningKey]:
        with self._lock:
            keys = self._load()
            if not keys:
                self._write_new()
                keys = self._load()
            return keys

    def add_key(self) -> str:
        with self._lock:
            return self._write_new()

    def _write_new(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        kid = f"{clock.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = self.folder / f".{kid}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        tmp.rename(self.folder / f"{kid}.pem")  # atomic: another worker never reads half a key
        self._cache = None
        return kid

    def signing_key(self) -> SigningKey:
        return self.keys()[-1]

    def jwks(self) -> dict[str, Any]:
        published = []
        for key in self.keys():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.private_key.public_key(), as_dict=True)
            published.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}


def person_claims(*, cccd: str, full_name: str, date_of_birth: date, gender: str, eid_level: int) -> dict[str, Any]:
    """The identity claims of a person, refused (422) when the CCCD disagrees with them."""
    found = cccd_rules.problems(cccd, date_of_birth=date_of_birth, gender=gender)
    if found:
        raise ValidationFailed("the citizen number does not agree with the person", errors={"cccd": found})
    return {
        # A stable, pseudonymous subject per person, as real providers issue.
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mock-eid:{cccd}")),
        "cccd": cccd, "name": full_name.strip(), "birthdate": date_of_birth.isoformat(), "gender": gender,
        "eid_level": eid_level,
    }


def mint_id_token(keys: KeyStore, *, issuer: str, audience: str, claims: dict[str, Any], ttl: int,
                  nonce: str | None = None) -> str:
    now = int(clock.now().timestamp())
    payload = {**claims, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    if nonce:
        payload["nonce"] = nonce
    key = keys.signing_key()
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_authorization_request(params: dict[str, str], *, clients: tuple[str, ...]) -> None:
    """The authorize request's parameters, as an OIDC provider checks them before showing consent."""
    errors: dict[str, list[str]] = {}
    if params.get("response_type") != "code":
        errors["response_type"] = ["Only the authorization-code flow (code) is supported."]
    if params.get("client_id") not in clients:
        errors["client_id"] = ["Unknown client."]
    redirect = urlsplit(params.get("redirect_uri") or "")
    if not redirect.scheme or not (redirect.netloc or redirect.scheme not in {"http", "https"}) or redirect.fragment:
        errors["redirect_uri"] = ["Must be an absolute URI without a fragment."]
    if not 8 <= len(params.get("state") or "") <= 500:
        errors["state"] = ["Required, 8–500 characters."]
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.match(params.get("code_challenge") or ""):
        errors["code_challenge"] = ["PKCE with code_challenge_method=S256 is required."]
    if len(params.get("nonce") or "") > 500:
        errors["nonce"] = ["At most 500 characters."]
    if errors:
        raise InvalidRequest("invalid authorization request", errors=errors)


def issue_code(session: Session, params: dict[str, str], claims: dict[str, Any], *,
               clients: tuple[str, ...]) -> str:
    """The consent was given: a single-use code valid for 60 seconds."""
    check_authorization_request(params, clients=clients)
    code = secrets.token_urlsafe(32)
    with transaction(session):
        session.add(MockAuthCode(
            code_hash=_digest(code), client_id=params["client_id"], redirect_uri=params["redirect_uri"],
            state=params["state"], nonce=params.get("nonce") or None, code_challenge=params["code_challenge"],
            claims=claims, expires_at=clock.now() + CODE_TTL,
        ))
    return code


def redeem_code(session: Session, *, code: str, client_id: str, redirect_uri: str, code_verifier: str,
                state: str | None = None) -> MockAuthCode:
    """Spend a code (once, within 60 s) and check it against the client, redirect URI, state and PKCE."""
    with transaction(session):
        now = clock.now()
        spent = session.execute(
            update(MockAuthCode)
            .where(MockAuthCode.code_hash == _digest(code), MockAuthCode.used_at.is_(None),
                   MockAuthCode.expires_at > now)
            .values(used_at=now)
        )
        if rowcount(spent) != 1:
            raise InvalidGrant("the code is unknown, used or expired")
        grant = session.get(MockAuthCode, _digest(code))
        assert grant is not None
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            raise_after_commit = InvalidGrant("client_id or redirect_uri does not match the authorization")
        elif state is not None and state != grant.state:
            raise_after_commit = InvalidGrant("state does not match the authorization")
        elif not _VERIFIER.match(code_verifier or "") or not secrets.compare_digest(s256(code_verifier),
                                                                                      grant.code_challenge):
            raise_after_commit = InvalidGrant("code_verifier does not match the code_challenge")
        else:
            raise_after_commit = None
    # A code is spent by any attempt, right or wrong, so a stolen one cannot be tried twice.
    if raise_after_commit is not None:
        raise raise_after_commit
    return grant
