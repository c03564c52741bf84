"""Interconnected applications (liên thông): one form, a dossier per step, submitted together."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for

from api import presenters
from api.blueprint import Blueprint
from api.context import calendar, get_session
from api.guards import current_actor
from api.http import IDEMPOTENCY_HEADER, idempotent_request, json_response
from api.openapi import documented
from schemas.dossiers import BundleSchema, CreateBundleSchema, UpdateDossierSchema
from services.dossiers import bundles

blp = Blueprint("bundles", __name__, url_prefix="/api/v1/dossier-bundles", description="Interconnected groups")
_bundle = BundleSchema()


def _reply(bundle: Any, status: int = 200, **headers: str) -> Response:
    return json_response(_bundle.dump(presenters.bundle(bundle, current_actor())), status, headers=headers)


@blp.post("")
@blp.arguments(CreateBundleSchema)
@blp.response(201, BundleSchema)
@documented(201, headers=("Location",))
@blp.alt_response(404, response="NOT_FOUND")
def create(body: dict[str, Any]) -> Response:
    """Drafts for each step of an interconnected group, sharing one form."""
    bundle = bundles.create(get_session(), current_actor(), group_code=body["group_code"], form=body["form"],
                            procedure_codes=body["procedure_codes"])
    return _reply(bundle, 201, Location=url_for("bundles.get", bundle_id=bundle.id))


@blp.get("/<string:bundle_id>")
@blp.response(200, BundleSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get(bundle_id: str) -> Response:
    """The bundle, its dossiers and an aggregate status."""
    return _reply(bundles.get_own(get_session(), current_actor(), bundle_id))


@blp.patch("/<string:bundle_id>")
@blp.arguments(UpdateDossierSchema)
@blp.response(200, BundleSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update(body: dict[str, Any], bundle_id: str) -> Response:
    """Change the shared form (on the members still editable)."""
    return _reply(bundles.update_form(get_session(), current_actor(), bundle_id, form=body["form"]))


@blp.post("/<string:bundle_id>/submit")
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.response(200, BundleSchema)
@blp.alt_response(403, response="FORBIDDEN")
@documented(403, codes=("eid_level_insufficient",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@documented(422, codes=("missing_documents",))
def submit(bundle_id: str) -> Response:
    """Submit every step at once (all or none)."""
    actor = current_actor()
    return _reply(bundles.submit(get_session(), actor, bundle_id, calendar=calendar(),
                                 request=idempotent_request(actor.user_id)))
