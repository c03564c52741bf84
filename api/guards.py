"""Who may call what: a guard per blueprint, checked before every request, documented in OpenAPI.

The table of guards lives in api/routes.py, so every route's guard reads in one file. A route whose
blueprint has no guard is refused (fail closed), and tests/api/test_guards.py lists every route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from flask import Flask, g, request

from api.context import get_session, runtime, settings
from services.actors import Actor
from services.errors import Forbidden, NotFound, Unauthorized
from services.people.identity import Principal


@dataclass(frozen=True)
class Guard:
    name: str
    # Any of these roles may pass; None means no sign-in is needed.
    roles: tuple[str, ...] | None
    # A browser page: the access token comes from the portal's cookie, not a bearer header.
    page: bool = False

    @property
    def public(self) -> bool:
        return self.roles is None


PUBLIC = Guard("public", None)
CITIZEN = Guard("citizen", ("citizen",))  # anyone signed in
OFFICIAL = Guard("official", ("official", "admin"))
ADMIN = Guard("admin", ("admin",))
STAFF_PAGE = Guard("official", ("official", "admin"), page=True)
# The admin portal's cookies (api/portal.py sets them; only under /admin, never sent to the API).
ACCESS_COOKIE = "smartqn_portal"
REFRESH_COOKIE = "smartqn_portal_refresh"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("sign in first")
    return principal


def current_actor() -> Actor:
    """The caller as the dossier services see them: their strongest role and their agency."""
    principal = current_principal()
    role = "admin" if principal.has("admin") else "official" if principal.has("official") else "citizen"
    return Actor(user_id=principal.user_id, role=role, agency_code=principal.agency_code,
                 origin=f"{request.remote_addr or '-'} req={g.get('request_id', '-')}")


def install(app: Flask, guards: dict[str, Guard]) -> None:
    @app.before_request
    def _guard() -> None:
        if request.url_rule is None:  # routing failed: the 404/405 handler answers
            return
        if any("\x00" in str(value) for value in (request.view_args or {}).values()):
            raise NotFound("no such resource")  # PostgreSQL cannot even compare a NUL
        guard = guards.get(request.blueprint or "")
        if guard is None:
            raise Forbidden("this route declares no guard")
        if guard.public:
            return
        token = request.cookies.get(ACCESS_COOKIE) if guard.page else bearer_token()
        if not token:
            raise Unauthorized("missing bearer token")
        principal = runtime().access_tokens.principal(token, settings=settings())
        runtime().revocations.check(get_session(), principal)  # a logout or a role change bites within a minute
        if not any(principal.has(role) for role in guard.roles or ()):
            raise Forbidden(f"needs the {guard.name} role")
        g.principal = principal


class GuardDocs(BasePlugin):
    """Marks each guarded operation with the bearer scheme and its 401/403 answers, each public one
    with `security: []`."""

    def __init__(self, guards: dict[str, Guard]) -> None:
        self.guards = guards

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        guard = self.guards.get(rule.endpoint.partition(".")[0]) if rule is not None else None
        if guard is None or not operations:
            return
        if guard.public:
            for operation in operations.values():
                operation.setdefault("security", [])  # explicitly none
            return
        for operation in operations.values():
            operation.setdefault("security", [{"bearerAuth": []}])
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", "UNAUTHORIZED")
            if guard is not CITIZEN:
                responses.setdefault("403", "FORBIDDEN")
