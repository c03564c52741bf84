"""Wallet items: the owner's uploads, and `file_item` for papers that enter a wallet from elsewhere
(a completed dossier's results, a desk scan). Bytes are the storage's, by content hash: never copied."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import stored
from services.actors import Actor
from services.calendar import TZ
from services.clock import clock
from services.db import transaction
from services.errors import NotFound, ValidationFailed
from services.models import Attachment, Dossier, RequiredDocument, WalletItem
from services.pagination import Page, keyset_page
from services.storage import Blob, Storage, safe_filename
from vocab import AttachmentKind, WalletSource

# A result document an official uploaded without naming its type (services.dossiers.attachments).
RESULT_TYPE = "ket_qua"
T = TypeVar("T")


def today() -> date:
    return clock.now().astimezone(TZ).date()


def document_types(session: Session) -> set[str]:
    """The catalog's vocabulary of papers: every required document type of every procedure, and results."""
    return {*session.scalars(select(RequiredDocument.type).distinct()), RESULT_TYPE}


def check_dates(issued_at: date | None, expires_at: date | None) -> None:
    if issued_at is not None and expires_at is not None and expires_at < issued_at:
        raise ValidationFailed("the paper expires before it was issued",
                               errors={"expires_at": ["Must not be before issued_at."]})


def check_type(session: Session, document_type: str) -> None:
    if document_type not in (known := document_types(session)):
        raise ValidationFailed("unknown document type",
                               errors={"document_type": [f"One of: {', '.join(sorted(known))}."]})


def store_then(session: Session, storage: Storage, stream: BinaryIO, max_bytes: int, write: Callable[[Blob], T]) -> T:
    """Bytes to storage (judged by content: 415, 413), then the stored_files row and `write`'s rows in one
    transaction (services.stored)."""
    blob = storage.put(stream, max_bytes=max_bytes)
    return stored.store_then(session, storage, [blob], lambda: write(blob))


def file_item(session: Session, owner_id: str, sha256: str, *, document_type: str, source: WalletSource,
              title: str, filename: str, issued_at: date | None = None, expires_at: date | None = None,
              dossier_id: str | None = None) -> WalletItem:
    """Put a stored file into a person's wallet, in the caller's transaction (no bytes move). For the
    results of a completed dossier and for desk scans (`source=WalletSource.desk_scan`); the stored_files
    row must exist already."""
    check_dates(issued_at, expires_at)
    item = WalletItem(owner_id=owner_id, sha256=sha256, document_type=document_type, source=source,
                      title=title[:200], filename=filename, issued_at=issued_at, expires_at=expires_at,
                      dossier_id=dossier_id, created_at=clock.now())
    session.add(item)
    session.flush()
    return item


def file_results(session: Session, dossier: Dossier) -> list[WalletItem]:
    """A completed dossier's result files into its applicant's wallet (the return_result effect)."""
    have = set(session.scalars(select(WalletItem.sha256).where(WalletItem.owner_id == dossier.applicant_id,
                                                               WalletItem.dossier_id == dossier.id)))
    filed = []
    issued = today()
    for attachment in dossier.attachments:
        if attachment.kind != AttachmentKind.result or attachment.sha256 in have:
            continue
        have.add(attachment.sha256)
        filed.append(file_item(session, dossier.applicant_id, attachment.sha256,
                               document_type=attachment.document_type, source=WalletSource.result,
                               title=dossier.procedure.name, filename=attachment.filename, issued_at=issued,
                               dossier_id=dossier.id))
    return filed


def file_scan(session: Session, dossier: Dossier, attachment: Attachment) -> WalletItem | None:
    """A desk scan into the dossier's applicant's wallet (`source: desk_scan`), in the desk's transaction;
    nothing when the wallet already holds the same bytes as the same document type (a scan of the
    same paper for another dossier)."""
    if session.scalar(select(WalletItem.id).where(WalletItem.owner_id == dossier.applicant_id,
                                                  WalletItem.sha256 == attachment.sha256,
                                                  WalletItem.document_type == attachment.document_type)
                      .limit(1)) is not None:
        return None
    slot = next((d.name for d in dossier.procedure.required_documents if d.type == attachment.document_type),
                attachment.document_type)
    return file_item(session, dossier.applicant_id, attachment.sha256, document_type=attachment.document_type,
                     source=WalletSource.desk_scan, title=slot, filename=attachment.filename,
                     dossier_id=dossier.id)


def upload(session: Session, actor: Actor, *, storage: Storage, stream: BinaryIO, filename: str | None,
           document_type: str, title: str | None, issued_at: date | None, expires_at: date | None,
           max_bytes: int) -> WalletItem:
    """The owner's own paper: checked before any byte is stored, then stored once by content hash."""
    with transaction(session):
        check_type(session, document_type)
        check_dates(issued_at, expires_at)

    def write(blob: Blob) -> WalletItem:
        name = safe_filename(filename, blob.content_type)
        return file_item(session, actor.user_id, blob.sha256, document_type=document_type,
                         source=WalletSource.upload, title=(title or name), filename=name,
                         issued_at=issued_at, expires_at=expires_at)

    return store_then(session, storage, stream, max_bytes, write)


def page(session: Session, actor: Actor, *, document_type: str | None = None, after: Sequence[Any] | None = None,
         limit: int = 20) -> Page[WalletItem]:
    """The owner's items, newest first."""
    stmt = select(WalletItem).where(WalletItem.owner_id == actor.user_id)
    if document_type is not None:
        stmt = stmt.where(WalletItem.document_type == document_type)
    return keyset_page(session, stmt, [WalletItem.created_at, WalletItem.id],
                       lambda i: (i.created_at.isoformat(), i.id), after=after, limit=limit, descending=True)


def get_item(session: Session, actor: Actor, item_id: str, *, lock: bool = False) -> WalletItem:
    """The caller's own item; anyone else's is 404."""
    stmt = select(WalletItem).where(WalletItem.id == item_id, WalletItem.owner_id == actor.user_id)
    item = session.scalar(stmt.with_for_update(of=WalletItem) if lock else stmt)
    if item is None:
        raise NotFound("wallet item not found")
    return item


def delete(session: Session, actor: Actor, item_id: str) -> None:
    """Out of the wallet; a dossier it was attached to keeps its own reference to the bytes, and the
    bytes themselves go only when nothing refers to them (services.wallet.collector)."""
    with transaction(session):
        item = get_item(session, actor, item_id, lock=True)
        session.delete(item)


def expired(item: WalletItem, on: datetime | None = None) -> bool:
    day = (on or clock.now()).astimezone(TZ).date()
    return item.expires_at is not None and item.expires_at < day
