"""The audit trail, for admins: read-only, newest first, filterable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.blueprint import Blueprint
from api.context import get_session
from schemas.common import encode_cursor
from schemas.stats import AuditArgs, AuditPageSchema
from services import audit

blp = Blueprint("admin_audit", __name__, url_prefix="/api/v1/admin", description="Audit trail (admin)")


@blp.get("/audit")
@blp.arguments(AuditArgs, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
def list_audit(limit: int, cursor: list[Any] | None = None, since: datetime | None = None,
               until: datetime | None = None, **filters: str) -> dict[str, Any]:
    """Who did what to which dossier, role or catalog entry, when and from where."""
    page = audit.search(get_session(), since=since, until=until, after=cursor, limit=limit, **filters)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}
