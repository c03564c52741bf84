"""Paying a dossier's fee: create a payment, follow it; the gateway's IPN and the return page."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from api.blueprint import Blueprint
from api.context import calendar, get_session, settings
from api.guards import current_actor
from api.http import IDEMPOTENCY_HEADER, idempotent_request, json_response
from api.i18n import current_language
from api.openapi import documented
from schemas.common import encode_cursor
from schemas.payments import CreatedPaymentSchema, IpnAnswerSchema, PaymentSchema, RefundArgs, RefundPageSchema
from services.errors import ValidationFailed
from services.money import payments, vnpay

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Fee payments")
admin_blp = Blueprint("admin_payments", __name__, url_prefix="/api/v1/admin/payments",
                      description="Payments that need an administrator")
gateway_blp = Blueprint("vnpay", __name__, url_prefix="/api/v1/payments/vnpay",
                        description="The payment gateway's callbacks (VNPay protocol)")
_payment = PaymentSchema()

RETURN_TEXT = {
    "vi": {"title": "Kết quả thanh toán", "amount": "Số tiền", "order": "Nội dung", "reference": "Mã giao dịch",
           "invalid": "Chữ ký không hợp lệ: không xác nhận được kết quả.",
           "note": "Kết quả chính thức được cập nhật trong ứng dụng khi ngân hàng xác nhận."},
    "en": {"title": "Payment result", "amount": "Amount", "order": "Order", "reference": "Reference",
           "invalid": "Invalid signature: the result cannot be confirmed.",
           "note": "The app shows the official result once the bank confirms it."},
}


@blp.post("/dossiers/<string:dossier_id>/payments")
@blp.doc(parameters=[{**IDEMPOTENCY_HEADER, "required": True}])
@blp.response(201, CreatedPaymentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def create(dossier_id: str) -> Response:
    """Start paying the dossier's fee: open `payment_url`; while one is pending, it comes back."""
    actor = current_actor()
    idempotent = idempotent_request(actor.user_id)
    if idempotent is None:
        raise ValidationFailed("Idempotency-Key is required", errors={"Idempotency-Key": ["Required."]})
    config = settings()
    payment = payments.create(get_session(), actor, dossier_id, request=idempotent, settings=config)
    url = payments.payment_url(payment, config, client_ip=request.remote_addr or "", locale=current_language())
    return json_response({**_payment.dump(payment), "payment_url": url}, 201)


@blp.get("/payments/<string:payment_id>")
@blp.response(200, PaymentSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get(payment_id: str) -> Any:
    """A payment the caller made."""
    return payments.get(get_session(), current_actor(), payment_id)


@admin_blp.get("/refunds")
@admin_blp.arguments(RefundArgs, location="query", as_kwargs=True)
@admin_blp.response(200, RefundPageSchema)
def refunds(limit: int, cursor: list[Any] | None = None) -> dict[str, Any]:
    """Fees paid twice (a late success of an expired payment after a newer one succeeded): the second
    payment is owed back to the payer; newest first."""
    page = payments.refunds_due(get_session(), after=cursor, limit=limit)
    return {"items": page.items, "next_cursor": encode_cursor(page.next_key)}


@gateway_blp.get("/ipn")
@gateway_blp.response(200, IpnAnswerSchema)
def ipn() -> dict[str, str]:
    """Server-to-server confirmation from the gateway (signed); answers VNPay's RspCode."""
    params = {k: v for k, v in request.args.items() if k.startswith("vnp_")}
    return payments.ipn(get_session(), params, settings=settings(), calendar=calendar()).as_json()


@gateway_blp.get("/return")
@gateway_blp.response(200, description="an HTML page with the result", content_type="text/html")
@documented(200, content={"text/html": {"schema": {"type": "string"}}})
def return_page() -> Response:
    """Where the payer's browser lands: shows the (signed) result, changes nothing."""
    lang = "en" if request.args.get("lang") == "en" or request.args.get("vnp_Locale") == "en" else "vi"
    params = {k: v for k, v in request.args.items() if k.startswith("vnp_")}
    valid = vnpay.verify(params, settings().vnpay_hash_secret)
    code = params.get("vnp_ResponseCode", "99") if valid else "97"
    text = RETURN_TEXT[lang]
    vi, en = vnpay.RESPONSE_TEXT.get(code, vnpay.RESPONSE_TEXT["99"])
    amount = int(params["vnp_Amount"]) // 100 if valid and params.get("vnp_Amount", "").isdigit() else 0
    html = render_template("payments/return.html", lang=lang, t=text, valid=valid, code=code,
                           success=valid and code == "00", headline=(en if lang == "en" else vi) if valid
                           else text["invalid"], amount=vnpay.format_vnd(amount),
                           order_info=params.get("vnp_OrderInfo", ""), reference=params.get("vnp_TxnRef", ""))
    return Response(html, mimetype="text/html")
