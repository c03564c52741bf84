"""Verifying electronic-identity (VNeID-style OIDC) ID tokens as for a real provider.

The provider's JWKS is fetched and cached; the key is picked by `kid`; an unknown `kid` triggers one
re-fetch (rate-limited, so forged kids cannot make us hammer the provider). Only RS256 is accepted.
This module is the only one that knows the provider's token shape: an adapter for the real VNeID
(`citizenPid`, `accountLevel`, …) replaces `identity_from_claims`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import jwt

from services.clock import clock
from services.errors import Unauthorized, Unavailable
from services.people import cccd as cccd_rules

log = logging.getLogger(__name__)
ALGORITHMS = ["RS256"]
REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


@dataclass(frozen=True)
class EidIdentity:
    subject: str
    cccd: str
    full_name: str
    date_of_birth: date
    gender: str
    eid_level: int
    # The token this identity came in (its jti, else its hash) and until when it is valid: each ID token
    # opens one session only, so a stolen one cannot open many. None: not from a token (tests, tools).
    token_id: str | None = None
    token_expires_at: datetime | None = None


def fetch_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (configured URL)
        return json.loads(response.read())


def s256(verifier: str) -> str:
    """The PKCE code challenge (S256) of a code verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def redeem_code(token_url: str, *, code: str, client_id: str, redirect_uri: str, code_verifier: str,
                timeout: float = 5.0) -> str:
    """The ID token for an authorization code (the browser flow's back channel), or Unauthorized."""
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                   "redirect_uri": redirect_uri, "code_verifier": code_verifier}).encode()
    request = urllib.request.Request(token_url, data=form, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            token = json.loads(response.read()).get("id_token")
    except urllib.error.HTTPError as exc:
        raise Unauthorized(f"the eID provider refused the code ({exc.code})") from exc
    except (OSError, ValueError) as exc:
        raise Unavailable("the eID provider cannot be reached") from exc
    if not isinstance(token, str):
        raise Unauthorized("the eID provider answered without an id_token")
    return token


class JwksCache:
    """The provider's public keys by kid, refreshed after `ttl`, re-fetched on an unknown kid."""

    def __init__(self, url: str, *, ttl: float, min_refetch: float,
                 fetch: Callable[[str], dict[str, Any]] = fetch_json,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.url, self.ttl, self.min_refetch = url, ttl, min_refetch
        self._fetch, self._monotonic = fetch, monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def _refresh(self) -> None:
        self._attempted_at = self._monotonic()
        self.fetches += 1
        try:
            document = self._fetch(self.url)
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kid") and jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig":
                    keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            log.warning("eID JWKS fetch failed", extra={"url": self.url, "error": str(exc)})
            if not self._keys:
                raise Unavailable("the identity provider's keys are unreachable") from exc
            return
        self._keys, self._fetched_at = keys, self._attempted_at

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self._monotonic()
            stale = now - self._fetched_at >= self.ttl or kid not in self._keys
            # Rate-limited: forged kids cannot make us hammer the provider.
            if stale and now - self._attempted_at >= self.min_refetch:
                self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("eID token signed with an unknown key")
        return found


def identity_from_claims(claims: dict[str, Any]) -> EidIdentity:
    try:
        identity = EidIdentity(
            subject=str(claims["sub"]),
            cccd=str(claims["cccd"]),
            full_name=str(claims["name"]).strip(),
            date_of_birth=date.fromisoformat(claims["birthdate"]),
            gender=claims["gender"],
            eid_level=claims["eid_level"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("eID token lacks identity claims") from exc
    if identity.eid_level not in (1, 2) or isinstance(identity.eid_level, bool):
        raise Unauthorized("eID token has an unknown eid_level")
    # isprintable() is False for NUL, control characters and lone surrogates, which no column can hold.
    if not identity.full_name or len(identity.full_name) > 120 or not identity.full_name.isprintable():
        raise Unauthorized("eID token has no usable name")
    if cccd_rules.problems(identity.cccd, date_of_birth=identity.date_of_birth, gender=identity.gender):
        raise Unauthorized("eID token carries an invalid citizen number")
    return identity


def verify_id_token(token: str, *, jwks: JwksCache, issuer: str, audience: tuple[str, ...],
                    leeway: int) -> EidIdentity:
    """The identity in a provider-signed ID token, or Unauthorized."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("malformed eID token") from exc
    if header.get("alg") not in ALGORITHMS:
        raise Unauthorized("eID token algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("eID token has no key id")
    key = jwks.key(kid)
    try:
        # Expiry is checked below against the injected clock, so tests can move time.
        claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=list(audience), issuer=issuer,
                            options={"require": REQUIRED, "verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"eID token rejected: {exc}") from exc
    check_times(claims, leeway=leeway)
    jti = claims.get("jti")
    token_id = jti if isinstance(jti, str) and 0 < len(jti) <= 64 else hashlib.sha256(token.encode()).hexdigest()
    expires = datetime.fromtimestamp(float(claims["exp"]) + leeway, UTC)
    return replace(identity_from_claims(claims), token_id=token_id, token_expires_at=expires)


def check_times(claims: dict[str, Any], *, leeway: int) -> None:
    """exp in the future, iat and nbf not in the future, all within `leeway` seconds."""
    now = clock.now().timestamp()
    try:
        exp, iat = float(claims["exp"]), float(claims["iat"])
        nbf = float(claims.get("nbf", iat))
    except (KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("token times are malformed") from exc
    if exp <= now - leeway:
        raise Unauthorized("token expired")
    if iat > now + leeway or nbf > now + leeway:
        raise Unauthorized("token not yet valid")
