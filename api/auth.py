"""Sign-in with an eID token, session refresh and logout, and the caller's own profile."""

from __future__ import annotations

from typing import Any

from api.blueprint import Blueprint
from api.context import get_session, jwks, settings
from api.guards import current_principal
from schemas.identity import EidSignInSchema, MeSchema, RefreshSchema, TokenPairSchema
from services.people import identity
from services.people.eid import verify_id_token

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and sessions")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The signed-in person")


@blp.post("/eid")
@blp.arguments(EidSignInSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def sign_in(body: dict[str, Any]) -> identity.SignedIn:
    """Exchange an eID ID token for a session; the first sign-in creates the citizen."""
    config = settings()
    person = verify_id_token(body["id_token"], jwks=jwks(), issuer=config.eid_issuer,
                             audience=config.eid_audience, leeway=config.eid_leeway_seconds)
    return identity.sign_in(get_session(), person, settings=config)


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def refresh(body: dict[str, Any]) -> identity.SignedIn:
    """Rotate the refresh token; presenting a used one again revokes the whole session family."""
    return identity.refresh(get_session(), body["refresh_token"], settings=settings())


@blp.post("/logout")
@blp.arguments(RefreshSchema)
@blp.response(204)
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def logout(body: dict[str, Any]) -> None:
    """End the session the refresh token belongs to (idempotent)."""
    identity.logout(get_session(), body["refresh_token"])


@me_blp.get("/me")
@me_blp.response(200, MeSchema)
def me() -> identity.Profile:
    """The signed-in person, with roles as they are now."""
    return identity.profile(get_session(), current_principal().user_id)
