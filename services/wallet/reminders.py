"""Expiry reminders: an item's owner hears 10 days before it expires and on the day, once each, even
with several workers running the check (a unique row per item, event and expiry date, as the
deadline alerts do)."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from services.calendar import TZ
from services.clock import clock
from services.db import insert_new, transaction
from services.models import WalletAlert, WalletItem
from services.notices.inbox import notify

AHEAD = timedelta(days=10)
# A reminder missed while no worker ran is still sent within this many days of its date.
CATCH_UP = timedelta(days=2)
# Nobody is woken by a paper: reminders wait for the morning (local time).
MORNING = time(7, 0)


def check_expiry(session: Session, *, limit: int = 1000) -> int:
    """The periodic check; returns the reminders written."""
    now = clock.now()
    local = now.astimezone(TZ)
    if local.time() < MORNING:
        return 0
    today = local.date()
    written = 0
    for event, window in (
        # 10 days before (or, for a paper filed with less left, as soon as it is within 10 days).
        ("expiring", and_(WalletItem.expires_at > today, WalletItem.expires_at <= today + AHEAD)),
        ("expired", and_(WalletItem.expires_at <= today, WalletItem.expires_at >= today - CATCH_UP)),
    ):
        with transaction(session):
            told = exists().where(WalletAlert.item_id == WalletItem.id, WalletAlert.event == event,
                                  WalletAlert.expires_at == WalletItem.expires_at)
            due = session.scalars(select(WalletItem).where(window, ~told).order_by(WalletItem.expires_at)
                                  .limit(limit).with_for_update(skip_locked=True, of=WalletItem)).all()
            for item in due:
                # Another worker may have told this one a moment ago: the unique row decides.
                if insert_new(session, WalletAlert, {"item_id": item.id, "event": event,
                                                     "expires_at": item.expires_at, "sent_at": now},
                              key=["item_id", "event", "expires_at"]) is None:
                    continue
                assert item.expires_at is not None
                notify(session, [item.owner_id], f"wallet.{event}",
                       {"title": item.title, "document_type": item.document_type,
                        "expires_date": f"{item.expires_at:%d/%m/%Y}",
                        "days_left": (item.expires_at - today).days, "wallet_item_id": item.id})
                written += 1
    return written
