"""The one-stop desk: filing walk-in and postal dossiers, the desk's scans, the desk documents (forms
01-04) for the applicant and the officials, and their public verification by code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, url_for

from api import presenters
from api.blueprint import Blueprint
from api.context import calendar, get_session, settings, storage
from api.guards import current_actor
from api.http import IDEMPOTENCY_HEADER, etag, idempotent_request, json_response, send_stored
from api.openapi import BINARY, documented
from schemas.desk import DeskDocumentListSchema, DeskFilingSchema, ScanSchema, VerificationSchema
from schemas.dossiers import AttachmentSchema, StaffDossierSchema
from services.dossiers import attachments, desk, documents

if TYPE_CHECKING:
    from services.models import DeskDocument

blp = Blueprint("desk", __name__, url_prefix="/api/v1/desk", description="The one-stop desk (officials of a centre)")
documents_blp = Blueprint("dossier_documents", __name__, url_prefix="/api/v1/dossiers",
                          description="The desk documents of the caller's dossiers")
admin_documents_blp = Blueprint("admin_dossier_documents", __name__, url_prefix="/api/v1/admin/dossiers",
                                description="The desk documents of the agency's dossiers")
verify_blp = Blueprint("verify", __name__, url_prefix="/api/v1/verify",
                       description="Public verification of a desk document")
_staff_dossier = StaffDossierSchema()


def press() -> documents.Press:
    """Where the desk documents an action issues go, and the base URL their QR codes point at."""
    return documents.Press(storage(), settings().base_url)


@blp.post("/dossiers")
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.arguments(DeskFilingSchema)
@blp.response(201, StaffDossierSchema)
@documented(201, headers=("ETag", "Location"))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def file(body: dict[str, Any]) -> Response:
    """File a walk-in or postal dossier for a person identified by CCCD.

    Received at once at the caller's centre, with its code, appointment and receipt slip (form 01),
    and forwarded to the competent agency."""
    actor = current_actor()
    dossier = desk.file(get_session(), actor, procedure_code=body["procedure_code"], agency_code=body["agency_code"],
                        variant=body["variant"], channel=body["channel"], return_method=body["return_method"],
                        applicant=body["applicant"], form=body["form"], papers=body["papers"],
                        calendar=calendar(), press=press(), request=idempotent_request(actor.user_id))
    return json_response(_staff_dossier.dump(presenters.dossier(dossier, actor, staff=True)), 201,
                         etag(dossier.version), {"Location": url_for("admin_dossiers.get", dossier_id=dossier.id)})


@blp.post("/dossiers/<string:dossier_id>/attachments")
@blp.arguments(ScanSchema, location="files")
@blp.response(201, AttachmentSchema)
@blp.alt_response(200, schema=AttachmentSchema, description="the same scan was attached before")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
def scan(body: dict[str, Any], dossier_id: str) -> tuple[Any, int]:
    """The desk's scan of a paper brought in person (`digitised: true`)."""
    upload = body["file"]
    attachment, created = attachments.scan(
        get_session(), current_actor(), dossier_id, storage=storage(), document_type=body["document_type"],
        filename=upload.filename, stream=upload.stream, max_bytes=settings().max_upload_mb * 1024 * 1024)
    return attachment, 201 if created else 200


def _listed(dossier_id: str) -> dict[str, Any]:
    return {"items": [_item(d) for d in documents.list_for(get_session(), current_actor(), dossier_id)]}


def _item(d: DeskDocument) -> dict[str, Any]:
    return {"id": d.id, "form_no": d.form_no, "kind": documents.KINDS[d.form_no], "number": d.number,
            "issued_at": d.issued_at, "sha256": d.sha256, "verify_code": d.verify_code}


def _pdf(dossier_id: str, document_id: str) -> Response:
    document = documents.get_for(get_session(), current_actor(), dossier_id, document_id)
    name = f"mau-{document.form_no.value}-{document.number.replace('/', '-')}.pdf"
    return send_stored(document.sha256, mimetype="application/pdf", as_attachment=False, download_name=name,
                       max_age=0)


def _document_routes(bp: Blueprint, who: str) -> None:
    """The two document routes on one blueprint (the applicant's, or the officials' twin)."""

    def list_documents(dossier_id: str) -> dict[str, Any]:
        return _listed(dossier_id)

    def download_document(dossier_id: str, document_id: str) -> Response:
        return _pdf(dossier_id, document_id)

    # Docstrings first: flask-smorest reads them when the route is declared.
    list_documents.__doc__ = f"The dossier's desk documents (forms 01-04), oldest first, to {who}."
    download_document.__doc__ = f"One desk document as PDF, to {who}."
    listed = bp.alt_response(404, response="NOT_FOUND")(list_documents)
    bp.get("/<string:dossier_id>/documents")(bp.response(200, DeskDocumentListSchema)(listed))
    one = documented(200, headers=("ETag",), content={"application/pdf": BINARY})(
        bp.alt_response(404, response="NOT_FOUND")(download_document))
    bp.get("/<string:dossier_id>/documents/<string:document_id>")(
        bp.response(200, description="the PDF", content_type="application/pdf")(one))


_document_routes(documents_blp, "the applicant")
_document_routes(admin_documents_blp, "officials of its agency or centre")


@verify_blp.get("/<string:verify_code>")
@verify_blp.response(200, VerificationSchema)
@verify_blp.alt_response(404, response="NOT_FOUND")
@verify_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def verify(verify_code: str) -> dict[str, Any]:
    """Whether a desk document is genuine, by the code its QR carries: nothing personal."""
    document, dossier_code = documents.verify(get_session(), verify_code)
    return {"form_no": document.form_no, "kind": documents.KINDS[document.form_no], "number": document.number,
            "dossier_code": dossier_code, "agency_name": document.agency_name, "issued_at": document.issued_at,
            "sha256": document.sha256}
