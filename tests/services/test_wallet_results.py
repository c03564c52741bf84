"""A dossier's result files enter its applicant's wallet in the transaction of the move that completes it:
checked over every final transition of the dossier table, not over a list written by hand."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from api.context import state_of
from services.actors import Actor
from services.clock import clock
from services.db import transaction
from services.dossiers.access import find
from services.dossiers.documents import Press
from services.dossiers.lifecycle import apply
from services.dossiers.table import CITIZEN, FINAL, TABLE
from services.models import Attachment, StoredFile, WalletItem
from tests.dossier_helpers import FEE, act, official_of, submitted
from tests.helpers import bearer, sign_in
from tests.wallet_helpers import paper, to_approved
from vocab import AttachmentKind, DossierStatus

FINAL_MOVES = [t for t in TABLE if t.target in FINAL]
PRODUCES_RESULT = {DossierStatus.completed}


def test_the_table_has_final_moves_and_one_that_completes():
    assert FINAL_MOVES and any(t.target in PRODUCES_RESULT for t in FINAL_MOVES)


@pytest.mark.parametrize("move", FINAL_MOVES, ids=lambda t: t.action)
def test_every_final_move_files_the_results_it_produces(app, client, session, move):
    tokens = sign_in(client)
    dossier_id = submitted(client, tokens)["id"]
    with transaction(session):
        dossier = find(session, dossier_id)
        assert dossier is not None
        # From the latest status the move leaves (the one where results exist), with two result files.
        order = list(DossierStatus)
        dossier.status = max(move.sources, key=order.index)
        dossier.received_at = dossier.received_at or clock.now()
        for name in ("a", "b"):
            sha = hashlib.sha256(f"{move.action} {name}".encode()).hexdigest()
            session.add(StoredFile(sha256=sha, size=10, content_type="application/pdf", created_at=clock.now()))
            session.flush()
            dossier.attachments.append(Attachment(dossier_id=dossier.id, kind=AttachmentKind.result,
                                                  document_type="ket_qua", filename=f"{name}.pdf", sha256=sha,
                                                  uploaded_by=dossier.applicant_id, created_at=clock.now()))
        session.flush()
        role = "citizen" if move.actor == CITIZEN else "admin"
        actor = Actor(user_id=dossier.applicant_id, role=role)
        inputs = {k: v for k, v in {"note": "ghi chú", "reason": "lý do"}.items() if k in move.inputs}
        runtime = state_of(app).runtime
        apply(session, dossier, move.action, actor, calendar=runtime.calendar,
              press=Press(runtime.storage, runtime.settings.base_url), **inputs)
        assert dossier.status == move.target
        applicant, code = dossier.applicant_id, dossier.code
    filed = session.scalars(select(WalletItem).where(WalletItem.owner_id == applicant)).all()
    if move.target in PRODUCES_RESULT:
        assert sorted(i.filename for i in filed) == ["a.pdf", "b.pdf"]
        assert {(i.source, i.dossier_code, i.document_type) for i in filed} == {("result", code, "ket_qua")}
    else:
        assert filed == []


def test_results_reach_the_wallet_through_the_api_and_are_not_copied(client, session):
    citizen = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    data = paper("result")
    to_approved(client, official, dossier["id"], data)
    files = session.scalar(select(func.count()).select_from(StoredFile))
    assert act(client, official, dossier["id"], "return_result").status_code == 200
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files
    wallet = client.get("/api/v1/me/wallet", headers=bearer(citizen)).json["items"]
    assert [(i["source"], i["dossier_code"], i["title"]) for i in wallet] == [
        ("result", dossier["code"], dossier["procedure_name"])]
    got = client.get(f"/api/v1/me/wallet/{wallet[0]['id']}/file", headers=bearer(citizen))
    assert got.data == data


def test_results_filed_by_a_move_that_then_fails_roll_back_with_it(client, session):
    """file_results runs inside return_result's effect; a fault after it in the same move (here the
    applicant's notice: the statement that inserts into notifications fails at the database; on PostgreSQL
    that is one statement with the move's event, audit row and push jobs) takes the filed items along."""
    citizen = sign_in(client)
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    to_approved(client, official, dossier["id"], paper("fails after filing"))
    files = session.scalar(select(func.count()).select_from(StoredFile))
    seen: list[str] = []
    connection = session.get_bind()

    def writes_notices(statement: str) -> bool:
        return "INSERT INTO NOTIFICATIONS" in statement.upper()

    def before(_conn, _cursor, statement, *_args):
        seen.append(statement)
        if writes_notices(statement):
            raise OperationalError(statement, {}, Exception("disk full"))

    event.listen(connection, "before_cursor_execute", before)
    try:
        response = act(client, official, dossier["id"], "return_result")
    finally:
        event.remove(connection, "before_cursor_execute", before)
    assert response.status_code >= 500
    # The wallet item was written before the notice failed (the order this test is about) …
    wallet_insert = next(i for i, s in enumerate(seen) if s.lstrip().upper().startswith("INSERT INTO WALLET_ITEMS"))
    notice_insert = next(i for i, s in enumerate(seen) if writes_notices(s))
    assert wallet_insert < notice_insert
    # … and went with the move: nothing in the wallet, the dossier still approved, no bytes gained or lost.
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(WalletItem)) == 0
    assert find(session, dossier["id"]).status == DossierStatus.approved
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files
    # The same move, made again without the fault, files the result once.
    assert act(client, official, dossier["id"], "return_result").status_code == 200
    assert [i["source"] for i in client.get("/api/v1/me/wallet", headers=bearer(citizen)).json["items"]] == ["result"]


def test_a_refused_return_files_nothing(client, session):
    """return_result on an unpaid fee is 402: its transaction, wallet included, rolls back."""
    citizen = sign_in(client)
    official = official_of(client, session, agency=FEE["agency"])
    dossier = submitted(client, citizen, FEE)
    to_approved(client, official, dossier["id"], paper("unpaid"))
    response = act(client, official, dossier["id"], "return_result")
    assert response.status_code == 402
    assert client.get("/api/v1/me/wallet", headers=bearer(citizen)).json["items"] == []


def test_the_desk_files_a_scan_with_file_item_and_no_bytes_copied(client, session):
    """What the desk calls, in its own transaction, for a paper it scanned (services.wallet.items.file_item)."""
    from datetime import date

    from services.errors import ValidationFailed
    from services.wallet.items import file_item
    from vocab import WalletSource

    tokens = sign_in(client)
    dossier = submitted(client, tokens)
    sha = dossier["attachments"][0]["sha256"]
    owner = find(session, dossier["id"]).applicant_id
    files = session.scalar(select(func.count()).select_from(StoredFile))
    with transaction(session):
        item = file_item(session, owner, sha, document_type="to_khai_tthn", source=WalletSource.desk_scan,
                         title="Bản quét tại quầy", filename="scan.pdf", issued_at=date(2026, 1, 2),
                         dossier_id=dossier["id"])
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files
    listed = client.get("/api/v1/me/wallet", headers=bearer(tokens)).json["items"]
    assert [(i["id"], i["source"], i["dossier_code"], i["sha256"]) for i in listed] == [
        (item.id, "desk_scan", dossier["code"], sha)]
    with pytest.raises(ValidationFailed), transaction(session):
        file_item(session, owner, sha, document_type="to_khai_tthn", source=WalletSource.desk_scan, title="x",
                  filename="x.pdf", issued_at=date(2026, 1, 2), expires_at=date(2026, 1, 1))
