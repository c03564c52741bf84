"""Paying a fee: payment creation, the gateway's signed IPN in every case, the return page, expiry."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from services.clock import clock
from services.models import PaymentCallback
from services.money import vnpay
from tests.dossier_helpers import FEE, SIMPLE, act, official_of, submitted
from tests.helpers import OTHER, bearer, sign_in


@pytest.fixture
def citizen(client):
    return sign_in(client)


@pytest.fixture
def dossier(client, citizen):
    return submitted(client, citizen, FEE)


def pay(client, citizen, dossier_id, key="pay-1"):
    return client.post(f"/api/v1/dossiers/{dossier_id}/payments",
                       headers={**bearer(citizen), "Idempotency-Key": key})


def gateway_result(settings, payment, code="00", **changes):
    params = {"vnp_Version": "2.1.0", "vnp_TmnCode": settings.vnpay_tmn_code,
              "vnp_Amount": str(payment["amount_vnd"] * 100), "vnp_TxnRef": payment["id"],
              "vnp_OrderInfo": "Thanh toan phi", "vnp_ResponseCode": code,
              "vnp_TransactionStatus": "00" if code == "00" else "02", "vnp_TransactionNo": "14123456",
              "vnp_BankCode": "NCB", "vnp_PayDate": "20261125100000", **changes}
    return vnpay.signed(params, settings.vnpay_hash_secret)


def ipn(client, params):
    response = client.get("/api/v1/payments/vnpay/ipn", query_string=params)
    assert response.status_code == 200
    return response.json


def test_a_payment_carries_a_signed_vnpay_url(client, citizen, dossier, settings):
    response = pay(client, citizen, dossier["id"])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["amount_vnd"] == 200_000 and body["status"] == "pending" and body["dossier_id"] == dossier["id"]
    url = urlsplit(body["payment_url"])
    params = dict(parse_qsl(url.query))
    assert f"{url.scheme}://{url.netloc}{url.path}" == settings.vnpay_url
    assert params["vnp_Amount"] == "20000000" and params["vnp_TxnRef"] == body["id"]
    assert params["vnp_Command"] == "pay" and params["vnp_CurrCode"] == "VND" and params["vnp_Version"] == "2.1.0"
    assert params["vnp_ReturnUrl"] == settings.vnpay_return_url
    created, expires = (vnpay.parse_timestamp(params[k]) for k in ("vnp_CreateDate", "vnp_ExpireDate"))
    assert expires - created == timedelta(minutes=15)
    assert vnpay.verify(params, settings.vnpay_hash_secret)
    assert not vnpay.verify({**params, "vnp_Amount": "100"}, settings.vnpay_hash_secret)
    view = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert view["payment_status"] == "pending"


def test_the_signature_follows_vnpays_canonical_form():
    # Sorted by name, URL-encoded with spaces as +, the hash parameters left out.
    params = {"vnp_TxnRef": "a b", "vnp_Amount": "100", "vnp_SecureHash": "x", "vnp_SecureHashType": "y"}
    assert vnpay.canonical(params) == "vnp_Amount=100&vnp_TxnRef=a+b"


def test_a_pending_payment_comes_back_and_keys_replay(client, citizen, dossier):
    first = pay(client, citizen, dossier["id"], key="k1").json
    assert pay(client, citizen, dossier["id"], key="k1").json == first
    assert pay(client, citizen, dossier["id"], key="k2").json["id"] == first["id"]


def test_creation_needs_an_idempotency_key(client, citizen, dossier):
    response = client.post(f"/api/v1/dossiers/{dossier['id']}/payments", headers=bearer(citizen))
    assert response.status_code == 422 and "Idempotency-Key" in response.json["errors"]


def test_a_dossier_without_a_fee_is_409(client, citizen):
    free = submitted(client, citizen, SIMPLE)
    response = pay(client, citizen, free["id"])
    assert response.status_code == 409 and response.json["code"] == "conflict"


def test_someone_elses_dossier_or_payment_is_404(client, citizen, dossier):
    other = sign_in(client, OTHER)
    assert pay(client, other, dossier["id"]).status_code == 404
    payment = pay(client, citizen, dossier["id"]).json
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(other)).status_code == 404


def test_a_successful_ipn_marks_the_dossier_paid_once(client, citizen, dossier, settings, session):
    payment = pay(client, citizen, dossier["id"]).json
    assert ipn(client, gateway_result(settings, payment)) == {"RspCode": "00", "Message": "Confirm Success"}
    paid = client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json
    assert paid["status"] == "succeeded" and paid["paid_at"]
    assert re.fullmatch(rf"BL-{re.escape(FEE['agency'])}-\d{{4}}-\d{{6}}", paid["receipt_no"])
    view = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert view["payment_status"] == "paid" and view["timeline"][-1]["action"] == "record_payment"
    again = ipn(client, gateway_result(settings, payment))
    assert again["RspCode"] == "02"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["receipt_no"] == paid[
        "receipt_no"]
    assert pay(client, citizen, dossier["id"], key="after").status_code == 409
    assert session.scalar(select(func.count()).select_from(PaymentCallback)
                          .where(PaymentCallback.payment_id == payment["id"])) == 2


def test_bad_signature_is_97_and_changes_nothing(client, citizen, dossier, settings):
    payment = pay(client, citizen, dossier["id"]).json
    forged = {**gateway_result(settings, payment), "vnp_ResponseCode": "00", "vnp_SecureHash": "ab" * 64}
    assert ipn(client, forged)["RspCode"] == "97"
    tampered = {**gateway_result(settings, payment), "vnp_Amount": "100"}
    assert ipn(client, tampered)["RspCode"] == "97"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "pending"


def test_a_flood_of_unsigned_ipns_stores_nothing_and_is_rate_limited(client, citizen, dossier, settings, session,
                                                                      make_app):
    payment = pay(client, citizen, dossier["id"]).json
    before = session.scalar(select(func.count()).select_from(PaymentCallback))
    for n in range(20):
        forged = {**gateway_result(settings, payment), "vnp_TransactionNo": str(n), "vnp_SecureHash": "00" * 64}
        assert ipn(client, forged)["RspCode"] == "97"
    assert session.scalar(select(func.count()).select_from(PaymentCallback)) == before
    limited = make_app(ratelimit_enabled=True, ratelimit_ipn="5 per minute").test_client()
    answers = [limited.get("/api/v1/payments/vnpay/ipn", query_string={"vnp_TxnRef": "x"}).status_code
               for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]


def test_unknown_order_is_01_and_wrong_amount_is_04(client, citizen, dossier, settings):
    payment = pay(client, citizen, dossier["id"]).json
    assert ipn(client, gateway_result(settings, {**payment, "id": "nope"}))["RspCode"] == "01"
    assert ipn(client, gateway_result(settings, {**payment, "amount_vnd": 1}))["RspCode"] == "04"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "pending"


def test_a_failed_payment_leaves_the_dossier_unpaid_and_a_new_one_may_start(client, citizen, dossier, settings):
    payment = pay(client, citizen, dossier["id"]).json
    assert ipn(client, gateway_result(settings, payment, code="51"))["RspCode"] == "00"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "failed"
    view = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert view["payment_status"] == "unpaid"
    retry = pay(client, citizen, dossier["id"], key="pay-2").json
    assert retry["id"] != payment["id"] and retry["status"] == "pending"
    cancelled = ipn(client, gateway_result(settings, retry, code="24"))
    assert cancelled["RspCode"] == "00"
    assert client.get(f"/api/v1/payments/{retry['id']}", headers=bearer(citizen)).json["status"] == "cancelled"


def test_pending_payments_expire_and_a_late_success_is_honoured(client, citizen, dossier, settings, app):
    payment = pay(client, citizen, dossier["id"]).json
    clock.advance(minutes=16)
    citizen = sign_in(client)
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "expired"
    assert ipn(client, gateway_result(settings, payment))["RspCode"] == "00"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "succeeded"


def test_the_sweep_expires_stale_payments(client, citizen, dossier, app):
    payment = pay(client, citizen, dossier["id"]).json
    clock.advance(minutes=16)
    result = app.test_cli_runner().invoke(args=["payments", "expire"])
    assert result.exit_code == 0 and "expired: 1" in result.output
    citizen = sign_in(client)
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "expired"


def test_return_result_waits_for_the_payment(client, citizen, dossier, settings, session):
    official = official_of(client, session, agency=FEE["agency"])
    for action in ("receive", "start_processing", "approve"):
        act(client, official, dossier["id"], action)
    assert act(client, official, dossier["id"], "return_result").status_code == 402
    payment = pay(client, citizen, dossier["id"]).json
    ipn(client, gateway_result(settings, payment))
    assert act(client, official, dossier["id"], "return_result").status_code == 200


@pytest.mark.parametrize(("lang", "text"), [(None, "Giao dịch thành công"), ("en", "Payment successful")])
def test_the_return_page_shows_the_result_and_changes_nothing(client, citizen, dossier, settings, lang, text):
    payment = pay(client, citizen, dossier["id"]).json
    query = {**gateway_result(settings, payment), **({"lang": lang} if lang else {})}
    page = client.get("/api/v1/payments/vnpay/return", query_string=query)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert text in html and "200.000 ₫" in html
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=bearer(citizen)).json["status"] == "pending"
    forged = client.get("/api/v1/payments/vnpay/return", query_string={**query, "vnp_Amount": "1"})
    assert "Chữ ký không hợp lệ" in forged.get_data(as_text=True) or "Invalid signature" in forged.get_data(
        as_text=True)


def test_the_return_page_fits_a_phone(client, citizen, dossier, settings):
    payment = pay(client, citizen, dossier["id"]).json
    html = client.get("/api/v1/payments/vnpay/return", query_string=gateway_result(settings, payment)).get_data(
        as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # No fixed widths that a 360-px screen could not hold: only relative max-widths.
    assert not re.search(r"(?<!max-)width:\s*\d+px", html)
    assert "overflow-wrap: anywhere" in html


def test_the_mock_bank_page_checks_the_signature_and_shows_the_amount(client, citizen, dossier):
    payment = pay(client, citizen, dossier["id"]).json
    url = urlsplit(payment["payment_url"])
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and "200.000 ₫" in page.get_data(as_text=True)
    assert client.get(f"{url.path}?{url.query.replace('vnp_Amount=20000000', 'vnp_Amount=100')}").status_code == 422


def test_the_mock_bank_can_be_switched_off(make_app):
    assert make_app(payment_mock_enabled=False).test_client().get("/mock-gateway/pay").status_code == 404


def test_a_fee_paid_twice_is_marked_for_refund_listed_and_counted(client, citizen, dossier, settings, session):
    from services.calendar import TZ
    from services.people.identity import grant_staff
    from tests.helpers import ADMIN

    first = pay(client, citizen, dossier["id"], key="first").json
    clock.advance(minutes=16)  # the first expires; the citizen pays again and that one succeeds
    citizen = sign_in(client)
    second = pay(client, citizen, dossier["id"], key="second").json
    assert second["id"] != first["id"]
    assert ipn(client, gateway_result(settings, second))["RspCode"] == "00"
    # Then the bank's late success for the first arrives: the money moved, so it is honoured, and owed back.
    assert ipn(client, gateway_result(settings, first, vnp_TransactionNo="14123457"))["RspCode"] == "00"
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    admin = sign_in(client, ADMIN)
    refunds = client.get("/api/v1/admin/payments/refunds", headers=bearer(admin)).json["items"]
    assert [(r["id"], r["refund_due"], r["dossier_code"]) for r in refunds] == [(first["id"], True, dossier["code"])]
    assert client.get("/api/v1/admin/payments/refunds", headers=bearer(citizen)).status_code == 403
    today = clock.now().astimezone(TZ).date().isoformat()
    report = client.get(f"/api/v1/admin/stats?from={today}&to={today}", headers=bearer(admin)).json
    assert report["total"]["refunds_due"] == 1
    mine = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert mine["payment_status"] == "paid"


def test_the_app_is_offered_pay_while_a_fee_is_due(client, citizen, dossier, settings):
    assert sorted(dossier["allowed_actions"]) == ["pay", "withdraw"]
    payment = pay(client, citizen, dossier["id"]).json
    assert ipn(client, gateway_result(settings, payment))["RspCode"] == "00"
    paid = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=bearer(citizen)).json
    assert paid["allowed_actions"] == ["withdraw"]
    free = submitted(client, citizen, SIMPLE)
    assert free["allowed_actions"] == ["withdraw"]
