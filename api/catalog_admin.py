"""Catalog administration for admins: procedures and agencies (deactivate, never delete)."""

from __future__ import annotations

from typing import Any

from api.blueprint import Blueprint
from api.context import get_session
from api.guards import current_actor
from schemas.catalog_admin import (
    AdminAgencyListSchema,
    AdminAgencySchema,
    AdminPageArgs,
    AdminProcedurePageSchema,
    AdminProcedureSchema,
    AgencyCreateSchema,
    AgencyPatchSchema,
    ProcedureCreateSchema,
    ProcedurePatchSchema,
)
from schemas.common import encode_cursor
from services.province import catalog_admin

blp = Blueprint("admin_catalog", __name__, url_prefix="/api/v1/admin", description="Catalog administration")


@blp.get("/procedures")
@blp.arguments(AdminPageArgs, location="query", as_kwargs=True)
@blp.response(200, AdminProcedurePageSchema)
def list_procedures(limit: int, cursor: list[Any] | None = None) -> dict[str, Any]:
    """Every procedure, active or not, by code."""
    page = catalog_admin.list_all(get_session(), after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@blp.post("/procedures")
@blp.arguments(ProcedureCreateSchema)
@blp.response(201, AdminProcedureSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def create_procedure(body: dict[str, Any]) -> Any:
    """Add a procedure; its form schema must be a valid JSON Schema."""
    return catalog_admin.create_procedure(get_session(), current_actor(), body)


@blp.patch("/procedures/<string:code>")
@blp.arguments(ProcedurePatchSchema)
@blp.response(200, AdminProcedureSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_procedure(body: dict[str, Any], code: str) -> Any:
    """Change a procedure; `active: false` stops new dossiers."""
    return catalog_admin.update_procedure(get_session(), current_actor(), code, body)


@blp.get("/agencies")
@blp.response(200, AdminAgencyListSchema)
def list_agencies() -> dict[str, Any]:
    """Every agency, active or not."""
    return {"items": catalog_admin.list_agencies(get_session())}


@blp.post("/agencies")
@blp.arguments(AgencyCreateSchema)
@blp.response(201, AdminAgencySchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def create_agency(body: dict[str, Any]) -> Any:
    """Add an agency (its electronic identifier as code)."""
    code = body.pop("code")
    return catalog_admin.save_agency(get_session(), current_actor(), code, body, create=True)


@blp.patch("/agencies/<string:code>")
@blp.arguments(AgencyPatchSchema)
@blp.response(200, AdminAgencySchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_agency(body: dict[str, Any], code: str) -> Any:
    """Rename, re-parent or deactivate an agency."""
    return catalog_admin.save_agency(get_session(), current_actor(), code, body, create=False)
