"""Public catalog: agencies, procedures, interconnected groups."""

from __future__ import annotations

from typing import Any

from api.blueprint import Blueprint
from api.caching import revisioned
from api.context import get_session
from schemas.catalog import (
    AgencyArgs,
    AgencyListSchema,
    CompetentAgencyArgs,
    CompetentAgencyPageSchema,
    ProcedureGroupListSchema,
    ProcedureListArgs,
    ProcedurePageSchema,
    ProcedureSchema,
)
from schemas.common import encode_cursor
from services.province import catalog, competence

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The public catalog of procedures")


@blp.get("/agencies")
@revisioned
@blp.arguments(AgencyArgs, location="query", as_kwargs=True)
@blp.response(200, AgencyListSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_agencies(**filters: Any) -> dict[str, Any]:
    """Agencies: the province, its departments and communes; `is_centre` ones receive any procedure."""
    return {"items": catalog.list_agencies(get_session(), **filters)}


@blp.get("/procedures")
@revisioned
@blp.arguments(ProcedureListArgs, location="query", as_kwargs=True)
@blp.response(200, ProcedurePageSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_procedures(limit: int, cursor: list[Any] | None = None, **filters: Any) -> dict[str, Any]:
    """Procedures ordered by code; `q` matches names with or without diacritics."""
    page = catalog.list_procedures(get_session(), after=cursor, limit=limit, **filters)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.get("/procedures/<string:code>")
@revisioned
@blp.response(200, ProcedureSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def get_procedure(code: str) -> Any:
    """One procedure with its required documents and the JSON Schema of its form."""
    return catalog.get_procedure(get_session(), code)


@blp.get("/procedures/<string:code>/agencies")
@revisioned
@blp.arguments(CompetentAgencyArgs, location="query", as_kwargs=True)
@blp.response(200, CompetentAgencyPageSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def competent_agencies(code: str, limit: int, cursor: list[Any] | None = None, q: str | None = None) -> dict[str, Any]:
    """The agencies competent for a procedure (every commune for a commune procedure), by code."""
    session = get_session()
    page = competence.competent_agencies(session, catalog.get_procedure(session, code), q=q, after=cursor,
                                         limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.get("/procedure-groups")
@revisioned
@blp.response(200, ProcedureGroupListSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
def list_groups() -> dict[str, Any]:
    """Interconnected groups (liên thông), their procedures in the order the steps happen."""
    return {"items": catalog.list_groups(get_session())}
