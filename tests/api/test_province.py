"""The province as it is (issue 12): competent agencies, any-centre receipt and transfer, variants,
fees computed from the form, CCCD numbers in forms, and lateness that a supplement cannot erase."""

from __future__ import annotations

from datetime import UTC, datetime

from services.calendar import TZ
from services.clock import clock
from tests.dossier_helpers import SIMPLE, act, draft, official_of, submitted, upload
from tests.helpers import OFFICIAL, OTHER, bearer, sign_in

TAM_KY, HOI_AN, POLICE = "000.20.17.H15", "000.20.24.H15", "000.00.23.H15"
EXTRACT = {"code": "2.000635", "documents": ["to_khai_trich_luc"],
           "form": {"record_type": "khai_sinh", "person_cccd": "049190000123", "copies": 3}}
DEATH = {"code": "1.000656", "documents": ["to_khai_khai_tu", "giay_bao_tu"],
         "form": {"deceased": {"full_name": "Trần Văn Bình", "cccd": "049050001234", "date_of_death": "2026-11-20",
                               "place_of_death": "Hội An"}, "relationship": "con"}}


def create(client, citizen, code, form, **extra):
    return client.post("/api/v1/dossiers", headers=bearer(citizen), json={"procedure_code": code, "form": form,
                                                                          **extra})


def test_a_commune_procedure_is_handled_by_every_commune(client):
    detail = client.get("/api/v1/procedures/1.001193").json
    assert (detail["level"], detail["processing_days"], detail["cutoff_time"]) == ("commune", 3, "15:00")
    assert detail["variants"] == [{"code": "verification", "name": detail["variants"][0]["name"], "processing_days": 5}]
    assert detail["fee"] == {"kind": "flat", "amount_vnd": 0}
    first = client.get("/api/v1/procedures/1.001193/agencies?limit=50").json
    second = client.get(f"/api/v1/procedures/1.001193/agencies?limit=50&cursor={first['next_cursor']}").json
    codes = [a["code"] for a in first["items"] + second["items"]]
    assert len(codes) >= 90 and codes == sorted(set(codes)) and all(a["level"] == "commune" for a in first["items"])
    assert second["next_cursor"] is None
    # Without diacritics too; a sector procedure is its agency's alone.
    found = client.get("/api/v1/procedures/1.001193/agencies?q=hoi an").json["items"]
    assert HOI_AN in [a["code"] for a in found] and all("Hội An" in a["name"] for a in found)
    assert [a["code"] for a in client.get("/api/v1/procedures/2.000488/agencies").json["items"]] == [POLICE]
    assert client.get("/api/v1/procedures/9.999999/agencies").status_code == 404


def test_agencies_say_which_receive_and_which_wards_they_serve(client):
    communes = client.get("/api/v1/agencies?level=commune").json["items"]
    assert len(communes) >= 20 and all(a["is_centre"] and a["ward_codes"] for a in communes)
    assert [a["code"] for a in client.get("/api/v1/agencies?q=tam ky").json["items"]] == [TAM_KY]


def test_the_applicant_names_the_commune_or_the_ward_decides(client):
    citizen = sign_in(client)
    chosen = create(client, citizen, SIMPLE["code"], SIMPLE["form"], agency_code=TAM_KY)
    assert chosen.status_code == 201 and chosen.json["agency_code"] == TAM_KY
    by_ward = create(client, citizen, SIMPLE["code"], {"purpose": "Kết hôn", "ward_code": "20341"})
    assert by_ward.json["agency_code"] == TAM_KY
    default = create(client, citizen, SIMPLE["code"], SIMPLE["form"])  # older apps name neither
    assert default.json["agency_code"] == HOI_AN and default.json["channel"] == "online"
    for wrong in (POLICE, "000.99.99.H15"):
        refused = create(client, citizen, SIMPLE["code"], SIMPLE["form"], agency_code=wrong)
        assert refused.status_code == 422 and list(refused.json["errors"]) == ["agency_code"]


def test_a_centre_transfers_to_the_competent_agency_and_both_queues_see_it(client, session):
    citizen = sign_in(client)
    centre = official_of(client, session, agency=HOI_AN)
    dossier = submitted(client, citizen)
    received = act(client, centre, dossier["id"], "receive").json
    for wrong, field in ((HOI_AN, "agency_code"), (POLICE, "agency_code"), (None, "agency_code")):
        refused = act(client, centre, dossier["id"], "transfer", agency_code=wrong)
        assert refused.status_code == 422 and list(refused.json["errors"]) == [field]
    moved = act(client, centre, dossier["id"], "transfer", agency_code=TAM_KY, note="Đúng địa bàn").json
    assert (moved["agency_code"], moved["receiving_centre_code"]) == (TAM_KY, HOI_AN)
    assert moved["due_at"] == received["due_at"] and moved["timeline"][-1]["action"] == "transfer"
    assert moved["status"] == "received" and moved["allowed_actions"] == []  # the centre now only watches
    competent = official_of(client, session, agency=TAM_KY, person=OTHER)
    for who in (centre, competent):
        queue = client.get("/api/v1/admin/dossiers", headers=bearer(who)).json["items"]
        assert dossier["id"] in [d["id"] for d in queue]
    assert act(client, competent, dossier["id"], "start_processing").status_code == 200
    mine = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert mine["agency_code"] == TAM_KY
    inbox = client.get("/api/v1/me/notifications", headers=bearer(citizen)).json["items"]
    assert "dossier.transferred" in [n["kind"] for n in inbox]


def test_statistics_by_centre_and_by_agency_sum_to_the_same_total(client, session):
    citizen, admin = sign_in(client), None
    centre = official_of(client, session, agency=HOI_AN)
    dossier = submitted(client, citizen)
    act(client, centre, dossier["id"], "receive")
    act(client, centre, dossier["id"], "transfer", agency_code=TAM_KY)
    from services.people.identity import grant_staff
    from tests.helpers import ADMIN

    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    today = clock.now().astimezone(TZ).date().isoformat()
    figures = {}
    for group_by in ("agency", "centre"):
        report = client.get(f"/api/v1/admin/stats?from={today}&to={today}&group_by={group_by}",
                            headers=bearer(admin)).json
        figures[group_by] = {i["agency_code"]: i["received"] for i in report["items"] if i["received"]}
        assert report["total"]["received"] == sum(figures[group_by].values())
    assert figures["agency"].get(TAM_KY) == 1 and HOI_AN not in figures["agency"]
    assert figures["centre"].get(HOI_AN) == 1 and TAM_KY not in figures["centre"]


def test_the_official_picks_a_variant_that_sets_the_deadline(client, session):
    clock.freeze(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # Monday 09:00 local
    citizen = sign_in(client)
    official = official_of(client, session, agency=TAM_KY)  # death registration's default commune
    dossier = submitted(client, citizen, DEATH)
    wrong = act(client, official, dossier["id"], "receive", variant="express")
    assert wrong.status_code == 422 and list(wrong.json["errors"]) == ["variant"]
    received = act(client, official, dossier["id"], "receive", variant="verification").json
    assert received["variant"] == "verification"
    assert received["due_at"] == "2026-12-10T10:00:00+00:00"  # three working days: Thursday 17:00
    plain = submitted(client, citizen, {**SIMPLE, "form": {**SIMPLE["form"], "ward_code": "20341"}})  # Tam Kỳ
    assert act(client, official, plain["id"], "receive", variant="verification").status_code == 422


def test_fees_follow_the_form_and_are_fixed_at_submission(client):
    citizen = sign_in(client)
    extract = draft(client, citizen, EXTRACT)
    assert extract["fee_vnd"] == 24_000  # 3 copies × 8,000, shown before submitting
    client.patch(f"/api/v1/dossiers/{extract['id']}", headers=bearer(citizen), json={"form": {**EXTRACT["form"],
                                                                                            "copies": 0}})
    refused = client.post(f"/api/v1/dossiers/{extract['id']}/submit", headers=bearer(citizen))
    assert refused.status_code == 422 and "form.copies" in refused.json["errors"]
    client.patch(f"/api/v1/dossiers/{extract['id']}", headers=bearer(citizen), json={"form": EXTRACT["form"]})
    sent = client.post(f"/api/v1/dossiers/{extract['id']}/submit", headers=bearer(citizen)).json
    assert sent["fee_vnd"] == 24_000 and sent["payment_status"] == "unpaid"
    pages = create(client, citizen, "2.000908", {"document_name": "Bằng tốt nghiệp", "pages": 5}).json
    assert pages["fee_vnd"] == 2 * 2_000 + 3 * 1_000


def test_a_cccd_in_a_form_must_be_a_real_number(client):
    citizen = sign_in(client)
    for province in ("000", "099"):
        dossier = draft(client, citizen, EXTRACT, form={**EXTRACT["form"], "person_cccd": f"{province}190000123"})
        refused = client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(citizen))
        assert refused.status_code == 422 and list(refused.json["errors"]) == ["form.person_cccd"]


def test_a_supplement_never_makes_a_late_dossier_on_time(client, session):
    clock.freeze(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # Monday: due Thursday 10/12 17:00
    citizen, official = sign_in(client), official_of(client, session, agency=HOI_AN)
    dossier = submitted(client, citizen)
    due = act(client, official, dossier["id"], "receive").json["due_at"]
    clock.freeze(datetime(2026, 12, 14, 2, 0, tzinfo=UTC))  # the next Monday: late
    citizen, official = sign_in(client), sign_in(client, OFFICIAL)
    paused = act(client, official, dossier["id"], "request_supplement", note="Thiếu chữ ký").json
    assert paused["due_at"] == due and paused["overdue"] is True
    clock.freeze(datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    citizen, official = sign_in(client), sign_in(client, OFFICIAL)
    upload(client, citizen, dossier["id"], "to_khai_tthn")
    resumed = client.post(f"/api/v1/dossiers/{dossier['id']}/resubmit", headers=bearer(citizen)).json
    assert resumed["due_at"] == due and resumed["overdue"] is True


def test_a_pause_on_the_due_day_leaves_only_the_day_it_resumes(client, session):
    clock.freeze(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    citizen, official = sign_in(client), official_of(client, session, agency=HOI_AN)
    dossier = submitted(client, citizen)
    act(client, official, dossier["id"], "receive")
    clock.freeze(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))  # Thursday 09:00, the due day itself
    citizen, official = sign_in(client), sign_in(client, OFFICIAL)
    act(client, official, dossier["id"], "request_supplement", note="Thiếu chữ ký")
    clock.freeze(datetime(2026, 12, 11, 2, 0, tzinfo=UTC))  # resubmitted Friday
    citizen = sign_in(client)
    resumed = client.post(f"/api/v1/dossiers/{dossier['id']}/resubmit", headers=bearer(citizen)).json
    assert resumed["due_at"] == "2026-12-11T10:00:00+00:00" and resumed["overdue"] is False  # Friday 17:00
