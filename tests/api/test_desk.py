"""The one-stop desk (issue 13): filing walk-in and postal dossiers for a person by CCCD, received at once
at the caller's centre and forwarded to the competent agency; linking to the person's later VNeID sign-in;
fees paid at the counter; the desk's scans; and every bad input the issue names."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from services.models import DeskPayment, Dossier
from tests.dossier_helpers import FEE, PDF, SIMPLE, act, official_of, submitted
from tests.helpers import CITIZEN, OTHER, bearer, sign_in

HOI_AN, POLICE = "000.20.24.H15", "000.00.23.H15"
WALK_IN = {"cccd": "049190007777", "full_name": "Lê Thị Hồng Nhung", "date_of_birth": "1990-04-15",
           "gender": "female", "phone": "0905 123 456", "address": "12 Trần Phú, Hội An"}
PERSON = {**{k: WALK_IN[k] for k in ("cccd", "full_name", "date_of_birth", "gender")}, "eid_level": 2}


def file(client, official, *, procedure=SIMPLE, applicant=WALK_IN, key=None, **changes):
    body = {"procedure_code": procedure["code"], "agency_code": procedure["agency"], "channel": "desk",
            "return_method": "desk", "applicant": applicant, "form": procedure["form"], **changes}
    headers = {**bearer(official), **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/desk/dossiers", headers=headers, json=body)


def scan(client, official, dossier_id, document_type, data=PDF):
    return client.post(f"/api/v1/desk/dossiers/{dossier_id}/attachments", headers=bearer(official),
                       data={"document_type": document_type, "file": (io.BytesIO(data), "scan.pdf")},
                       content_type="multipart/form-data")


@pytest.fixture
def centre(client, session):
    return official_of(client, session, agency=HOI_AN)


def test_a_walk_in_dossier_is_received_at_once_at_the_callers_centre(client, centre):
    response = file(client, centre, key="desk-1")
    assert response.status_code == 201, response.json
    d = response.json
    assert (d["status"], d["channel"], d["return_method"]) == ("received", "desk", "desk")
    assert (d["agency_code"], d["receiving_centre_code"]) == (HOI_AN, HOI_AN)
    assert d["code"].startswith(HOI_AN) and d["due_at"] and d["received_at"]
    assert d["applicant"]["full_name"] == WALK_IN["full_name"] and d["applicant"]["eid_level"] == 0
    assert d["applicant_contact"] == {"phone": WALK_IN["phone"], "address": WALK_IN["address"]}
    assert response.headers["Location"].endswith(f"/api/v1/admin/dossiers/{d['id']}")
    assert [e["action"] for e in d["timeline"]] == ["receive_at_desk"]
    # A retry with the same key gets the same dossier, not a second one; another body is refused.
    again = file(client, centre, key="desk-1")
    assert again.status_code == 201 and again.json["id"] == d["id"] and again.json["code"] == d["code"]
    assert file(client, centre, key="desk-1", return_method="postal").json["code"] == "idempotency_key_reused"
    # The receipt slip (form 01) was made with it.
    documents = client.get(f"/api/v1/admin/dossiers/{d['id']}/documents", headers=bearer(centre)).json["items"]
    assert [(x["form_no"], x["kind"]) for x in documents] == [("01", "receipt")]


def test_a_centre_that_is_not_competent_forwards_at_once(client, centre):
    d = file(client, centre, procedure=FEE, channel="postal", return_method="postal").json
    assert (d["agency_code"], d["receiving_centre_code"], d["channel"]) == (POLICE, HOI_AN, "postal")
    assert [e["action"] for e in d["timeline"]] == ["receive_at_desk", "transfer"]
    assert d["fee_vnd"] == 200_000 and d["payment_status"] == "unpaid"


def test_the_person_sees_it_after_signing_in_with_vneid_and_gets_its_notifications(client, centre):
    d = file(client, centre).json
    person = sign_in(client, PERSON)
    mine = client.get("/api/v1/dossiers", headers=bearer(person)).json["items"]
    assert [x["id"] for x in mine] == [d["id"]]
    me = client.get("/api/v1/me", headers=bearer(person)).json
    assert me["eid_level"] == 2 and me["id"] == d["applicant"]["id"]
    [received] = client.get("/api/v1/me/notifications", headers=bearer(person)).json["items"]
    assert received["kind"] == "dossier.received" and received["data"]["form_no"] == "01"
    # From then on, each move tells them.
    act(client, centre, d["id"], "start_processing")
    kinds = [n["kind"] for n in client.get("/api/v1/me/notifications", headers=bearer(person)).json["items"]]
    assert kinds[0] == "dossier.in_progress"


def test_an_existing_citizen_is_found_by_cccd(client, centre):
    citizen = sign_in(client)
    applicant = {k: CITIZEN[k] for k in ("cccd", "full_name", "date_of_birth", "gender")}
    d = file(client, centre, applicant=applicant).json
    assert d["applicant"]["eid_level"] == 2
    assert d["id"] in [x["id"] for x in client.get("/api/v1/dossiers", headers=bearer(citizen)).json["items"]]
    # The same number with another birth date is not that person.
    wrong = file(client, centre, applicant={**applicant, "date_of_birth": "1985-03-13"})
    assert wrong.status_code == 422 and wrong.json["code"] == "validation_failed"


def test_a_citizen_or_an_official_of_a_non_centre_cannot_file(client, session):
    citizen = sign_in(client)
    refused = file(client, citizen)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    police = official_of(client, session, agency=POLICE)
    refused = file(client, police, procedure=FEE)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"


@pytest.mark.parametrize("change", [{"date_of_birth": "1991-04-15"}, {"gender": "male"}, {"cccd": "049190007"}])
def test_an_applicant_whose_cccd_disagrees_is_refused(client, centre, change):
    response = file(client, centre, applicant={**WALK_IN, **change})
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert any(k.startswith("applicant") for k in response.json["errors"])


def test_bad_forms_and_agencies_are_422(client, centre):
    assert file(client, centre, form={}).status_code == 422  # SIMPLE's form needs a purpose
    assert file(client, centre, agency_code=POLICE).json["errors"] == {"agency_code": [
        "Not competent for 1.004873; see /procedures/1.004873/agencies."]}
    assert file(client, centre, channel="online").status_code == 422


def test_a_fee_paid_at_the_desk_gets_a_receipt_from_the_same_series(client, session, centre):
    d = file(client, centre, procedure=FEE).json
    wrong = act(client, centre, d["id"], "record_desk_payment", amount_vnd=100_000, method="cash")
    assert wrong.status_code == 422 and list(wrong.json["errors"]) == ["amount_vnd"]
    assert act(client, centre, d["id"], "record_desk_payment", amount_vnd=200_000,
               method="cheque").status_code == 422
    paid = act(client, centre, d["id"], "record_desk_payment", amount_vnd=200_000, method="pos",
               receipt_no="POS-778899")
    assert paid.status_code == 200, paid.json
    assert paid.json["payment_status"] == "paid" and paid.json["timeline"][-1]["action"] == "record_desk_payment"
    receipt = session.scalar(select(DeskPayment).where(DeskPayment.dossier_id == d["id"]))
    assert receipt.receipt_no.startswith(f"BL-{POLICE}-") and receipt.reference == "POS-778899"
    assert paid.json["timeline"][-1]["note"].endswith(f"(pos), biên lai {receipt.receipt_no}")
    from services.models import Event  # partners learn of it as of an online payment

    event = session.scalar(select(Event).where(Event.resource_id == d["id"], Event.type == "payment.succeeded"))
    assert event.data["paid_via"] == "desk" and event.data["receipt_no"] == receipt.receipt_no
    again = act(client, centre, d["id"], "record_desk_payment", amount_vnd=200_000, method="cash")
    assert again.status_code == 409  # paid already
    # The competent agency returns the result: the fee paid at the desk counts.
    police = official_of(client, session, agency=POLICE, person=OTHER)
    for action in ("start_processing", "approve", "return_result"):
        assert act(client, police, d["id"], action).status_code == 200, action
    person = sign_in(client, PERSON)
    kinds = [n["kind"] for n in client.get("/api/v1/me/notifications", headers=bearer(person)).json["items"]]
    assert "payment.desk" in kinds


def test_desk_scans_are_digitised_papers(client, session, centre):
    d = file(client, centre).json
    response = scan(client, centre, d["id"], "to_khai_tthn")
    assert response.status_code == 201 and response.json["digitised"] is True
    assert scan(client, centre, d["id"], "to_khai_tthn").status_code == 200  # the same scan again
    assert scan(client, centre, d["id"], "unknown").status_code == 422
    citizen = sign_in(client, OTHER)
    assert scan(client, citizen, d["id"], "to_khai_tthn").status_code == 403
    assert session.get(Dossier, d["id"]).digitised_at is not None


def test_an_online_receipt_and_a_desk_receipt_are_consecutive_numbers_of_one_series(client, session, settings,
                                                                                   centre):
    """One gap-free series per agency and year, whichever way the fee was paid: the police's next online
    receipt (VNPay IPN) and then its next desk receipt follow each other."""
    from tests.api.test_payments import gateway_result, ipn, pay

    citizen = sign_in(client)
    online = submitted(client, citizen, FEE)
    payment = pay(client, citizen, online["id"]).json
    assert ipn(client, gateway_result(settings, payment)) == {"RspCode": "00", "Message": "Confirm Success"}
    first = client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["receipt_no"]
    desk = file(client, centre, procedure=FEE).json  # filed at Hội An, forwarded to the police
    assert desk["agency_code"] == online["agency_code"] == POLICE
    paid = act(client, centre, desk["id"], "record_desk_payment", amount_vnd=200_000, method="cash")
    assert paid.status_code == 200, paid.json
    second = session.scalar(select(DeskPayment.receipt_no).where(DeskPayment.dossier_id == desk["id"]))
    prefix, number = first.rsplit("-", 1)
    assert prefix.startswith(f"BL-{POLICE}-") and second == f"{prefix}-{int(number) + 1:06d}", (first, second)
