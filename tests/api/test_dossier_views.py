"""The citizen's own dossier from a kept rendering (api/dossier_views.py): after every kind of change its
answer is the answer a fresh load and rendering give, and a repeated read is one glimpse."""

from __future__ import annotations

import io
from typing import Any

from services.clock import clock
from services.people.identity import grant_staff
from tests.api.test_payments import gateway_result, ipn, pay
from tests.api.test_statement_budget import counted
from tests.dossier_helpers import FEE, SIMPLE, act, official_of, submitted
from tests.helpers import ADMIN, CITIZEN, OTHER, bearer, sign_in


def read(client: Any, app: Any, dossier_id: str, tokens: dict[str, Any], **headers: str) -> Any:
    """The answer as served (kept rendering when there is one), checked against a fresh rendering."""
    url = f"/api/v1/dossiers/{dossier_id}"
    served = client.get(url, headers={**bearer(tokens), **headers})
    app.extensions["smartqn"].dossier_views.clear()
    fresh = client.get(url, headers={**bearer(tokens), **headers})
    assert served.status_code == fresh.status_code == 200
    assert served.json == fresh.json and served.headers["ETag"] == fresh.headers["ETag"]
    return served


def test_every_change_reaches_the_owners_next_read(client, session, app):
    citizen, official = sign_in(client), official_of(client, session, FEE["agency"])
    dossier = submitted(client, citizen, FEE)
    first = read(client, app, dossier["id"], citizen)
    with counted(session) as statements:
        again = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen))
    assert again.json == first.json and len(statements) <= 3, statements  # BEGIN, the glimpse, COMMIT

    assert act(client, official, dossier["id"], "receive").status_code == 200  # a move: the version
    assert read(client, app, dossier["id"], citizen).json["status"] == "received"

    payment = pay(client, citizen, dossier["id"]).json  # a pending payment: no move
    assert read(client, app, dossier["id"], citizen).json["payment_status"] == "pending"
    clock.advance(minutes=16)  # it expires on the clock alone
    citizen, official = sign_in(client), official_of(client, session, FEE["agency"])
    assert read(client, app, dossier["id"], citizen).json["payment_status"] == "unpaid"
    assert ipn(client, gateway_result(app.extensions["smartqn"].runtime.settings, payment))["RspCode"] == "00"
    paid = read(client, app, dossier["id"], citizen).json
    assert paid["payment_status"] == "paid" and "pay" not in paid["allowed_actions"]

    for action in ("start_processing", "approve"):
        assert act(client, official, dossier["id"], action).status_code == 200
    upload = client.post(f"/api/v1/admin/dossiers/{dossier['id']}/results", headers=bearer(official),
                         data={"file": (io.BytesIO(b"%PDF-1.7\nresult"), "ket-qua.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201  # a paper without a move
    assert [a["filename"] for a in read(client, app, dossier["id"], citizen).json["result_attachments"]] == \
        ["ket-qua.pdf"]

    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    renamed = client.patch(f"/api/v1/admin/procedures/{FEE['code']}", headers=bearer(admin),
                           json={"name": "Cấp phiếu lý lịch tư pháp (đổi tên)"})
    assert renamed.status_code == 200, renamed.json  # the catalog: the procedure's name
    assert read(client, app, dossier["id"], citizen).json["procedure_name"] == "Cấp phiếu lý lịch tư pháp (đổi tên)"
    english = read(client, app, dossier["id"], citizen, **{"Accept-Language": "en"}).json
    assert english["status_label"] != paid["status_label"]


def test_overdue_comes_with_the_clock(client, session, app):
    citizen = sign_in(client)
    dossier = submitted(client, citizen)
    official = official_of(client, session)
    received = act(client, official, dossier["id"], "receive").json
    assert read(client, app, dossier["id"], citizen).json["overdue"] is False
    clock.advance(days=60)
    citizen = sign_in(client)
    late = read(client, app, dossier["id"], citizen).json
    assert late["overdue"] is True and late["due_at"] == received["due_at"]


def test_others_get_404_and_officials_their_own_answer(client, session, app):
    citizen, other = sign_in(client), sign_in(client, OTHER)
    dossier = submitted(client, citizen)
    official = official_of(client, session)
    read(client, app, dossier["id"], citizen)  # kept for the owner
    assert client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(other)).status_code == 404
    assert client.get("/api/v1/dossiers/nope", headers=bearer(citizen)).status_code == 404
    seen = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(official))
    owner = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen))
    assert seen.status_code == 200 and seen.json["allowed_actions"] != owner.json["allowed_actions"]
    assert SIMPLE["code"] == owner.json["procedure_code"]


def read_page(client: Any, app: Any, url: str, tokens: dict[str, Any]) -> dict[str, Any]:
    served = client.get(url, headers=bearer(tokens))
    app.extensions["smartqn"].dossier_views.clear()
    app.extensions["smartqn"].queue_pages.clear()  # a queue page the edge kept whole
    fresh = client.get(url, headers=bearer(tokens))
    assert served.status_code == fresh.status_code == 200 and served.json == fresh.json
    return served.json


def test_the_queue_and_the_own_list_follow_every_change(client, session, app):
    from sqlalchemy import update

    from services.models import User
    from tests.dossier_helpers import PNG, draft, upload

    citizen = sign_in(client)
    official = official_of(client, session)
    first, second = submitted(client, citizen), submitted(client, citizen)
    pending = draft(client, citizen)
    queue = read_page(client, app, "/api/v1/admin/dossiers?limit=1", official)
    assert [d["id"] for d in queue["items"]] == [first["id"]] and queue["next_cursor"]
    rest = read_page(client, app, f"/api/v1/admin/dossiers?limit=5&cursor={queue['next_cursor']}", official)
    assert [d["id"] for d in rest["items"]] == [second["id"]] and rest["next_cursor"] is None

    assert act(client, official, first["id"], "receive").status_code == 200
    statuses = {d["id"]: d["status"] for d in read_page(client, app, "/api/v1/admin/dossiers", official)["items"]}
    assert statuses == {first["id"]: "received", second["id"]: "submitted"}
    session.execute(update(User).where(User.cccd == CITIZEN["cccd"])
                    .values(full_name="Nguyễn Văn Ân"))  # the person's identity as the officials see it
    names = {d["applicant"]["full_name"] for d in read_page(client, app, "/api/v1/admin/dossiers", official)["items"]}
    assert names == {"Nguyễn Văn Ân"}

    mine = read_page(client, app, "/api/v1/dossiers", citizen)
    assert [d["id"] for d in mine["items"]] == [pending["id"], second["id"], first["id"]]
    assert upload(client, citizen, pending["id"], SIMPLE["documents"][0], PNG, "lan-2.png").status_code == 201
    papers = read_page(client, app, "/api/v1/dossiers", citizen)["items"][0]["attachments"]
    assert sorted(a["filename"] for a in papers) == ["lan-2.png", "to-khai.pdf"]
