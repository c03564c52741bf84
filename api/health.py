"""Liveness and readiness probes."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.context import get_session
from schemas.common import HealthSchema
from services.errors import Unavailable
from services.health import database_ok

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators")


@blp.get("/healthz")
@blp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


@blp.get("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> dict[str, object]:
    """The database answers; take the instance out of rotation otherwise."""
    if not database_ok(get_session()):
        raise Unavailable("database unreachable")
    return {"status": "ok", "checks": {"database": "ok"}}
