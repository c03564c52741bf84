"""Devices, the inbox, who hears what, deadline alerts and announcements (the HTTP side and the rows)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.context import state_of
from services.clock import clock
from services.models import AuditEntry, Dossier, Notification, PushJob
from services.notices import alerts
from services.people.identity import grant_staff
from tests.api.test_payments import gateway_result, ipn, pay
from tests.dossier_helpers import FEE, SIMPLE, act, draft, official_of, submitted
from tests.helpers import ADMIN, CITIZEN, OFFICIAL, OTHER, bearer, sign_in


def register(client, tokens, token=None, **fields):
    body = {"token": token or f"tok-{uuid.uuid4().hex}", "platform": "android", "locale": "vi", **fields}
    return client.post("/api/v1/me/devices", headers=bearer(tokens), json=body)


def inbox(client, tokens, lang="vi", **query):
    response = client.get("/api/v1/me/notifications", headers={**bearer(tokens), "Accept-Language": lang},
                          query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def kinds(client, tokens):
    return [n["kind"] for n in inbox(client, tokens)["items"]]


@pytest.fixture
def citizen(client):
    return sign_in(client, CITIZEN)


@pytest.fixture
def started():
    """The clock stops at the test's start: its rows are the ones created since (other tests commit some)."""
    clock.freeze(clock.now())
    return clock.now()


def message_jobs(session, since) -> int:
    return session.scalar(select(func.count()).select_from(PushJob).where(PushJob.kind == "message",
                                                                          PushJob.created_at >= since))


def test_devices_register_refresh_list_and_delete(client, citizen):
    first = register(client, citizen, token="tok-a", app_version="2.0.0")
    assert first.status_code == 201
    again = register(client, citizen, token="tok-a", locale="en", app_version="2.1.0")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert (again.json["locale"], again.json["app_version"]) == ("en", "2.1.0")
    listed = client.get("/api/v1/me/devices", headers=bearer(citizen)).json["items"]
    assert [d["token"] for d in listed] == ["tok-a"] and set(listed[0]) == {
        "id", "token", "platform", "locale", "app_version", "last_seen_at"}
    other = sign_in(client, OTHER)
    assert client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=bearer(other)).status_code == 404
    assert client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=bearer(citizen)).status_code == 204
    assert client.get("/api/v1/me/devices", headers=bearer(citizen)).json["items"] == []


def test_a_token_belongs_to_whoever_registered_it_last(client, session, started, citizen):
    register(client, citizen, token="tok-shared")
    submitted(client, citizen)  # a push queued for the first owner
    other = sign_in(client, OTHER)
    assert register(client, other, token="tok-shared").status_code == 201
    assert client.get("/api/v1/me/devices", headers=bearer(citizen)).json["items"] == []
    assert [d["token"] for d in client.get("/api/v1/me/devices", headers=bearer(other)).json["items"]] == [
        "tok-shared"]
    # The first owner's queued message must not reach the new owner's phone.
    assert message_jobs(session, started) == 0


@pytest.mark.parametrize("body", [
    {"token": "has space", "platform": "android"},
    {"token": "t", "platform": "symbian"},
    {"token": "t", "platform": "ios", "locale": "fr"},
    {"token": "", "platform": "ios"},
    {"platform": "ios"},
])
def test_bad_device_registrations_are_422(client, citizen, body):
    response = client.post("/api/v1/me/devices", headers=bearer(citizen), json=body)
    assert response.status_code == 422 and response.json["code"] == "validation_failed"


def test_each_status_change_writes_one_notification_and_a_job_per_device(client, session, citizen):
    register(client, citizen)
    register(client, citizen, locale="en")
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    for action in ("receive", "start_processing"):
        assert act(client, official, dossier["id"], action).status_code == 200
    assert kinds(client, citizen) == ["dossier.in_progress", "dossier.received", "dossier.submitted"]
    notes = session.scalars(select(Notification).where(Notification.dossier_id == dossier["id"],
                                                       Notification.kind.like("dossier.%"))).all()
    jobs = session.scalars(select(PushJob).where(PushJob.notification_id.in_([n.id for n in notes]))).all()
    assert len(jobs) == 6 and {j.status for j in jobs} == {"pending"}  # 3 notifications × 2 devices


def test_the_inbox_speaks_the_request_language(client, session, citizen):
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "request_supplement", note="Thiếu bản sao giấy khai sinh")
    [vi] = inbox(client, citizen, "vi", limit=1)["items"]
    [en] = inbox(client, citizen, "en", limit=1)["items"]
    assert vi["title"] == f"Hồ sơ {dossier['code']} cần bổ sung" and "Thiếu bản sao giấy khai sinh" in vi["body"]
    assert en["title"] == f"Dossier {dossier['code']} needs more papers"
    assert vi["data"] == {"kind": "dossier.supplement_requested", "dossier_id": dossier["id"],
                          "dossier_code": dossier["code"], "status": "supplement_requested",
                          "notification_id": vi["id"], "form_no": "02",  # the supplement request, form 02
                          "document_id": vi["data"]["document_id"]}


def test_an_english_inbox_names_the_procedure_in_english(client, session, citizen):
    dossier = submitted(client, citizen)
    [vi] = inbox(client, citizen, "vi", limit=1)["items"]
    [en] = inbox(client, citizen, "en", limit=1)["items"]
    assert en["body"] == ("Your Certificate of marital status dossier was sent to the agency. "
                          "Please wait for it to be received.")
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in vi["body"]
    # A row written before procedure_en existed, and a procedure without an English name: Vietnamese.
    note = session.get(Notification, en["id"])
    note.params = {k: v for k, v in note.params.items() if k != "procedure_en"}
    session.flush()
    [old] = inbox(client, citizen, "en", limit=1)["items"]
    assert old["body"] == ("Your Cấp Giấy xác nhận tình trạng hôn nhân dossier was sent to the agency. "
                           "Please wait for it to be received.")
    assert dossier["code"] in old["title"]


def test_officials_hear_of_new_submissions_and_resubmissions(client, session, citizen):
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    [new] = inbox(client, official)["items"]
    assert new["kind"] == "staff.submitted" and dossier["code"] in new["title"]
    assert CITIZEN["full_name"] not in new["title"] + new["body"]  # pushes show on lock screens
    act(client, official, dossier["id"], "request_supplement", note="Bổ sung tờ khai")
    assert client.post(f"/api/v1/dossiers/{dossier['id']}/resubmit", headers=bearer(citizen)).status_code == 200
    assert kinds(client, official) == ["staff.resubmitted", "staff.submitted"]
    assert kinds(client, citizen)[0] == "dossier.resubmitted"
    # Officials of other agencies hear nothing.
    grant_staff(session, ADMIN["cccd"], role="official", agency_code=FEE["agency"])
    assert inbox(client, sign_in(client, ADMIN))["items"] == []


def test_unread_count_mark_one_and_mark_all(client, session, citizen):
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    count = client.get("/api/v1/me/notifications/unread-count", headers=bearer(citizen)).json
    assert count == {"count": 2}
    newest = inbox(client, citizen)["items"][0]
    assert client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=bearer(citizen)).status_code == 204
    assert client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=bearer(citizen)).status_code == 204
    assert [n["id"] for n in inbox(client, citizen, unread="true")["items"]] != [newest["id"]]
    assert inbox(client, citizen, unread="false")["items"][0]["read_at"] is not None
    other = sign_in(client, OTHER)
    assert client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=bearer(other)).status_code == 404
    assert client.post("/api/v1/me/notifications/read-all", headers=bearer(citizen)).status_code == 204
    assert client.get("/api/v1/me/notifications/unread-count", headers=bearer(citizen)).json == {"count": 0}


def test_the_inbox_pages_by_keyset_newest_first(client, session, citizen):
    for _ in range(5):
        submitted(client, citizen)
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        page = inbox(client, citizen, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == 5 and len({n["id"] for n in seen}) == 5
    assert [n["created_at"] for n in seen] == sorted((n["created_at"] for n in seen), reverse=True)


def test_payment_results_reach_the_payer(client, session, citizen, settings):
    register(client, citizen)
    dossier = submitted(client, citizen, FEE)
    failed = pay(client, citizen, dossier["id"], key="k1").json
    assert ipn(client, gateway_result(settings, failed, code="51"))["RspCode"] == "00"
    paid = pay(client, citizen, dossier["id"], key="k2").json
    assert ipn(client, gateway_result(settings, paid))["RspCode"] == "00"
    assert ipn(client, gateway_result(settings, paid))["RspCode"] == "02"  # a repeat tells nobody again
    items = inbox(client, citizen, "en")["items"]
    assert [n["kind"] for n in items[:2]] == ["payment.succeeded", "payment.failed"]
    assert "200.000 ₫" in items[0]["body"] and "BL-" in items[0]["body"]


def test_deadline_alerts_are_sent_once_per_dossier_and_event(client, session, citizen, app):
    official = official_of(client, session)
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    due = session.get(Dossier, dossier["id"]).due_at
    calendar = state_of(app).runtime.calendar
    clock.freeze(due - timedelta(hours=20))  # within the last working day
    assert alerts.check_deadlines(session, calendar=calendar) == 1
    assert alerts.check_deadlines(session, calendar=calendar) == 0
    clock.freeze(due + timedelta(minutes=1))
    assert alerts.check_deadlines(session, calendar=calendar) == 1
    assert alerts.check_deadlines(session, calendar=calendar) == 0
    official = official_of(client, session)  # a fresh token at the frozen time
    assert kinds(client, official)[:2] == ["staff.overdue", "staff.due_soon"]


def test_admins_announce_to_a_topic_and_everyone_reads_it(client, session, citizen):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    body = {"title": "Nghỉ lễ Quốc khánh", "body": "Bộ phận một cửa nghỉ từ 1/9 đến 2/9.", "audience": "all"}
    created = client.post("/api/v1/admin/announcements", headers=bearer(admin), json=body)
    assert created.status_code == 201 and created.json["audience"] == "all"
    job = session.scalar(select(PushJob).where(PushJob.kind == "topic"))
    assert (job.topic, job.status) == ("all", "pending")
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "announcement.create")) is not None
    listed = client.get("/api/v1/announcements", headers=bearer(citizen)).json["items"]
    assert [a["title"] for a in listed] == ["Nghỉ lễ Quốc khánh"]
    # To one agency: its officials read it, citizens do not.
    agency = client.post("/api/v1/admin/announcements", headers=bearer(admin),
                         json={**body, "title": "Họp giao ban", "audience": SIMPLE["agency"]})
    assert agency.status_code == 201
    assert len(client.get("/api/v1/announcements", headers=bearer(citizen)).json["items"]) == 1
    official = official_of(client, session)
    assert len(client.get("/api/v1/announcements", headers=bearer(official)).json["items"]) == 2


@pytest.mark.parametrize(("body", "status"), [
    ({"title": "x", "body": "y", "audience": "000.99.99.H15"}, 404),
    ({"title": "", "body": "y", "audience": "all"}, 422),
    ({"title": "x", "body": "y", "audience": "tất cả"}, 422),
    ({"title": "x", "body": "y"}, 422),
])
def test_bad_announcements(client, session, body, status):
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    response = client.post("/api/v1/admin/announcements", headers=bearer(sign_in(client, ADMIN)), json=body)
    assert response.status_code == status


def test_only_admins_announce(client, session, citizen):
    official = official_of(client, session)
    body = {"title": "x", "body": "y", "audience": "all"}
    assert client.post("/api/v1/admin/announcements", headers=bearer(official), json=body).status_code == 403
    assert client.post("/api/v1/admin/announcements", headers=bearer(citizen), json=body).status_code == 403


def test_a_draft_tells_nobody(client, session, started, citizen):
    register(client, citizen)
    draft(client, citizen)
    assert inbox(client, citizen)["items"] == []
    assert message_jobs(session, started) == 0


def test_registration_subscribes_to_topics_through_the_outbox(client, session, citizen):
    register(client, citizen, token="tok-topics")
    official = official_of(client, session, person=OFFICIAL)
    register(client, official, token="tok-official")
    rows = session.execute(select(PushJob.token, PushJob.topic).where(
        PushJob.kind == "subscribe", PushJob.token.in_(["tok-topics", "tok-official"]))).all()
    assert sorted(rows) == [("tok-official", SIMPLE["agency"]), ("tok-official", "all"), ("tok-topics", "all")]


def test_each_member_of_a_bundle_tells_its_applicant_and_its_own_agency(client, session):
    from tests.api.test_bundles import ready_bundle

    citizen = sign_in(client, CITIZEN)
    bundle = ready_bundle(client, citizen)
    official = official_of(client, session, agency="000.00.23.H15")  # the residence step's agency
    headers = {**bearer(citizen), "Idempotency-Key": "bundle-notify"}
    assert client.post(f"/api/v1/dossier-bundles/{bundle['id']}/submit", headers=headers).status_code == 200
    items = inbox(client, citizen)["items"]
    assert sorted(n["data"]["dossier_id"] for n in items) == sorted(d["id"] for d in bundle["dossiers"])
    [staff] = inbox(client, official)["items"]
    assert staff["kind"] == "staff.submitted" and staff["data"]["dossier_id"] == bundle["dossiers"][1]["id"]


def test_the_worker_runs_the_periodic_chores(client, session, citizen, worker, settings):
    from services.models import Device, Payment

    register(client, citizen, token="tok-old")
    dossier = submitted(client, citizen, FEE)
    payment = pay(client, citizen, dossier["id"]).json
    clock.advance(days=settings.device_retention_days + 1)
    worker.drain()
    session.expire_all()
    assert session.get(Payment, payment["id"]).status == "expired"
    assert session.scalar(select(Device).where(Device.token == "tok-old")) is None


def test_the_worker_runs_the_wallet_expiry_check(client, session, citizen, worker):
    """A paper 10 days from expiry: the worker's run tells its owner once (inbox and push), however often it runs."""
    from datetime import date, datetime, time

    from services.calendar import TZ
    from tests.wallet_helpers import keep

    register(client, citizen, token="tok-wallet")
    expires = date(2027, 3, 20)
    item = keep(client, citizen, title="Hộ chiếu", expires_at=expires.isoformat()).json
    clock.freeze(datetime.combine(expires - timedelta(days=10), time(9), TZ))
    worker.drain()
    worker.drain()
    session.expire_all()
    notes = session.scalars(select(Notification).where(Notification.kind.like("wallet.%"))).all()
    assert [(n.kind, n.params["wallet_item_id"], n.params["days_left"]) for n in notes] == [
        ("wallet.expiring", item["id"], 10)]
    assert session.scalar(select(PushJob.status).where(PushJob.notification_id == notes[0].id)) == "sent"


def test_admins_see_the_pushes_that_failed(client, session, citizen, worker, fcm):
    register(client, citizen, token="tok-refused")
    fcm.fail("tok-refused", "SENDER_ID_MISMATCH")
    submitted(client, citizen)
    worker.drain()
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    body = client.get("/api/v1/admin/push-jobs", headers=bearer(admin), query_string={"status": "failed"}).json
    assert sorted((j["kind"], j["last_error"].split(":")[0]) for j in body["items"][:2]) == [
        ("message", "SENDER_ID_MISMATCH"), ("subscribe", "SENDER_ID_MISMATCH")]
    assert client.get("/api/v1/admin/push-jobs", headers=bearer(citizen)).status_code == 403


def test_topics_follow_role_changes_and_moved_tokens(client, session, citizen):
    from services.people.identity import revoke_staff

    def queued(token):
        return sorted(session.execute(select(PushJob.kind, PushJob.topic).where(PushJob.token == token)).all())

    official = official_of(client, session)
    register(client, official, token="tok-desk")
    assert queued("tok-desk") == [("subscribe", SIMPLE["agency"]), ("subscribe", "all")]
    register(client, official, token="tok-desk")  # the next app start: nothing new to do
    assert len(queued("tok-desk")) == 2
    revoke_staff(session, OFFICIAL["cccd"])
    register(client, official, token="tok-desk")  # the role is gone: off the agency's topic
    assert ("unsubscribe", SIMPLE["agency"]) in queued("tok-desk")
    # Granted again before the worker ran: the queued unsubscribe is dropped, not raced.
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SIMPLE["agency"])
    register(client, official, token="tok-desk")
    assert queued("tok-desk") == [("subscribe", SIMPLE["agency"]), ("subscribe", "all")]
    # The phone passes to a citizen: the token leaves the agency's topic, stays on `all`.
    register(client, citizen, token="tok-desk")
    assert queued("tok-desk") == [("subscribe", "all"), ("unsubscribe", SIMPLE["agency"])]
