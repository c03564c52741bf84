"""services.db helpers on both databases: a unique-key race is an answer, not an IntegrityError."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.db import insert_new
from services.models import DeadlineAlert
from tests.dossier_helpers import submitted
from tests.helpers import sign_in


def test_insert_new_inserts_once_and_then_answers_none(client, session):
    # Two workers telling the same dossier at once come down to this: the second insert must neither
    # raise nor roll back the batch it is part of (issue 17, item 8).
    dossier = submitted(client, sign_in(client))
    due = datetime(2026, 12, 10, 10, tzinfo=UTC)
    row = {"dossier_id": dossier["id"], "event": "overdue", "due_at": due, "sent_at": due}
    key = ["dossier_id", "event", "due_at"]
    assert insert_new(session, DeadlineAlert, row, key=key) == dossier["id"]
    assert insert_new(session, DeadlineAlert, row, key=key) is None
    assert session.scalar(select(func.count()).select_from(DeadlineAlert)
                          .where(DeadlineAlert.dossier_id == dossier["id"])) == 1
