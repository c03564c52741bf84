"""The mock bank page: a stand-in for the gateway's payment page (like the mock eID provider).

`GET /mock-gateway/pay?vnp_…` checks our signature and shows the order; Pay or Cancel sends the
signed IPN to our server (server to server), then redirects the browser to `vnp_ReturnUrl` with the
signed result. Mounted by `standins.register` unless SMARTQN_PAYMENT_MOCK_ENABLED=false; kept out of
the OpenAPI document.
"""

from __future__ import annotations

import secrets
import urllib.request
from typing import Any

from flask import Blueprint, redirect, render_template, request

from api.context import settings
from services.clock import clock
from services.errors import ValidationFailed
from services.money import vnpay

blp = Blueprint("mock_gateway", __name__, url_prefix="/mock-gateway", template_folder="templates")


def _checked(source: Any) -> dict[str, str]:
    params = {k: v for k, v in source.items() if k.startswith("vnp_")}
    if not vnpay.verify(params, settings().vnpay_hash_secret):
        raise ValidationFailed("invalid signature", errors={"vnp_SecureHash": ["Invalid signature."]})
    if not params.get("vnp_Amount", "").isdigit() or not params.get("vnp_ReturnUrl"):
        raise ValidationFailed("incomplete payment request", errors={"vnp_Amount": ["Required."]})
    return params


@blp.get("/pay")
def pay() -> str:
    params = _checked(request.args)
    return render_template("mock_gateway/pay.html", params=params, merchant=params.get("vnp_TmnCode", ""),
                           order_info=params.get("vnp_OrderInfo", ""),
                           amount=vnpay.format_vnd(int(params["vnp_Amount"]) // 100))


@blp.post("/pay")
def pay_submit() -> Any:
    config = settings()
    order = _checked(request.form)
    paid = request.form.get("decision") == "pay"
    result = vnpay.signed({
        "vnp_Version": vnpay.VERSION, "vnp_TmnCode": order.get("vnp_TmnCode", ""), "vnp_Amount": order["vnp_Amount"],
        "vnp_TxnRef": order.get("vnp_TxnRef", ""), "vnp_OrderInfo": order.get("vnp_OrderInfo", ""),
        "vnp_ResponseCode": "00" if paid else "24", "vnp_TransactionStatus": "00" if paid else "02",
        "vnp_TransactionNo": str(secrets.randbelow(10**8)), "vnp_BankCode": "NCB", "vnp_CardType": "ATM",
        "vnp_PayDate": vnpay.timestamp(clock.now()),
    }, config.vnpay_hash_secret)
    # Server to server first, as the real gateway does; the browser's return changes nothing.
    with urllib.request.urlopen(f"{config.vnpay_ipn_url}?{vnpay.query(result)}", timeout=10) as response:
        response.read()
    separator = "&" if "?" in order["vnp_ReturnUrl"] else "?"
    return redirect(f"{order['vnp_ReturnUrl']}{separator}{vnpay.query(result)}", code=302)
