"""Reusing what the wallet holds: attaching a paper to a dossier with no upload, telling a draft which
papers fit its slots, and prefilling a new form from the person's earlier dossiers."""

from __future__ import annotations

from typing import Any

import jsonschema
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.db import transaction
from services.dossiers.access import get_own, touch
from services.dossiers.attachments import asked_for
from services.dossiers.lifecycle import transition_for
from services.errors import ValidationFailed
from services.models import Attachment, Dossier, Procedure, RequiredDocument, WalletItem
from services.wallet.items import expired, get_item, today
from vocab import AttachmentKind, DossierStatus

# How many of a person's latest dossiers a prefill reads.
PREFILL_DEPTH = 20


def attach(session: Session, actor: Actor, dossier_id: str, *, wallet_item_id: str,
           document_type: str) -> tuple[Attachment, bool]:
    """One of the caller's wallet items as a paper of their dossier: a new row that refers to the same
    stored bytes. The same item in the same slot again returns the first (created=False)."""
    with transaction(session):
        dossier = get_own(session, actor, dossier_id, lock=True, papers=True)
        transition_for(dossier, "attach", actor)
        asked_for(dossier, document_type)
        item = get_item(session, actor, wallet_item_id)
        if item.document_type != document_type:
            raise ValidationFailed("this paper is of another type", errors={"wallet_item_id": [
                f"This paper is a {item.document_type}, not a {document_type}."]})
        if expired(item):
            raise ValidationFailed("this paper has expired", errors={"wallet_item_id": [
                f"Expired on {item.expires_at:%Y-%m-%d}."]})
        for existing in dossier.attachments:
            if existing.sha256 == item.sha256 and existing.document_type == document_type:
                return existing, False
        attachment = Attachment(dossier_id=dossier.id, kind=AttachmentKind.document, document_type=document_type,
                                filename=item.filename, sha256=item.sha256, uploaded_by=actor.user_id,
                                created_at=clock.now(), wallet_item_id=item.id)
        dossier.attachments.append(attachment)
        touch(dossier)
        session.flush()
        return attachment, True


def matches(session: Session, actor: Actor, dossier: Dossier, *, per_type: int = 10) -> dict[str, list[WalletItem]]:
    """For each document type the dossier's procedure asks for, the caller's unexpired wallet items of
    that type, newest first (an empty list when there are none)."""
    types = list(session.scalars(select(RequiredDocument.type).where(RequiredDocument.procedure_id
                                                                     == dossier.procedure_id)
                                 .order_by(RequiredDocument.position)))
    found: dict[str, list[WalletItem]] = {t: [] for t in types}
    if not types:
        return found
    items = session.scalars(select(WalletItem).where(
        WalletItem.owner_id == actor.user_id, WalletItem.document_type.in_(types),
        or_(WalletItem.expires_at.is_(None), WalletItem.expires_at >= today()))
        .order_by(WalletItem.created_at.desc(), WalletItem.id.desc()).limit(per_type * len(types)))
    for item in items:
        if len(found[item.document_type]) < per_type:
            found[item.document_type].append(item)
    return found


def prefilled(session: Session, owner_id: str, procedure: Procedure, form: dict[str, Any]) -> dict[str, Any]:
    """`form` completed with the person's answers in their latest dossiers (submitted ones, any procedure),
    field by field for the fields this procedure's form has; a value is taken only where it fits the
    field's schema, and what `form` says itself always wins."""
    properties: dict[str, Any] = (procedure.form_schema or {}).get("properties") or {}
    wanted = [name for name in properties if name not in form]
    if not wanted:
        return dict(form)
    earlier = session.scalars(select(Dossier.form).where(Dossier.applicant_id == owner_id,
                                                         Dossier.status != DossierStatus.draft)
                              .order_by(Dossier.created_at.desc(), Dossier.id.desc()).limit(PREFILL_DEPTH))
    result = dict(form)
    for previous in earlier:
        for name in [n for n in wanted if n not in result and isinstance(previous, dict) and n in previous]:
            schema = properties[name]
            if not isinstance(schema, dict) or jsonschema.Draft202012Validator(schema).is_valid(previous[name]):
                result[name] = previous[name]
        if all(n in result for n in wanted):
            break
    return result
