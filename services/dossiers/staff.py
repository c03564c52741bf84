"""Officials move dossiers of their agency (admins, of any agency), guarded by the dossier's version."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.actors import Actor
from services.calendar import WorkingCalendar
from services.db import transaction
from services.dossiers.access import get_visible
from services.dossiers.documents import Press
from services.dossiers.lifecycle import OFFICIAL_ACTIONS, apply
from services.errors import InvalidTransition, PreconditionFailed, PreconditionRequired
from services.models import Dossier


def act(session: Session, actor: Actor, dossier_id: str, action: str, *, expected_version: int | None,
        calendar: WorkingCalendar, press: Press | None = None, **inputs: Any) -> Dossier:
    """One official action on the version the official last read (None: they did not say which)."""
    with transaction(session):
        # The row lock makes a second official acting at the same moment wait, then see a new version.
        dossier = get_visible(session, actor, dossier_id, lock=True, staff=True)
        if expected_version is None:
            raise PreconditionRequired("send If-Match with the dossier's ETag")
        if expected_version != dossier.version:
            raise PreconditionFailed("the dossier changed since you read it")
        if action not in OFFICIAL_ACTIONS:
            raise InvalidTransition(f"{action} is not an official's action")
        apply(session, dossier, action, actor, calendar=calendar, press=press, **inputs)
        return dossier
