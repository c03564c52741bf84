"""Officials move dossiers of their agency (admins, of any agency), guarded by the dossier's version."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from services.calendar import WorkingCalendar
from services.db import transaction
from services.dossier_actions import Actor, apply
from services.dossiers import get_visible
from services.errors import InvalidTransition, PreconditionFailed, PreconditionRequired
from services.models import Dossier
from services.workflow import OFFICIAL_ACTIONS

_VERSION_TAG = re.compile(r'^(?:W/)?"v(\d{1,9})"$')


def etag(dossier: Dossier) -> str:
    return f'"v{dossier.version}"'


def act(session: Session, dossier_id: str, actor: Actor, action: str, *, if_match: str | None,
        calendar: WorkingCalendar, note: str | None = None, reason: str | None = None,
        new_due_at: datetime | None = None) -> Dossier:
    """One official action; `if_match` is the ETag the official last read (428 missing, 412 stale)."""
    with transaction(session):
        # The row lock makes a second official acting at the same moment wait, then see a new version.
        dossier = get_visible(session, dossier_id, actor, lock=True)
        if not if_match or not if_match.strip():
            raise PreconditionRequired("send If-Match with the dossier's ETag")
        match = _VERSION_TAG.match(if_match.strip())
        if match is None or int(match.group(1)) != dossier.version:
            raise PreconditionFailed("the dossier changed since you read it")
        if dossier.status == "draft":
            raise InvalidTransition("drafts are the applicant's")
        if action not in OFFICIAL_ACTIONS:
            raise InvalidTransition(f"{action} is not an official's action")
        apply(session, dossier, action, actor, calendar=calendar, note=note, reason=reason, new_due_at=new_due_at)
        return dossier
