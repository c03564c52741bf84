"""Papers attached to a dossier by its applicant, and result documents uploaded by officials.

Bytes go to storage (by content hash) before the metadata row; when the row's transaction fails,
a blob this request created and nothing else references is removed again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services import audit, stored
from services.actors import Actor
from services.clock import clock
from services.db import transaction
from services.dossiers.access import find, get_own, get_visible, touch, visible_to
from services.dossiers.lifecycle import transition_for
from services.dossiers.rules import mark_digitised
from services.errors import NotFound, ValidationFailed
from services.models import Attachment, Dossier, StoredFile
from services.storage import Blob, Storage, safe_filename
from services.wallet.collector import still_referenced
from services.wallet.items import RESULT_TYPE, check_type, file_scan
from vocab import AttachmentKind


def _store_then(session: Session, storage: Storage, stream: BinaryIO, max_bytes: int,
                write: Callable[[Blob], Attachment]) -> Attachment:
    blob = storage.put(stream, max_bytes=max_bytes)
    return stored.store_then(session, storage, [blob], lambda: write(blob))


def _new(dossier: Dossier, kind: str, document_type: str, filename: str | None, blob: Blob,
         actor: Actor, *, digitised: bool = False) -> Attachment:
    attachment = Attachment(dossier_id=dossier.id, kind=kind, document_type=document_type,
                            filename=safe_filename(filename, blob.content_type), sha256=blob.sha256,
                            uploaded_by=actor.user_id, created_at=clock.now(), digitised=digitised)
    dossier.attachments.append(attachment)
    touch(dossier)
    return attachment


def asked_for(dossier: Dossier, document_type: str) -> None:
    """A paper's type must be one its procedure asks for (422 naming them)."""
    known = {d.type for d in dossier.procedure.required_documents}
    if document_type not in known:
        raise ValidationFailed("unknown document type",
                               errors={"document_type": [f"One of: {', '.join(sorted(known))}."]})


def attach(session: Session, actor: Actor, dossier_id: str, *, storage: Storage, document_type: str,
           filename: str | None, stream: BinaryIO, max_bytes: int) -> tuple[Attachment, bool]:
    """Add a paper; the same bytes for the same document type again return the first (created=False)."""
    with transaction(session):  # check before storing anything
        dossier = get_own(session, actor, dossier_id, papers=True)
        transition_for(dossier, "attach", actor)
        asked_for(dossier, document_type)
    created = True

    def write(blob: Blob) -> Attachment:
        nonlocal created
        dossier = get_own(session, actor, dossier_id, lock=True, papers=True)
        transition_for(dossier, "attach", actor)
        for existing in dossier.attachments:
            if existing.sha256 == blob.sha256 and existing.document_type == document_type:
                created = False
                return existing
        attachment = _new(dossier, AttachmentKind.document, document_type, filename, blob, actor)
        session.flush()
        return attachment

    return _store_then(session, storage, stream, max_bytes, write), created


def scan(session: Session, actor: Actor, dossier_id: str, *, storage: Storage, document_type: str,
         filename: str | None, stream: BinaryIO, max_bytes: int) -> tuple[Attachment, bool]:
    """The desk's scan of a paper brought in person (`digitised`), by an official of the dossier's agency
    or of the centre that received it; the dossier counts as digitised once every mandatory paper is in."""

    def load(lock: bool = False) -> Dossier:
        dossier = find(session, dossier_id, lock=lock, papers=True)
        if dossier is None or not visible_to(dossier, actor):
            raise NotFound("dossier not found")
        transition_for(dossier, "scan", actor)
        return dossier

    with transaction(session):
        asked_for(load(), document_type)
    created = True

    def write(blob: Blob) -> Attachment:
        nonlocal created
        dossier = load(lock=True)
        existing = next((a for a in dossier.attachments
                         if a.sha256 == blob.sha256 and a.document_type == document_type), None)
        if existing is not None:
            created = False
            return existing
        attachment = _new(dossier, AttachmentKind.document, document_type, filename, blob, actor, digitised=True)
        mark_digitised(dossier, clock.now())
        session.flush()  # the attachment's row, then the applicant's wallet item for the same bytes
        file_scan(session, dossier, attachment)
        audit.record(session, actor, "dossier.scan", "dossier", dossier.code or dossier.id,
                     {"document_type": document_type, "sha256": blob.sha256})
        session.flush()
        return attachment

    return _store_then(session, storage, stream, max_bytes, write), created


def upload_result(session: Session, actor: Actor, dossier_id: str, *, storage: Storage, filename: str | None,
                  stream: BinaryIO, max_bytes: int, document_type: str = RESULT_TYPE) -> Attachment:
    """An official's result document (certificate, licence), visible to the applicant; its type is one of
    the catalog's vocabulary (422 otherwise), the type it enters the applicant's wallet as."""
    with transaction(session):  # check before storing anything
        dossier = get_visible(session, actor, dossier_id)
        transition_for(dossier, "upload_result", actor)
        check_type(session, document_type)

    def write(blob: Blob) -> Attachment:
        dossier = get_visible(session, actor, dossier_id, lock=True)
        transition_for(dossier, "upload_result", actor)
        attachment = _new(dossier, AttachmentKind.result, document_type, filename, blob, actor)
        audit.record(session, actor, "dossier.upload_result", "dossier", dossier.code or dossier.id,
                     {"filename": attachment.filename, "sha256": blob.sha256, "document_type": document_type})
        session.flush()
        return attachment

    return _store_then(session, storage, stream, max_bytes, write)


def get_attachment(session: Session, actor: Actor, dossier_id: str, attachment_id: str) -> Attachment:
    dossier = get_visible(session, actor, dossier_id)
    for attachment in dossier.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise NotFound("attachment not found")


def remove(session: Session, actor: Actor, dossier_id: str, attachment_id: str, *, storage: Storage) -> None:
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True)
        transition_for(dossier, "attach", actor)
        attachment = next((a for a in dossier.attachments
                           if a.id == attachment_id and a.kind == AttachmentKind.document), None)
        if attachment is None:
            raise NotFound("attachment not found")
        sha256 = attachment.sha256
        dossier.attachments.remove(attachment)
        touch(dossier)
        session.flush()
        # Other papers, wallet items, anything with a foreign key to the bytes (services.wallet.collector).
        still_used = still_referenced(session, sha256)
        if not still_used:
            session.execute(delete(StoredFile).where(StoredFile.sha256 == sha256))
    if not still_used:
        storage.delete(sha256)  # after the commit: a rollback must not lose bytes a row points to
