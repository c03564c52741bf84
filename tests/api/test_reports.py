"""Field reports through the API: categories, filing with photos, duplicates and following, the agency's
moves, reopening and rating, the public map."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from services.clock import clock
from services.models import Notification
from services.people.identity import grant_staff
from tests.dossier_helpers import ELF, PDF
from tests.helpers import ADMIN, CITIZEN, MONDAY_MORNING, OFFICIAL, OTHER, bearer, sign_in
from tests.report_helpers import HAI_CHAU, HANOI, HOA_VANG, act, file_report, filed, photo

SO_XAY_DUNG = "000.00.15.H15"
HAI_CHAU_WARD = "000.20.05.H15"
HOA_VANG_COMMUNE = "000.20.14.H15"


def official(client, session, agency=SO_XAY_DUNG, person=OFFICIAL):
    grant_staff(session, person["cccd"], role="official", agency_code=agency)
    return sign_in(client, person)


def kinds_for(session, user_id):
    return [n.kind for n in session.scalars(select(Notification).where(Notification.user_id == user_id)
                                            .order_by(Notification.created_at))]


def test_categories_are_seeded_data_with_agency_days_and_photo_rule(client, session):
    items = client.get("/api/v1/report-categories").json["items"]
    by_code = {c["code"]: c for c in items}
    assert {"road_damage", "street_light", "waste", "irrigation", "rural_road", "flooding"} <= set(by_code)
    assert by_code["road_damage"]["photo_required"] is True and by_code["road_damage"]["by_ward"] is True
    assert by_code["street_light"] == {**by_code["street_light"], "agency_code": SO_XAY_DUNG, "sla_days": 3}
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    changed = client.put("/api/v1/admin/report-categories/street_light", headers=bearer(admin),
                         json={"sla_days": 4, "photo_required": True})
    assert changed.status_code == 200 and changed.json["sla_days"] == 4 and changed.json["photo_required"]
    assert client.put("/api/v1/admin/report-categories/street_light", headers=bearer(sign_in(client)),
                      json={"sla_days": 4}).status_code == 403
    bad = client.put("/api/v1/admin/report-categories/street_light", headers=bearer(admin),
                     json={"agency_code": "nope"})
    assert bad.status_code == 422


def test_filing_routes_by_category_and_ward_with_a_deadline_in_working_days(client, session):
    tokens = sign_in(client)
    light = filed(client, tokens)
    assert re.fullmatch(r"PA-\d{6}-\d{5}", light["code"]) and light["status"] == "new"
    assert light["agency_code"] == SO_XAY_DUNG and light["public"] is False and light["due_at"]
    rural = filed(client, tokens, category="irrigation", at=HOA_VANG)
    assert rural["agency_code"] == HOA_VANG_COMMUNE
    urban = filed(client, tokens, category="waste", photos=[photo()])
    assert urban["agency_code"] == HAI_CHAU_WARD and len(urban["photos"]) == 1
    urgent = filed(client, tokens, category="irrigation", at=HOA_VANG, urgent=True)
    assert urgent["due_at"] < rural["due_at"]
    mine = client.get("/api/v1/reports?mine=true", headers=bearer(tokens)).json["items"]
    assert {r["id"] for r in mine} == {light["id"], rural["id"], urban["id"], urgent["id"]}
    assert mine[0]["timeline"][0]["action"] == "create"


def test_bad_input_outside_the_province_missing_photo_not_an_image(client):
    tokens = sign_in(client)
    outside = file_report(client, tokens, at=HANOI)
    assert outside.status_code == 422 and outside.json["code"] == "validation_failed"
    assert set(outside.json["errors"]) == {"lat", "lon"}
    no_photo = file_report(client, tokens, category="road_damage")
    assert no_photo.status_code == 422 and "file" in no_photo.json["errors"]
    assert file_report(client, tokens, category="road_damage", photos=[PDF]).status_code == 415
    assert file_report(client, tokens, category="road_damage", photos=[ELF]).status_code == 415
    assert file_report(client, tokens, category="nope").status_code == 422
    assert file_report(client, tokens, category="road_damage", photos=[photo()] * 6).status_code == 422
    assert client.post("/api/v1/reports", headers=bearer(tokens), json={"category_code": "street_light"}
                       ).status_code == 422


def test_the_public_copy_of_a_photo_has_no_exif_and_no_gps(client):
    original = photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does name a place
    report = filed(client, sign_in(client), category="road_damage", photos=[original])
    shown = client.get(report["photos"][0]["url"])
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(shown.data))
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert b"Exif" not in shown.data and b"PhoneMaker" not in shown.data
    png = client.post(f"/api/v1/reports/{report['id']}/photos", headers=bearer(sign_in(client)),
                      data={"file": (io.BytesIO(photo("PNG")), "p.png")}, content_type="multipart/form-data")
    assert png.status_code == 201
    data = client.get(png.json["items"][0]["url"]).data
    assert b"eXIf" not in data and b"PhoneMaker" not in data and not Image.open(io.BytesIO(data)).getexif()


def test_at_most_five_photos(client):
    tokens = sign_in(client)
    report = filed(client, tokens, category="road_damage", photos=[photo()] * 5)
    more = client.post(f"/api/v1/reports/{report['id']}/photos", headers=bearer(tokens),
                       data={"file": (io.BytesIO(photo()), "p.jpg")}, content_type="multipart/form-data")
    assert more.status_code == 422


def test_idempotency_key_gives_the_same_report(client):
    tokens = sign_in(client)
    body = {"category_code": "street_light", "description": "Đèn hỏng trước nhà văn hóa", "lat": HAI_CHAU[0],
            "lon": HAI_CHAU[1]}
    headers = {**bearer(tokens), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/reports", headers=headers, json=body)
    again = client.post("/api/v1/reports", headers=headers, json=body)
    assert first.status_code == 201 and again.json["id"] == first.json["id"]


def test_idempotency_key_on_multipart_counts_the_photos(client):
    """A retry repeats the photos too: the same key with another photo is a reuse, not a replay."""
    tokens = sign_in(client)
    headers = {**bearer(tokens), "Idempotency-Key": "k-photos"}

    def send(picture: bytes, description: str = "Rác tồn đọng đầu kiệt") -> object:
        data = {"category_code": "waste", "description": description, "lat": str(HAI_CHAU[0]),
                "lon": str(HAI_CHAU[1]), "file": [(io.BytesIO(picture), "p.jpg")]}
        return client.post("/api/v1/reports", headers=headers, data=data, content_type="multipart/form-data")

    first, again = send(photo()), send(photo())
    assert first.status_code == 201 and again.status_code == 201 and again.json["id"] == first.json["id"]
    other_photo = send(photo(size=(80, 60)))
    assert other_photo.status_code == 422 and other_photo.json["code"] == "idempotency_key_reused"
    other_text = send(photo(), "Rác tồn đọng cuối kiệt")
    assert other_text.status_code == 422 and other_text.json["code"] == "idempotency_key_reused"


def test_possible_duplicates_within_50_m_and_following_one(client, session):
    reporter = sign_in(client)
    first = filed(client, reporter, category="road_damage", photos=[photo()], description="Ổ gà lớn giữa đường")
    near = (HAI_CHAU[0] + 0.0003, HAI_CHAU[1])  # about 33 m north
    far = (HAI_CHAU[0] + 0.0006, HAI_CHAU[1])  # about 67 m
    other = sign_in(client, OTHER)
    found = client.get("/api/v1/reports/nearby", headers=bearer(other),
                       query_string={"lat": near[0], "lon": near[1], "category_code": "road_damage"}).json["items"]
    assert [r["id"] for r in found] == [first["id"]] and 30 < found[0]["distance_m"] < 36
    assert found[0]["photos"] and found[0]["description"] == "Ổ gà lớn giữa đường"
    assert not client.get("/api/v1/reports/nearby", headers=bearer(other), query_string={
        "lat": far[0], "lon": far[1], "category_code": "road_damage"}).json["items"]
    assert not client.get("/api/v1/reports/nearby", headers=bearer(other), query_string={
        "lat": near[0], "lon": near[1], "category_code": "waste"}).json["items"]
    followed = client.post(f"/api/v1/reports/{first['id']}/follow", headers=bearer(other))
    assert followed.status_code == 200 and followed.json["following"] and followed.json["followers"] == 1
    assert followed.json["public"] is True
    ward = official(client, session, HAI_CHAU_WARD)
    assert act(client, ward, first["id"], "accept").status_code == 200
    other_id = client.get("/api/v1/me", headers=bearer(other)).json["id"]
    reporter_id = client.get("/api/v1/me", headers=bearer(reporter)).json["id"]
    assert "report.accepted" in kinds_for(session, other_id)
    assert "report.accepted" in kinds_for(session, reporter_id)


def test_the_agency_moves_a_report_and_everyone_is_told(client, session):
    staff = official(client, session)
    reporter = sign_in(client)
    report = filed(client, reporter)
    assert "staff.report_new" in kinds_for(session, client.get("/api/v1/me", headers=bearer(staff)).json["id"])
    url = f"/api/v1/admin/reports/{report['id']}/actions"
    assert client.post(url, headers=bearer(staff), json={"action": "accept"}).status_code == 428
    assert client.post(url, headers={**bearer(staff), "If-Match": '"v99"'}, json={"action": "accept"}
                       ).status_code == 412
    assert act(client, staff, report["id"], "resolve").status_code == 409  # not accepted yet
    accepted = act(client, staff, report["id"], "accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert set(accepted.json["allowed_actions"]) >= {"start", "resolve", "reject", "transfer"}
    assert act(client, staff, report["id"], "start").json["status"] == "in_progress"
    assert act(client, staff, report["id"], "resolve").status_code == 422  # a note is needed
    after = client.post(f"/api/v1/admin/reports/{report['id']}/photos", headers=bearer(staff),
                        data={"file": (io.BytesIO(photo()), "after.jpg")}, content_type="multipart/form-data")
    assert after.status_code == 201 and after.json["kind"] == "after"
    resolved = act(client, staff, report["id"], "resolve", note="Đã thay bóng đèn")
    assert resolved.json["status"] == "resolved" and resolved.json["resolution_note"] == "Đã thay bóng đèn"
    me = client.get("/api/v1/me", headers=bearer(reporter)).json["id"]
    assert kinds_for(session, me) == ["report.accepted", "report.in_progress", "report.resolved"]
    rated = client.post(f"/api/v1/reports/{report['id']}/rating", headers=bearer(reporter),
                        json={"score": 5, "comment": "Nhanh"})
    assert rated.status_code == 201
    assert client.post(f"/api/v1/reports/{report['id']}/rating", headers=bearer(reporter),
                       json={"score": 1}).status_code == 409


def test_an_official_of_another_agency_sees_nothing_and_transfer_moves_it(client, session):
    report = filed(client, sign_in(client))
    ward = official(client, session, HAI_CHAU_WARD)
    assert client.get(f"/api/v1/admin/reports/{report['id']}", headers=bearer(ward)).status_code == 404
    staff = official(client, session, SO_XAY_DUNG, person=OTHER)
    moved = act(client, staff, report["id"], "transfer", agency_code=HAI_CHAU_WARD)
    assert moved.status_code == 200 and moved.json["agency_code"] == HAI_CHAU_WARD
    assert moved.json["timeline"][-1]["agency_code"] == HAI_CHAU_WARD


def test_reopen_within_14_days_back_into_the_queue_after_that_409(client, session):
    reporter = sign_in(client)
    first, second = filed(client, reporter), filed(client, reporter)
    staff = official(client, session)
    for report in (first, second):
        act(client, staff, report["id"], "accept")
        act(client, staff, report["id"], "resolve", note="Đã sửa")
    clock.freeze(clock.now() + timedelta(days=13))
    reporter, staff = sign_in(client), sign_in(client, OFFICIAL)
    reopened = client.post(f"/api/v1/reports/{first['id']}/reopen", headers=bearer(reporter),
                           json={"reason": "Đèn vẫn chưa sáng"})
    assert reopened.status_code == 200 and reopened.json["status"] == "reopened"
    assert reopened.json["reopen_count"] == 1 and reopened.json["due_at"] > first["due_at"]
    queue = client.get("/api/v1/admin/reports?status=reopened", headers=bearer(staff)).json["items"]
    assert [r["id"] for r in queue] == [first["id"]] and queue[0]["timeline"][-1]["note"] == "Đèn vẫn chưa sáng"
    clock.freeze(clock.now() + timedelta(days=2))
    reporter = sign_in(client)
    late = client.post(f"/api/v1/reports/{second['id']}/reopen", headers=bearer(reporter), json={"reason": "Hỏng"})
    assert late.status_code == 409
    other = sign_in(client, OTHER)
    assert client.post(f"/api/v1/reports/{first['id']}/reopen", headers=bearer(other),
                       json={"reason": "x"}).status_code == 404


def test_another_persons_report_is_the_public_view_only(client):
    report = filed(client, sign_in(client), description="Gọi tôi 0905123456, CCCD 049085001234")
    other = client.get(f"/api/v1/reports/{report['id']}", headers=bearer(sign_in(client, OTHER)))
    assert other.status_code == 200 and other.json["public"] is True
    assert "due_at" not in other.json and "allowed_actions" not in other.json
    text = json.dumps(other.json, ensure_ascii=False)
    assert "0905123456" not in text and CITIZEN["cccd"] not in text and CITIZEN["full_name"] not in text
    own = client.get(f"/api/v1/reports/{report['id']}", headers=bearer(sign_in(client)))
    assert "0905123456" in own.json["description"]


def test_the_public_map_shows_open_and_recent_reports_and_nothing_about_reporters(client, session):
    reporter = sign_in(client)
    inside = filed(client, reporter, description="Rác tồn đọng, liên hệ 0912 345 678", category="waste",
                   photos=[photo()], address="Kiệt 12 Trần Phú")
    filed(client, reporter, at=HOA_VANG)  # outside the box
    staff = official(client, session)
    closed = filed(client, reporter)
    act(client, staff, closed["id"], "reject", note="Không thuộc thẩm quyền")
    box = f"{HAI_CHAU[1] - 0.02},{HAI_CHAU[0] - 0.02},{HAI_CHAU[1] + 0.02},{HAI_CHAU[0] + 0.02}"
    response = client.get("/api/v1/public/reports", query_string={"bbox": box})
    assert response.status_code == 200
    assert {r["id"] for r in response.json["items"]} == {inside["id"]}
    # Ids and photo URLs are UUIDs, whose hex groups can be all digits by chance: scan without them.
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>",
                  response.get_data(as_text=True))
    assert not re.search(r"\b\d{12}\b", text), "a CCCD-like number"
    assert not re.search(r"(?:\+84|0)\d{2}[ .]?\d{3}[ .]?\d{3,4}", text), "a phone-like number"
    for person in (CITIZEN, OFFICIAL):
        assert person["full_name"] not in text and person["cccd"] not in text
    assert "reporter" not in text and "actor" not in text
    assert client.get(response.json["items"][0]["photos"][0]["url"]).status_code == 200
    assert client.get("/api/v1/public/reports", query_string={"bbox": "1,2,3"}).status_code == 422
    assert client.get("/api/v1/public/reports", query_string={"bbox": "100,10,110,20"}).status_code == 422


def test_queue_oldest_due_first_overdue_filter_and_keyset(client, session):
    clock.freeze(MONDAY_MORNING)  # filed at 15:00 on a Thursday, a 1-day report would be due on Monday
    reporter = sign_in(client)
    normal = filed(client, reporter, category="flooding")
    urgent = filed(client, reporter, category="flooding", urgent=True)
    third = filed(client, reporter, category="street_light")
    staff = official(client, session)
    first_page = client.get("/api/v1/admin/reports?limit=2", headers=bearer(staff)).json
    assert [r["id"] for r in first_page["items"]] == [urgent["id"], normal["id"]]
    rest = client.get(f"/api/v1/admin/reports?limit=2&cursor={first_page['next_cursor']}", headers=bearer(staff))
    assert [r["id"] for r in rest.json["items"]] == [third["id"]] and rest.json["next_cursor"] is None
    assert client.get("/api/v1/admin/reports?overdue=true", headers=bearer(staff)).json["items"] == []
    denied = client.get("/api/v1/admin/reports", headers={**bearer(reporter), "Accept-Language": "en"})
    assert denied.status_code == 403, denied.json
    clock.freeze(clock.now() + timedelta(days=3))
    staff = sign_in(client, OFFICIAL)
    overdue = client.get("/api/v1/admin/reports?overdue=true", headers=bearer(staff)).json["items"]
    assert urgent["id"] in {r["id"] for r in overdue} and all(r["overdue"] for r in overdue)


def test_each_move_of_a_report_is_an_event_in_order_with_nothing_personal(client, session):
    from services.models import Event

    staff = official(client, session)
    reporter = sign_in(client)
    report = filed(client, reporter)
    act(client, staff, report["id"], "accept")
    act(client, staff, report["id"], "start")
    client.post(f"/api/v1/reports/{report['id']}/follow", headers=bearer(sign_in(client, OTHER)))  # no event
    logged = session.scalars(select(Event).where(Event.resource_id == report["id"]).order_by(Event.sequence)).all()
    assert [(str(e.type), e.sequence, e.data["status"]) for e in logged] == [
        ("report.created", 1, "new"), ("report.status_changed", 2, "accepted"),
        ("report.status_changed", 3, "in_progress")]
    assert logged[1].data["previous_status"] == "new" and logged[0].data["code"] == report["code"]
    text = json.dumps([e.data for e in logged], ensure_ascii=False)
    assert CITIZEN["cccd"] not in text and CITIZEN["full_name"] not in text and "Đèn đường" not in text
