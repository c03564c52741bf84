"""The desk's documents (forms 01-04): issued by the lifecycle's effects, in the transaction of the action
that calls for them, from the record; numbered per issuing agency, form and year, stored by hash,
verifiable by a code;
announced to the applicant by the action's own notice.

Issuing writes the PDF's bytes to storage before the transaction commits (as an upload does): a
rollback leaves at most an unreferenced blob, never a row without its bytes.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import stored
from services.actors import Actor
from services.calendar import TZ
from services.counters import next_number
from services.db import new_id, transaction
from services.dossiers.access import get_visible
from services.dossiers.pdf import Facts, render
from services.errors import NotFound
from services.lifecycle import LifecycleError, Move
from services.models import Agency, DeskDocument, DocumentCounter, Dossier, User
from services.rows import Row
from services.storage import Storage
from vocab import AttachmentKind, DeskForm

MAX_PDF_BYTES = 5 * 1024 * 1024
KINDS = {DeskForm.receipt: "receipt", DeskForm.supplement: "supplement_request", DeskForm.refusal: "refusal",
         DeskForm.apology: "apology"}
RETURN_METHODS = {"online": "Trực tuyến", "desk": "Tại bộ phận một cửa", "postal": "Qua dịch vụ bưu chính công ích"}


@dataclass(frozen=True)
class Press:
    """What issuing a document needs beyond the move: where its bytes go, and the public base URL its
    QR code points at."""

    storage: Storage
    base_url: str


def _when(value: Any) -> str:
    return value.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y") if value else "-"


def _papers(d: Dossier, *, missing: bool) -> list[str]:
    """The papers held (form 01), or the mandatory ones still missing (form 02), by their names."""
    required = d.procedure.required_documents  # from the catalog cache (services.dossiers.access.find)
    held = [a.document_type for a in d.attachments if a.kind == AttachmentKind.document]
    if missing:
        return [r.name for r in required if r.mandatory and r.type not in held]
    names = {r.type: r.name for r in required}
    return [names.get(t, t) for t in dict.fromkeys(held)]


def _body(session: Session, move: Move[Dossier], form: DeskForm) -> tuple[list[tuple[str, str]], list[str]]:
    d, inputs = move.subject, move.inputs
    if form == DeskForm.receipt:
        lines = [("Tiếp nhận lúc", _when(d.received_at)), ("Hẹn trả kết quả", _when(d.due_at)),
                 ("Lệ phí", f"{d.fee_vnd:,} đồng".replace(",", ".")),
                 ("Hình thức nhận kết quả", RETURN_METHODS.get(d.return_method, d.return_method))]
        return lines, list(dict.fromkeys([*move.extra.get("papers", ()), *_papers(d, missing=False)]))
    if form == DeskForm.supplement:
        return [("Nội dung cần bổ sung", inputs.get("note") or "")], _papers(d, missing=True)
    if form == DeskForm.refusal:
        return [("Lý do", inputs.get("reason") or "")], []
    return [("Lý do chậm trễ", inputs.get("reason") or ""), ("Hẹn trả kết quả trước đây", _when(d.due_at)),
            ("Hẹn lại ngày trả kết quả", _when(inputs.get("new_due_at")))], []


def verify_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/verify/{code}"


def issue(move: Move[Dossier], form: DeskForm) -> str:
    """Make, number and store one document of the move's dossier, leaving its rows to the move (`Move.rows`)
    and its mention to the applicant's notice; returns its id."""
    press: Press | None = move.extra.get("press")
    if press is None:
        raise LifecycleError(f"{move.action} issues form {form.value} and needs the press (storage, base URL)")
    session, d, now = move.session, move.subject, move.now
    # Form 01 is the receiving centre's; the others are the deciding agency's, each numbered in its own series.
    issuer = d.agency
    if form == DeskForm.receipt and d.receiving_centre_id and d.receiving_centre_id != d.agency_id:
        issuer = session.get_one(Agency, d.receiving_centre_id)
    # Nothing here reads what the move changed: the dossier's row is written once, by the move's last flush.
    with session.no_autoflush:
        year = now.astimezone(TZ).year
        serial = next_number(session, DocumentCounter, agency_id=issuer.id, form_no=form.value, year=year)
        number = f"{serial:06d}/{year}/{form.value}"
        applicant = session.get_one(User, d.applicant_id)
        code = secrets.token_urlsafe(16)
        lines, items = _body(session, move, form)
        content = render(Facts(form=form, number=number, issued_at=now, agency_name=issuer.name,
                               dossier_code=d.code or "", procedure_name=d.procedure.name,
                               applicant_name=applicant.full_name, applicant_cccd=applicant.cccd, verify_code=code,
                               verify_url=verify_url(press.base_url, code), lines=lines, items=items))
        blob = press.storage.put(io.BytesIO(content), max_bytes=MAX_PDF_BYTES)
    # The file's row and the document's are written with the move's notices (one statement on PostgreSQL).
    document_id = new_id()
    move.rows += [stored.row(blob, at=now),
                  Row(DeskDocument, {"id": document_id, "dossier_id": d.id, "agency_id": issuer.id, "form_no": form,
                                     "number": number, "issued_at": now, "sha256": blob.sha256, "verify_code": code,
                                     "agency_name": issuer.name})]
    # The move's own notice to the applicant (received, supplement requested, rejected, apology) carries
    # the document: one inbox entry and push per document, whose data names it (notifications.templates).
    move.extra.setdefault("notice", {}).update(document_id=document_id, form_no=form.value, document_number=number)
    return document_id


def list_for(session: Session, actor: Actor, dossier_id: str) -> Sequence[DeskDocument]:
    """A dossier's documents, oldest first, to whoever may see the dossier (else 404)."""
    dossier = get_visible(session, actor, dossier_id)
    return session.scalars(select(DeskDocument).where(DeskDocument.dossier_id == dossier.id)
                           .order_by(DeskDocument.issued_at, DeskDocument.number)).all()


def get_for(session: Session, actor: Actor, dossier_id: str, document_id: str) -> DeskDocument:
    dossier = get_visible(session, actor, dossier_id)
    document = session.scalar(select(DeskDocument).where(DeskDocument.id == document_id,
                                                         DeskDocument.dossier_id == dossier.id))
    if document is None:
        raise NotFound("document not found")
    return document


def verify(session: Session, code: str) -> tuple[DeskDocument, str]:
    """A document by its verification code, with its dossier's code: what the public may know."""
    with transaction(session):
        row = session.execute(select(DeskDocument, Dossier.code).join(Dossier, Dossier.id == DeskDocument.dossier_id)
                              .where(DeskDocument.verify_code == code)).first()
        if row is None:
            raise NotFound("no document with this code")
        return row[0], row[1] or ""
