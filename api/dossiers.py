"""The citizen's dossiers: drafts, papers, submission, and following a dossier to its result."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from api import presenters
from api.blueprint import Blueprint
from api.context import calendar, get_session, read_only, settings, storage
from api.dossier_views import own_dossier, page_response
from api.guards import current_actor
from api.http import IDEMPOTENCY_HEADER, etag, idempotent_request, json_response, send_stored
from api.openapi import BINARY, documented
from schemas.dossiers import (
    AttachmentSchema,
    CitizenListArgs,
    CreateDossierSchema,
    DossierPageSchema,
    DossierSchema,
    RatingSchema,
    UpdateDossierSchema,
    UploadSchema,
    WalletMatchSchema,
)
from schemas.wallet import WalletAttachSchema
from services.dossiers import attachments, citizen
from services.dossiers import queries as dossier_queries
from services.dossiers.access import get_visible
from services.dossiers.table import EDITABLE
from services.wallet import reuse

blp = Blueprint("dossiers", __name__, url_prefix="/api/v1/dossiers", description="The citizen's dossiers")
_wallet_match = WalletMatchSchema(many=True)


def _reply(dossier: Any, status: int = 200, **headers: str) -> Response:
    actor = current_actor()
    view = presenters.dumped(presenters.dossier(dossier, actor))
    if dossier.applicant_id == actor.user_id and dossier.status in EDITABLE:
        view["wallet_matches"] = {document_type: _wallet_match.dump(items)
                                  for document_type, items in reuse.matches(get_session(), actor, dossier).items()}
    return json_response(view, status, etag(dossier.version), headers)


@blp.post("")
@blp.arguments(CreateDossierSchema)
@blp.response(201, DossierSchema)
@documented(201, headers=("ETag", "Location"))
@blp.alt_response(404, response="NOT_FOUND")
def create(body: dict[str, Any]) -> Response:
    """Start a draft for a procedure."""
    dossier = citizen.create_draft(get_session(), current_actor(), procedure_code=body["procedure_code"],
                                   form=body["form"], agency_code=body["agency_code"], prefill=body["prefill"])
    return _reply(dossier, 201, Location=url_for("dossiers.get", dossier_id=dossier.id))


@blp.get("")
@blp.arguments(CitizenListArgs, location="query", as_kwargs=True)
@blp.response(200, DossierPageSchema)
@read_only
def list_own(limit: int, cursor: list[Any] | None = None, status: str | None = None) -> Response:
    """The caller's own dossiers, newest first."""
    page = dossier_queries.list_own(get_session(), current_actor(), status=status, after=cursor, limit=limit)
    return page_response(page, staff=False)


@blp.get("/<string:dossier_id>")
@blp.response(200, DossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@read_only
def get(dossier_id: str) -> Response:
    """One dossier with its timeline and what the caller may do now."""
    return own_dossier(dossier_id, lambda: _reply(get_visible(get_session(), current_actor(), dossier_id)))


@blp.patch("/<string:dossier_id>")
@blp.arguments(UpdateDossierSchema)
@blp.response(200, DossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update(body: dict[str, Any], dossier_id: str) -> Response:
    """Change the form while the dossier is a draft or a supplement is requested."""
    return _reply(citizen.update_form(get_session(), current_actor(), dossier_id, form=body["form"]))


@blp.delete("/<string:dossier_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete(dossier_id: str) -> None:
    """Delete a draft."""
    citizen.delete_draft(get_session(), current_actor(), dossier_id)


@blp.post("/<string:dossier_id>/attachments")
@blp.doc(requestBody={"required": True, "description": "multipart: a file uploaded; JSON: a paper of the caller's "
                      "wallet, no bytes uploaded", "content": {"multipart/form-data": {"schema": UploadSchema},
                                                               "application/json": {"schema": WalletAttachSchema}}})
@blp.response(201, AttachmentSchema)
@blp.alt_response(200, schema=AttachmentSchema, description="the same file was attached before")
@blp.alt_response(404, response="NOT_FOUND", description="the dossier, or the wallet item, is not the caller's")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="validation_failed: not a slot of the "
                  "procedure, or a wallet item of another document type, or expired")
def attach(dossier_id: str) -> tuple[Any, int]:
    """Attach a paper: upload a file (PDF, JPEG or PNG, judged by its bytes), or take one from the wallet."""
    if request.is_json:  # from the wallet: one JSON call, no bytes move
        body = blp.ARGUMENTS_PARSER.parse(WalletAttachSchema(), request, location="json")
        attachment, created = reuse.attach(get_session(), current_actor(), dossier_id,
                                           wallet_item_id=body["wallet_item_id"], document_type=body["document_type"])
        return attachment, 201 if created else 200
    body = blp.ARGUMENTS_PARSER.parse(UploadSchema(), request, location="files")
    upload = body["file"]
    attachment, created = attachments.attach(
        get_session(), current_actor(), dossier_id, storage=storage(), document_type=body["document_type"],
        filename=upload.filename, stream=upload.stream, max_bytes=settings().max_upload_mb * 1024 * 1024)
    return attachment, 201 if created else 200


@blp.get("/<string:dossier_id>/attachments/<string:attachment_id>")
@blp.response(200, description="the file's bytes", content_type="application/octet-stream")
@documented(200, headers=("ETag",), content={t: BINARY for t in ("application/pdf", "image/jpeg", "image/png",
                                                                  "application/octet-stream")})
@blp.alt_response(404, response="NOT_FOUND")
def download(dossier_id: str, attachment_id: str) -> Response:
    """The file, to its applicant and to officials of the dossier's agency."""
    attachment = attachments.get_attachment(get_session(), current_actor(), dossier_id, attachment_id)
    return send_stored(attachment.sha256, mimetype=attachment.content_type, as_attachment=True,
                       download_name=attachment.filename, max_age=0)


@blp.delete("/<string:dossier_id>/attachments/<string:attachment_id>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def detach(dossier_id: str, attachment_id: str) -> None:
    """Remove a paper while the dossier is editable."""
    attachments.remove(get_session(), current_actor(), dossier_id, attachment_id, storage=storage())


@blp.post("/<string:dossier_id>/submit")
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.response(200, DossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(403, response="FORBIDDEN")
@documented(403, codes=("eid_level_insufficient",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@documented(422, codes=("missing_documents",))
def submit(dossier_id: str) -> Response:
    """Submit: the form, the mandatory papers and the eID level are checked; the code is assigned."""
    actor = current_actor()
    return _reply(citizen.submit(get_session(), actor, dossier_id, calendar=calendar(),
                                 request=idempotent_request(actor.user_id)))


def _citizen_action(action: str, dossier_id: str) -> Response:
    return _reply(citizen.citizen_act(get_session(), current_actor(), dossier_id, action, calendar=calendar()))


@blp.post("/<string:dossier_id>/resubmit")
@blp.response(200, DossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@documented(422, codes=("missing_documents",))
def resubmit(dossier_id: str) -> Response:
    """After a supplement request: back to where it was, the deadline clock running again."""
    return _citizen_action("resubmit", dossier_id)


@blp.post("/<string:dossier_id>/withdraw")
@blp.response(200, DossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def withdraw(dossier_id: str) -> Response:
    """Withdraw a dossier that has not been received yet."""
    return _citizen_action("withdraw", dossier_id)


@blp.post("/<string:dossier_id>/rating")
@blp.arguments(RatingSchema)
@blp.response(201, RatingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def rating(body: dict[str, Any], dossier_id: str) -> dict[str, Any]:
    """Rate the service once the dossier is final (once)."""
    d = citizen.rate(get_session(), current_actor(), dossier_id, score=body["score"], comment=body["comment"])
    return {"score": d.rating_score, "comment": d.rating_comment, "rated_at": d.rated_at}
