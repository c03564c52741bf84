"""Sessions and roles: sign-in with an eID identity, access tokens, rotating refresh tokens, staff.

Access tokens are short-lived HS256 JWTs signed with a key derived from SMARTQN_SECRET_KEY (never
the eID provider's key), carrying the roles read at issue time. Refresh tokens are opaque, stored
only as SHA-256, rotated on every use and grouped in families: a used token presented again
revokes its whole family, since either the holder or a thief is replaying it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import jwt
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.clock import clock
from services.db import insert_new, rowcount, transaction
from services.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from services.models import RefreshToken, StaffRole, UsedEidToken, User
from services.people import cccd as cccd_rules
from services.people.eid import EidIdentity, check_times
from services.province.catalog import get_agency
from services.settings import Settings
from vocab import Gender, Role

log = logging.getLogger(__name__)
ACCESS_ISSUER = "smartqn"
ACCESS_AUDIENCE = "smartqn-api"
ACCESS_TYP = "at+jwt"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: str
    roles: tuple[str, ...]
    agency_code: str | None
    eid_level: int
    family_id: str | None = None  # the refresh-token family (session) the token was issued in
    expires_at: int | None = None  # the token's `exp` (unix seconds): a live stream ends then

    def has(self, role: str) -> bool:
        return role in self.roles


class RevocationCache:
    """What a signed access token cannot say by itself: whether its session was ended (logout, reuse
    detection) or its staff role changed since. Read at most once per `ttl` seconds per session and
    process, so a revocation bites within a minute, not at the token's expiry (15 minutes)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._seen: dict[tuple[str, str | None], tuple[float, bool, tuple[str, ...], str | None]] = {}
        self._lock = threading.Lock()

    def check(self, session: Session, principal: Principal) -> None:
        key, now = (principal.user_id, principal.family_id), clock.now().timestamp()
        with self._lock:
            seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.ttl:
            ended = principal.family_id is not None and session.scalar(select(RefreshToken.id).where(
                RefreshToken.family_id == principal.family_id, RefreshToken.revoked_at.is_not(None)).limit(1))
            user = session.get(User, principal.user_id)
            roles, agency = roles_of(_staff(session, user.cccd)) if user is not None else ([], None)
            seen = (now, bool(ended) or user is None, tuple(roles), agency)
            with self._lock:
                if len(self._seen) > 100_000:
                    self._seen.clear()
                self._seen[key] = seen
        _refuse_if_revoked(principal, seen)

    def passes(self, principal: Principal) -> bool:
        """Whether `check` would pass without reading anything: a fresh, clean record of the session. For
        the WSGI edge, which leaves every other case to the full path."""
        with self._lock:
            seen = self._seen.get((principal.user_id, principal.family_id))
        if seen is None or clock.now().timestamp() - seen[0] >= self.ttl:
            return False
        try:
            _refuse_if_revoked(principal, seen)
        except Unauthorized:
            return False
        return True


def _refuse_if_revoked(principal: Principal, seen: tuple[float, bool, tuple[str, ...], str | None]) -> None:
    if seen[1]:
        raise Unauthorized("this session has ended; sign in again")
    if not set(principal.roles) <= set(seen[2]) or principal.agency_code not in (None, seen[3]):
        raise Unauthorized("your roles changed; refresh the session")


@dataclass(frozen=True)
class Profile:
    user: User
    roles: list[str]
    agency_code: str | None


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str
    expires_in: int
    user: Profile


def _access_key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"smartqn access token v1", hashlib.sha256).digest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _staff(session: Session, cccd: str) -> StaffRole | None:
    return session.get(StaffRole, cccd)


def _locked_user(session: Session, cccd: str) -> User | None:
    return session.scalar(select(User).where(User.cccd == cccd).with_for_update(of=User))


def _locked_staff(session: Session, cccd: str) -> StaffRole | None:
    # `of=`: PostgreSQL cannot lock the nullable side of the eager outer join to agencies.
    return session.scalar(select(StaffRole).where(StaffRole.cccd == cccd).with_for_update(of=StaffRole))


def roles_of(staff: StaffRole | None) -> tuple[list[str], str | None]:
    roles = [Role.citizen.value]
    if staff is not None:
        roles.append(staff.role.value)
    return roles, staff.agency.code if staff is not None and staff.agency is not None else None


def _issue(session: Session, user: User, *, settings: Settings, family_id: str | None = None) -> SignedIn:
    now, family = clock.now(), family_id or str(uuid.uuid4())
    roles, agency_code = roles_of(_staff(session, user.cccd))  # read afresh: role changes apply here
    claims: dict[str, Any] = {
        "iss": ACCESS_ISSUER, "aud": ACCESS_AUDIENCE, "sub": user.id, "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + settings.access_token_ttl, "jti": uuid.uuid4().hex,
        "roles": roles, "agency_code": agency_code, "eid_level": user.eid_level, "fam": family,
    }
    access = jwt.encode(claims, _access_key(settings), algorithm="HS256", headers={"typ": ACCESS_TYP})
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=_hash(refresh), family_id=family, user_id=user.id,
                             created_at=now, expires_at=now + timedelta(days=settings.refresh_token_ttl_days)))
    session.flush()
    return SignedIn(access, refresh, settings.access_token_ttl, Profile(user, roles, agency_code))


def sign_in(session: Session, identity: EidIdentity, *, settings: Settings) -> SignedIn:
    """Exchange a verified eID identity for our own session; the first sign-in creates the citizen."""
    with transaction(session):
        if identity.token_id is not None and insert_new(
                session, UsedEidToken, {"token_id": identity.token_id, "expires_at": identity.token_expires_at},
                key=["token_id"]) is None:
            raise Unauthorized("this eID token was used already; sign in with the eID app again")
        user = _locked_user(session, identity.cccd)
        if user is None:
            user = User(cccd=identity.cccd, full_name=identity.full_name, date_of_birth=identity.date_of_birth,
                        gender=identity.gender, eid_level=identity.eid_level, eid_subject=identity.subject)
            try:
                with session.begin_nested():
                    session.add(user)
                log.info("citizen created", extra={"cccd": cccd_rules.masked(identity.cccd)})
            except IntegrityError:
                # A concurrent first sign-in (a double tap, a retry) created the person meanwhile.
                user = _locked_user(session, identity.cccd)
                if user is None:
                    raise
        if not user.eid_subject:  # first sign-in of a person filed for at the desk: the eID has the last word
            user.date_of_birth, user.gender = identity.date_of_birth, Gender(identity.gender)
        # The provider is the source of truth for the name and the account level.
        user.full_name, user.eid_level, user.eid_subject = identity.full_name, identity.eid_level, identity.subject
        user.last_sign_in_at = clock.now()
        session.flush()
        return _issue(session, user, settings=settings)


def person_at_desk(session: Session, *, cccd: str, full_name: str, date_of_birth: date, gender: str) -> User:
    """The person a desk official files for, inside the caller's transaction: the citizen with this CCCD,
    else a new one with no eID sign-in yet (eid_level 0, no subject), whom their first VNeID sign-in
    (`sign_in`, which finds people by CCCD) turns into the same account, dossiers and inbox included.
    The CCCD is checked against the birth date and gender as the eID provider checks it."""
    errors: dict[str, list[str]] = {}
    if found := cccd_rules.problems(cccd, date_of_birth=date_of_birth, gender=gender):
        errors["applicant.cccd"] = found
    if errors:
        raise ValidationFailed("the citizen number disagrees with the birth date or gender", errors=errors)
    user = _locked_user(session, cccd)
    if user is not None:
        if (user.date_of_birth, user.gender) != (date_of_birth, Gender(gender)):
            raise ValidationFailed("this citizen number belongs to a person with another birth date or gender",
                                   errors={"applicant": ["Does not match the person known by this CCCD."]})
        return user
    user = User(cccd=cccd, full_name=full_name, date_of_birth=date_of_birth, gender=Gender(gender), eid_level=0,
                eid_subject="", created_at=clock.now(), last_sign_in_at=clock.now())
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # filed for at two desks at once, or signing in right now
        user = _locked_user(session, cccd)
        if user is None:
            raise
    log.info("citizen created at the desk", extra={"cccd": cccd_rules.masked(cccd)})
    return user


def forget_used_tokens(session: Session) -> int:
    """The periodic sweep: used eID tokens past their expiry can no longer be replayed anyway."""
    with transaction(session):
        return rowcount(session.execute(delete(UsedEidToken).where(UsedEidToken.expires_at < clock.now())))


def refresh(session: Session, token: str, *, settings: Settings) -> SignedIn:
    """Rotate a refresh token; a replayed one revokes its family and fails."""
    with transaction(session):
        row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token))
                             .with_for_update(of=RefreshToken))
        now = clock.now()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthorized("refresh token unknown, revoked or expired")
        if row.used_at is None:
            row.used_at = now
            return _issue(session, row.user, settings=settings, family_id=row.family_id)
        _revoke_family(session, row.family_id)
        log.warning("refresh token reused; family revoked", extra={"family_id": row.family_id,
                                                                    "user_id": row.user_id})
    # Outside the block: the revocation is committed, then the caller is refused.
    raise Unauthorized("refresh token already used")


def _revoke_family(session: Session, family_id: str) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                               RefreshToken.revoked_at.is_(None)).values(revoked_at=clock.now()))


def logout(session: Session, token: str) -> None:
    """Revoke the token's family; an unknown token is already as good as logged out."""
    with transaction(session):
        row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
        if row is not None:
            _revoke_family(session, row.family_id)


class VerifiedTokens:
    """Access tokens whose signature and claims were checked, kept by their text: a phone sends the same
    token with every request for its 15 minutes, and checking the HMAC, the base64 segments and the
    claims each time was about a tenth of a kept dossier read. The token's times are checked on every
    use; a bounded map, emptied when full (a token is checked again, nothing else is lost)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._checked: dict[str, tuple[Principal, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def principal(self, token: str, *, settings: Settings) -> Principal:
        with self._lock:
            hit = self._checked.get(token)
        if hit is None:
            hit = _verified(token, settings)
            with self._lock:
                if len(self._checked) >= self.size:
                    self._checked.clear()
                self._checked[token] = hit
        else:
            check_times(hit[1], leeway=0)
        return hit[0]


def verify_access_token(token: str, *, settings: Settings) -> Principal:
    return _verified(token, settings)[0]


def _verified(token: str, settings: Settings) -> tuple[Principal, dict[str, Any]]:
    """The principal of a token signed with our key and within its times, with its claims, else Unauthorized."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != ACCESS_TYP or header.get("alg") != "HS256":
            raise Unauthorized("not an access token")
        claims = jwt.decode(token, _access_key(settings), algorithms=["HS256"], audience=ACCESS_AUDIENCE,
                            issuer=ACCESS_ISSUER, options={"require": ["exp", "iat", "sub", "iss", "aud"],
                                                           "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid access token") from exc
    check_times(claims, leeway=0)  # before anything keeps it
    roles = claims.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthorized("invalid access token")
    family = claims.get("fam")
    principal = Principal(user_id=claims["sub"], roles=tuple(roles), agency_code=claims.get("agency_code"),
                          eid_level=int(claims.get("eid_level", 1)),
                          family_id=family if isinstance(family, str) else None, expires_at=int(claims["exp"]))
    return principal, claims


def profile(session: Session, user_id: str) -> Profile:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    roles, agency_code = roles_of(_staff(session, user.cccd))
    return Profile(user, roles, agency_code)


def grant_staff(session: Session, cccd: str, *, role: str, agency_code: str | None,
                granted_by: str | None = None, actor: Actor | None = None) -> StaffRole:
    """Make a person (signed in or not yet) an official of one agency, or an admin."""
    errors: dict[str, list[str]] = {}
    if cccd_rules.problems(cccd):
        errors["cccd"] = cccd_rules.problems(cccd)
    if role not in (Role.official, Role.admin):
        errors["role"] = ["Must be official or admin."]
    elif role == Role.official and not agency_code:
        errors["agency_code"] = ["An official belongs to one agency."]
    if errors:
        raise ValidationFailed("invalid staff grant", errors=errors)
    with transaction(session):
        agency = get_agency(session, agency_code) if agency_code else None
        staff = _locked_staff(session, cccd) or StaffRole(cccd=cccd)
        if granted_by == cccd and staff.role == Role.admin and role != Role.admin:
            raise Conflict("an admin cannot take away their own admin role")
        staff.role, staff.agency_id, staff.granted_by = Role(role), agency.id if agency else None, granted_by
        staff.granted_at = clock.now()
        session.add(staff)
        session.flush()
        log.info("staff granted", extra={"cccd": cccd_rules.masked(cccd), "role": role, "agency": agency_code})
        audit.record(session, actor, "staff.grant", "staff", cccd_rules.masked(cccd),
                     {"role": role, "agency_code": agency_code}, origin=None if actor else granted_by or "cli")
        return staff


def revoke_staff(session: Session, cccd: str, *, revoked_by: str | None = None, actor: Actor | None = None) -> None:
    with transaction(session):
        staff = _locked_staff(session, cccd)
        if staff is None:
            raise NotFound("no staff role for this citizen number")
        if revoked_by is not None and revoked_by == cccd:
            raise Conflict("an admin cannot revoke their own role")
        session.delete(staff)
        log.info("staff revoked", extra={"cccd": cccd_rules.masked(cccd)})
        audit.record(session, actor, "staff.revoke", "staff", cccd_rules.masked(cccd), {"role": staff.role.value})


def get_staff(session: Session, cccd: str) -> StaffRole:
    staff = _staff(session, cccd)
    if staff is None:
        raise NotFound("no staff role for this citizen number")
    return staff
