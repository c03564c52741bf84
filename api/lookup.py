"""Public lookup of a dossier's progress by its code: no sign-in, nothing personal, rate-limited."""

from __future__ import annotations

from typing import Any

from api import presenters
from api.blueprint import Blueprint
from api.context import get_session
from schemas.dossiers import LookupSchema
from services.dossiers import queries as dossier_queries

blp = Blueprint("lookup", __name__, url_prefix="/api/v1/lookup", description="Public progress lookup")


@blp.get("/<string:code>")
@blp.response(200, LookupSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def lookup(code: str) -> dict[str, Any]:
    """Where a dossier stands, by the code on its receipt."""
    return presenters.lookup(dossier_queries.lookup(get_session(), code))
