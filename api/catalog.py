"""Public catalog: agencies, procedures, interconnected groups."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from api.caching import RenderedCache, revisioned_response
from schemas.catalog import (
    AgencyListSchema,
    ProcedureGroupListSchema,
    ProcedureListArgs,
    ProcedurePageSchema,
    ProcedureSchema,
)
from schemas.common import encode_cursor
from services import catalog
from services.db import get_session

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The public catalog of procedures")


def _cache() -> RenderedCache:
    return current_app.extensions["smartqn.catalog_cache"]


def _respond(render: Any) -> Response:
    session = get_session()
    return revisioned_response(_cache(), catalog.catalog_revision(session), lambda: render(session))


@blp.get("/agencies")
@blp.response(200, AgencyListSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_agencies() -> Response:
    """Agencies that receive dossiers: the province, its departments and communes."""
    return _respond(lambda s: AgencyListSchema().dump({"items": catalog.list_agencies(s)}))


@blp.get("/procedures")
@blp.arguments(ProcedureListArgs, location="query", as_kwargs=True)
@blp.response(200, ProcedurePageSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_procedures(limit: int, cursor: list[Any] | None = None, **filters: Any) -> Response:
    """Procedures ordered by code; `q` matches names with or without diacritics."""

    def render(session: Any) -> dict[str, Any]:
        page = catalog.list_procedures(session, after=cursor, limit=limit, **filters)
        return ProcedurePageSchema().dump({"items": page.items, "next_cursor": encode_cursor(page.next_key)})

    return _respond(render)


@blp.get("/procedures/<string:code>")
@blp.response(200, ProcedureSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def get_procedure(code: str) -> Response:
    """One procedure with its required documents and the JSON Schema of its form."""
    return _respond(lambda s: ProcedureSchema().dump(catalog.get_procedure(s, code)))


@blp.get("/procedure-groups")
@blp.response(200, ProcedureGroupListSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_groups() -> Response:
    """Interconnected groups (liên thông), their procedures in the order the steps happen."""
    return _respond(lambda s: ProcedureGroupListSchema().dump({"items": catalog.list_groups(s)}))
