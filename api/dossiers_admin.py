"""Officials work their agency's queue (admins, every agency's): read, act, upload results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response

from api import presenters
from api.blueprint import Blueprint
from api.context import calendar, get_session, read_only, remember_query, settings, state, storage
from api.desk import press
from api.dossier_views import page_response
from api.guards import current_actor
from api.http import IF_MATCH_HEADER, etag, expected_version, json_response
from api.openapi import documented
from schemas.dossiers import (
    ActionSchema,
    AttachmentSchema,
    QueueArgs,
    ResultUploadSchema,
    StaffDossierPageSchema,
    StaffDossierSchema,
)
from services.dossiers import attachments, staff
from services.dossiers import queries as dossier_queries
from services.dossiers.access import get_visible

blp = Blueprint("admin_dossiers", __name__, url_prefix="/api/v1/admin/dossiers",
                description="The officials' side of dossiers")


def _reply(dossier: Any) -> Response:
    return json_response(presenters.dumped(presenters.dossier(dossier, current_actor(), staff=True)), 200,
                         etag(dossier.version))


@blp.get("")
@blp.arguments(QueueArgs, location="query", as_kwargs=True)
@blp.response(200, StaffDossierPageSchema)
@blp.alt_response(404, response="NOT_FOUND")
@read_only
def queue(limit: int, cursor: list[Any] | None = None, status: str | None = None, overdue: bool | None = None,
          due_before: datetime | None = None, q: str | None = None, agency_code: str | None = None) -> Response:
    """The agency's dossiers (every agency's for an admin), oldest due first."""
    narrowing: dict[str, Any] = {"status": status, "overdue": overdue, "due_before": due_before, "q": q,
                                 "agency_code": agency_code, "after": cursor, "limit": limit}
    page = dossier_queries.queue(get_session(), current_actor(), **narrowing)
    remember_query(state().queue_queries, narrowing)
    return page_response(page, staff=True)


@blp.get("/<string:dossier_id>")
@blp.response(200, StaffDossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@read_only
def get(dossier_id: str) -> Response:
    """One dossier with the applicant's identity."""
    return _reply(get_visible(get_session(), current_actor(), dossier_id, staff=True))


@blp.post("/<string:dossier_id>/actions")
@blp.doc(parameters=[IF_MATCH_HEADER])
@blp.arguments(ActionSchema)
@blp.response(200, StaffDossierSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(402, response="PAYMENT_REQUIRED")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(412, response="PRECONDITION_FAILED")
@blp.alt_response(428, response="PRECONDITION_REQUIRED")
def act(body: dict[str, Any], dossier_id: str) -> Response:
    """receive, start_processing, request_supplement (note), approve, reject (reason), return_result,
    apologize (reason, new_due_at), transfer (agency_code), record_desk_payment (amount_vnd, method,
    receipt_no); send If-Match with the ETag you read."""
    dossier = staff.act(get_session(), current_actor(), dossier_id, body["action"],
                        expected_version=expected_version(), calendar=calendar(), note=body["note"],
                        reason=body["reason"], new_due_at=body["new_due_at"], variant=body["variant"],
                        agency_code=body["agency_code"], amount_vnd=body["amount_vnd"], method=body["method"],
                        receipt_no=body["receipt_no"], press=press())
    return _reply(dossier)


@blp.post("/<string:dossier_id>/results")
@blp.arguments(ResultUploadSchema, location="files")
@blp.response(201, AttachmentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="validation_failed: a document_type the "
                  "catalog does not know")
def upload_result(files: dict[str, Any], dossier_id: str) -> Any:
    """The result document (certificate, licence), visible to the applicant; `document_type` (default
    `ket_qua`) is the type it enters the applicant's wallet as when the dossier completes."""
    upload = files["file"]
    return attachments.upload_result(get_session(), current_actor(), dossier_id, storage=storage(),
                                     filename=upload.filename, stream=upload.stream,
                                     max_bytes=settings().max_upload_mb * 1024 * 1024,
                                     document_type=files["document_type"])
