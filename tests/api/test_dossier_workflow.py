"""The state machine, driven by its table: every allowed move works, every other answers 409."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.db import transaction
from services.dossiers.lifecycle import DOSSIER, OFFICIAL_ACTIONS
from services.events import log as events
from services.models import AuditEntry, Dossier, Notification, TimelineEntry
from services.people.identity import grant_staff
from tests.dossier_helpers import SIMPLE, act, official_of, submitted
from tests.helpers import ADMIN, OTHER, bearer, sign_in
from vocab import DossierStatus

INPUTS = {"note": "Thiếu bản sao giấy khai sinh", "reason": "Không thuộc thẩm quyền",
          "new_due_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
          "agency_code": "000.20.17.H15",  # another commune: competent for SIMPLE's commune procedure
          "amount_vnd": 8000, "method": "cash"}  # a desk payment (of a fee set below: SIMPLE is free)


def put_in(session, dossier_id: str, status: str) -> None:
    """Test setup: place a submitted dossier in a status (with what that status implies)."""
    dossier = session.get(Dossier, dossier_id)
    now = datetime.now(UTC)
    dossier.status = status
    if status in ("received", "in_progress", "approved"):
        dossier.received_at, dossier.due_at = now - timedelta(days=10), now - timedelta(days=1)  # overdue
    if status == "supplement_requested":
        dossier.resume_status, dossier.remaining_days = "received", 2
    session.commit()


@pytest.fixture
def people(client, session):
    return sign_in(client), official_of(client, session)


@pytest.mark.parametrize("status", [s for s in DossierStatus if s != "draft"])
@pytest.mark.parametrize("action", OFFICIAL_ACTIONS)
def test_every_official_action_in_every_status(client, session, people, status, action):
    citizen, official = people
    dossier = submitted(client, citizen)
    if action == "record_desk_payment":
        session.get(Dossier, dossier["id"]).fee_vnd = 8000
    put_in(session, dossier["id"], status)
    transition = DOSSIER.by_action[action]
    body = {name: INPUTS[name] for name in INPUTS if name in transition.inputs}
    response = act(client, official, dossier["id"], action, **body)
    if status in transition.sources:
        assert response.status_code == 200, response.json
        assert response.json["timeline"][-1]["action"] == action
    else:
        assert response.status_code == 409, response.json
        assert response.json["code"] == "invalid_transition"


def test_unknown_and_citizen_actions_are_409_for_officials(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    for action in ("fly", "withdraw", "submit", "rate"):
        response = act(client, official, dossier["id"], action)
        assert response.status_code == 409 and response.json["code"] == "invalid_transition"


def test_required_inputs_are_422(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    for action, field in (("request_supplement", "note"), ("reject", "reason")):
        response = act(client, official, dossier["id"], action)
        assert response.status_code == 422 and field in response.json["errors"]


def test_allowed_actions_follow_the_table(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    staff_view = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).json
    assert sorted(staff_view["allowed_actions"]) == ["receive", "reject", "request_supplement"]
    own_view = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert own_view["allowed_actions"] == ["withdraw"]


def test_the_whole_lifecycle_with_timeline_and_result(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    for action in ("receive", "start_processing", "approve"):
        assert act(client, official, dossier["id"], action).status_code == 200
    result = client.post(f"/api/v1/admin/dossiers/{dossier['id']}/results", headers=bearer(official),
                         data={"file": (io.BytesIO(b"%PDF-1.7\nresult"), "ket-qua.pdf")},
                         content_type="multipart/form-data")
    assert result.status_code == 201
    done = act(client, official, dossier["id"], "return_result")
    assert done.status_code == 200 and done.json["status"] == "completed" and done.json["completed_at"]
    mine = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert [e["status"] for e in mine["timeline"]] == ["submitted", "received", "in_progress", "approved",
                                                       "completed"]
    assert [e["actor_role"] for e in mine["timeline"]] == ["citizen"] + ["official"] * 4
    assert mine["result_attachments"][0]["filename"] == "ket-qua.pdf" and mine["allowed_actions"] == ["rate"]
    downloaded = client.get(f"/api/v1/dossiers/{dossier['id']}/attachments/{mine['result_attachments'][0]['id']}",
                            headers=bearer(citizen))
    assert downloaded.status_code == 200 and downloaded.data.startswith(b"%PDF")


def test_if_match_is_required_and_must_be_current(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    url = f"/api/v1/admin/dossiers/{dossier['id']}/actions"
    missing = client.post(url, headers=bearer(official), json={"action": "receive"})
    assert missing.status_code == 428 and missing.json["code"] == "precondition_required"
    etag = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).headers["ETag"]
    fresh = client.post(url, headers={**bearer(official), "If-Match": etag}, json={"action": "receive"})
    assert fresh.status_code == 200
    stale = client.post(url, headers={**bearer(official), "If-Match": etag}, json={"action": "start_processing"})
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    garbage = client.post(url, headers={**bearer(official), "If-Match": '"nonsense"'}, json={"action": "receive"})
    assert garbage.status_code == 412


def test_return_result_waits_for_the_fee(client, session):
    from tests.dossier_helpers import FEE

    citizen = sign_in(client)
    official = official_of(client, session, agency=FEE["agency"])
    dossier = submitted(client, citizen, FEE)
    assert dossier["fee_vnd"] == 200_000 and dossier["payment_status"] == "unpaid"
    for action in ("receive", "start_processing", "approve"):
        act(client, official, dossier["id"], action)
    view = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).json
    assert "return_result" not in view["allowed_actions"]
    response = act(client, official, dossier["id"], "return_result")
    assert response.status_code == 402 and response.json["code"] == "payment_required"


def test_apology_records_a_new_date_and_keeps_the_due_date(client, session, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    put_in(session, dossier["id"], "in_progress")
    before = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).json
    assert before["overdue"] is True and "apologize" in before["allowed_actions"]
    too_early = act(client, official, dossier["id"], "apologize", reason="Chờ xác minh",
                    new_due_at=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    assert too_early.status_code == 422
    response = act(client, official, dossier["id"], "apologize", reason="Chờ xác minh liên ngành",
                   new_due_at=INPUTS["new_due_at"])
    assert response.status_code == 200
    assert response.json["due_at"] == before["due_at"] and response.json["appointment_at"]
    assert response.json["timeline"][-1]["reason"] == "Chờ xác minh liên ngành"
    assert response.json["overdue"] is True  # still late: an apology never makes it on time


def test_not_overdue_dossiers_need_no_apology(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    response = act(client, official, dossier["id"], "apologize", reason="x", new_due_at=INPUTS["new_due_at"])
    assert response.status_code == 409


def test_supplement_stops_the_clock_and_resubmit_resumes_it(client, session):
    from services.clock import clock
    from tests.helpers import OFFICIAL

    def at(*moment: int) -> tuple[dict, dict]:
        clock.freeze(datetime(*moment, tzinfo=UTC))
        return sign_in(client), sign_in(client, OFFICIAL)  # fresh tokens at the new time

    citizen, official = at(2026, 12, 7, 2, 0)  # Monday 09:00 local
    official = official_of(client, session)
    dossier = submitted(client, citizen)  # 1.004873: 3 working days
    received = act(client, official, dossier["id"], "receive").json
    assert received["due_at"] == "2026-12-10T10:00:00+00:00"  # Thursday 17:00 local
    citizen, official = at(2026, 12, 8, 3, 0)  # Tuesday: Wednesday and Thursday are left
    paused = act(client, official, dossier["id"], "request_supplement", note="Bổ sung tờ khai có chữ ký").json
    assert paused["status"] == "supplement_requested" and paused["due_at"] is None and paused["overdue"] is False
    citizen, official = at(2026, 12, 14, 3, 0)  # the next Monday
    client.patch(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen), json={"form": {"purpose": "Kết hôn"}})
    resumed = client.post(f"/api/v1/dossiers/{dossier['id']}/resubmit", headers=bearer(citizen)).json
    assert resumed["status"] == "received" and resumed["due_at"] == "2026-12-16T10:00:00+00:00"  # Wednesday
    assert [e["action"] for e in resumed["timeline"]] == ["submit", "receive", "request_supplement", "resubmit"]
    citizen, official = at(2026, 12, 16, 3, 0)  # Wednesday: the result is returned
    for action in ("start_processing", "approve", "return_result"):
        assert act(client, official, dossier["id"], action).status_code == 200
    # Working days Tue 8 … Wed 16 are 7; the pause took Wed 9, Thu 10, Fri 11 and Mon 14 out: 3 for statistics.
    stored = session.get(Dossier, dossier["id"])
    session.refresh(stored)
    assert (stored.paused_days, stored.processing_days) == (4, 3)


def test_two_officials_at_once_exactly_one_wins(client, session, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    etag = client.get(f"/api/v1/admin/dossiers/{dossier['id']}", headers=bearer(official)).headers["ETag"]
    url = f"/api/v1/admin/dossiers/{dossier['id']}/actions"
    first = client.post(url, headers={**bearer(official), "If-Match": etag}, json={"action": "receive"})
    second = client.post(url, headers={**bearer(official), "If-Match": etag},
                         json={"action": "reject", "reason": "trùng"})
    assert sorted([first.status_code, second.status_code]) == [200, 412]


def test_officials_queue_is_their_agency_oldest_due_first(client, session, people):
    citizen, official = people
    ids = [submitted(client, citizen)["id"] for _ in range(3)]
    act(client, official, ids[2], "receive")
    elsewhere = official_of(client, session, agency="000.00.19.H15", person=OTHER)
    assert client.get("/api/v1/admin/dossiers", headers=bearer(elsewhere)).json["items"] == []
    page = client.get("/api/v1/admin/dossiers?limit=2", headers=bearer(official)).json
    rest = client.get(f"/api/v1/admin/dossiers?limit=2&cursor={page['next_cursor']}", headers=bearer(official)).json
    order = [d["id"] for d in page["items"] + rest["items"]]
    assert order == [ids[0], ids[1], ids[2]]  # awaiting receipt since submission, then the due one
    assert page["items"][0]["applicant"]["cccd"] == "049085001234"
    received = client.get("/api/v1/admin/dossiers?status=received", headers=bearer(official)).json["items"]
    assert [d["id"] for d in received] == [ids[2]]
    code = client.get("/api/v1/admin/dossiers", headers=bearer(official),
                      query_string={"q": page["items"][0]["code"]}).json["items"]
    assert [d["id"] for d in code] == [ids[0]]
    by_name = client.get("/api/v1/admin/dossiers", headers=bearer(official), query_string={"q": "Văn An"}).json
    assert len(by_name["items"]) == 3
    assert client.get("/api/v1/admin/dossiers?overdue=true", headers=bearer(official)).json["items"] == []

    def found(**query: str) -> list[str]:
        response = client.get("/api/v1/admin/dossiers", headers=bearer(official), query_string=query)
        assert response.status_code == 200, response.json
        return [d["id"] for d in response.json["items"]]

    assert found(q="049085001234") == ids and found(q="văn AN") == ids  # a CCCD; a name in other case
    assert found(q="%") == found(q="_") == found(q="049085001235") == []  # wildcards taken literally
    assert found(overdue="false") == ids and found(status="received", overdue="false") == [ids[2]]
    assert found(due_before="2000-01-01T00:00:00+00:00") == []
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    for query in ({"agency_code": SIMPLE["agency"]}, {}):  # one agency an admin names; every agency
        listed = client.get("/api/v1/admin/dossiers", headers=bearer(admin), query_string=query).json["items"]
        # In their order among whatever else the database holds (the browser tests commit dossiers).
        assert [d["id"] for d in listed if d["id"] in ids] == ids
    assert client.get("/api/v1/admin/dossiers?cursor=WyJ4IiwieSJd", headers=bearer(official)).status_code == 422
    assert client.get("/api/v1/admin/dossiers?agency_code=000.00.19.H15",
                      headers=bearer(official)).status_code == 404


def test_citizens_cannot_reach_the_queue(client, people):
    citizen, _ = people
    assert client.get("/api/v1/admin/dossiers", headers=bearer(citizen)).status_code == 403


def test_received_dossier_shows_in_lookup_with_due_date(client, people):
    citizen, official = people
    dossier = submitted(client, citizen)
    received = act(client, official, dossier["id"], "receive").json
    lookup = client.get(f"/api/v1/lookup/{dossier['code']}").json
    assert lookup["status"] == "received" and lookup["due_at"] == received["due_at"]
    assert SIMPLE["code"]  # the lookup carries the procedure name only, never the applicant
    assert "049085001234" not in str(lookup)


def test_a_move_whose_event_cannot_be_written_changes_nothing(client, session):
    """The event is written with the notices (one statement on PostgreSQL, through the ORM elsewhere): its
    unique (resource, sequence) still turns a second event with one number into a failed move, and the
    whole move is rolled back: status, timeline, audit row, notifications."""
    citizen, official = sign_in(client), official_of(client, session)
    dossier = submitted(client, citizen)
    with transaction(session):  # the number the next move's event would take, taken already
        taken = events.record(session, "dossier.status_changed", events.DOSSIER, dossier["id"], {}, sequence=2)

    def written():
        return [session.scalar(select(func.count()).select_from(model).where(where)) for model, where in (
            (TimelineEntry, TimelineEntry.dossier_id == dossier["id"]),
            (Notification, Notification.dossier_id == dossier["id"]),
            (AuditEntry, AuditEntry.target_id == dossier["code"]))]

    before = written()
    response = act(client, official, dossier["id"], "request_supplement", note="Thiếu bản sao giấy khai sinh")
    assert response.status_code == 500 and response.json["code"] == "internal_error"
    assert written() == before and session.get(Dossier, dossier["id"]).status == DossierStatus.submitted
    with transaction(session):
        session.delete(taken)
    assert act(client, official, dossier["id"], "request_supplement", note="Thiếu").status_code == 200
    assert [a - b for a, b in zip(written(), before, strict=True)] == [1, 1, 1]
