"""VNPay's protocol (version 2.1.0): payment URLs and signatures, as DOMAIN.md describes them.

The signature is HMAC-SHA512, hex, over the `vnp_` parameters sorted by name and URL-encoded as a
query string (spaces as `+`), `vnp_SecureHash` and `vnp_SecureHashType` left out. This module is
the gateway interface's VNPay implementation; PayGov intermediaries would sit beside it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote_plus, urlencode

from services.calendar import TZ

VERSION = "2.1.0"
EXCLUDED = {"vnp_SecureHash", "vnp_SecureHashType"}
RESPONSE_TEXT = {  # vnp_ResponseCode → (vi, en)
    "00": ("Giao dịch thành công", "Payment successful"),
    "11": ("Hết thời gian chờ thanh toán", "Payment timed out"),
    "24": ("Khách hàng hủy giao dịch", "Cancelled by the customer"),
    "51": ("Tài khoản không đủ số dư", "Insufficient funds"),
    "65": ("Vượt hạn mức giao dịch trong ngày", "Daily limit exceeded"),
    "99": ("Lỗi không xác định", "Unknown error"),
}


def canonical(params: Mapping[str, str]) -> str:
    signed = sorted((k, str(v)) for k, v in params.items() if k.startswith("vnp_") and k not in EXCLUDED and v != "")
    return urlencode(signed, quote_via=quote_plus)


def sign(params: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(params).encode(), hashlib.sha512).hexdigest()


def signed(params: Mapping[str, str], secret: str) -> dict[str, str]:
    return {**params, "vnp_SecureHash": sign(params, secret)}


def verify(params: Mapping[str, str], secret: str) -> bool:
    """Constant-time comparison of the received hash with ours."""
    given = str(params.get("vnp_SecureHash", "")).lower()
    return hmac.compare_digest(given.encode(), sign(params, secret).encode())


def timestamp(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y%m%d%H%M%S")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=TZ)


def query(params: Mapping[str, str]) -> str:
    return urlencode(sorted(params.items()), quote_via=quote_plus)


def format_vnd(amount: int) -> str:
    """200000 → "200.000 ₫" (Vietnamese groups thousands with dots)."""
    return f"{amount:,}".replace(",", ".") + " ₫"
