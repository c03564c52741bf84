"""Public catalog: agencies, procedures, interconnected groups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, request

from api.blueprint import Blueprint
from api.caching import cache_key, revision_etag
from api.context import get_session, state
from api.i18n import current_language
from api.openapi import documented
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


def revisioned(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a read-only view by catalog revision: 304 when current, else the cached or fresh body.

    Put it right under the route decorator, above `arguments`/`response`, so a 304 or a cache hit
    skips argument parsing and rendering; errors (raised) are never cached. Once a body is cached, the
    WSGI edge (api/edge.py) answers the same request before Flask.
    """

    @documented(200, headers=("ETag",), if_none_match=True)
    @documented(304, headers=("ETag",))
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        app_state = state()
        req = request._get_current_object()  # type: ignore[attr-defined]
        revision = app_state.catalog_revision.current()
        # Names follow Accept-Language, so the language is part of what is cached and of the ETag.
        key = cache_key(current_language(), req.path, req.query_string.decode("latin-1"))
        etag = revision_etag(key, revision)
        bodies = app_state.catalog_cache
        if req.if_none_match.contains(etag):
            response = Response(status=304, mimetype="application/json")  # no page headers on a 304
        elif (hit := bodies.get(key, revision)) is not None:
            response = Response(hit[1], mimetype="application/json")
        else:
            response = view(*args, **kwargs)
            if response.status_code == 200:  # with its route, for the edge's metrics (api/edge.py)
                bodies.put(key, revision, (req.url_rule.rule, response.get_data()))
        response.headers["Cache-Control"] = "no-cache"
        response.vary.add("Accept-Language")
        response.set_etag(etag)
        return response

    return wrapper


class Named:
    """A procedure as the caller's language names it: `name` is the English one under Accept-Language: en
    where the catalog has it, else the Vietnamese one; everything else is the procedure's."""

    __slots__ = ("_row", "name")

    def __init__(self, row: Any, lang: str) -> None:
        self._row = row
        self.name = row.name_en if lang == "en" and row.name_en else row.name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._row, attr)


def named(rows: Any) -> list[Named]:
    lang = current_language()
    return [Named(row, lang) for row in rows]


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
    return {"items": named(page.items), "next_cursor": encode_cursor(page.next_key)}


@blp.get("/procedures/<string:code>")
@revisioned
@blp.response(200, ProcedureSchema)
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def get_procedure(code: str) -> Any:
    """One procedure with its required documents and the JSON Schema of its form."""
    return Named(catalog.get_procedure(get_session(), code), current_language())


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
