"""Sharing a wallet item: a single-use link valid at most five minutes. Only the token's hash is kept;
the download marks the share used (when, from which address) in the same statement that checks it,
so two requests racing with one link get one file and one 404. Revoking is deleting."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.actors import Actor
from services.clock import clock
from services.db import transaction
from services.errors import NotFound
from services.models import WalletItem, WalletShare
from services.pagination import Page, keyset_page
from services.wallet.items import get_item

MAX_TTL = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, actor: Actor, item_id: str, *,
           ttl: timedelta = MAX_TTL) -> tuple[WalletShare, str]:
    """A new share of the caller's item and its token (shown this once)."""
    with transaction(session):
        item = get_item(session, actor, item_id)
        token = secrets.token_urlsafe(32)  # 256 bits
        now = clock.now()
        share = WalletShare(item_id=item.id, token_hash=token_hash(token), created_at=now,
                            expires_at=now + min(ttl, MAX_TTL))
        session.add(share)
        session.flush()
        return share, token


def page(session: Session, actor: Actor, item_id: str, *, after: Sequence[Any] | None = None,
         limit: int = 20) -> Page[WalletShare]:
    """Every share of the caller's item, newest first, with when and from where it was used."""
    get_item(session, actor, item_id)
    stmt = select(WalletShare).where(WalletShare.item_id == item_id)
    return keyset_page(session, stmt, [WalletShare.created_at, WalletShare.id],
                       lambda s: (s.created_at.isoformat(), s.id), after=after, limit=limit, descending=True)


def revoke(session: Session, actor: Actor, item_id: str, share_id: str) -> None:
    with transaction(session):
        get_item(session, actor, item_id)
        share = session.scalar(select(WalletShare).where(WalletShare.id == share_id, WalletShare.item_id == item_id))
        if share is None:
            raise NotFound("share not found")
        session.delete(share)


def redeem(session: Session, token: str, *, origin: str) -> WalletItem:
    """The shared item, once: a used, expired, revoked or unknown token is 404 alike."""
    if not 20 <= len(token) <= 100:
        raise NotFound("no such share")
    with transaction(session):
        now = clock.now()
        item_id = session.execute(
            update(WalletShare)
            .where(WalletShare.token_hash == token_hash(token), WalletShare.used_at.is_(None),
                   WalletShare.expires_at > now)
            .values(used_at=now, used_from=origin[:64])
            .returning(WalletShare.item_id)).scalar()
        if item_id is None:
            raise NotFound("no such share")
        item = session.get(WalletItem, item_id)
        if item is None:  # pragma: no cover (the share goes with its item)
            raise NotFound("no such share")
        return item
