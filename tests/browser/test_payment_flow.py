"""A real browser pays a fee: headless Chromium (Debian's) driven by Playwright through the mock bank.

The app is served over HTTP by the suite (tests/conftest.py `app`); the data here is committed, as a
browser and a gateway callback need, under a citizen of its own.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.dossier_helpers import PDF

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PERSON = {"cccd": "079301009999", "full_name": "Huỳnh Thị Lan", "date_of_birth": "2001-05-05",
          "gender": "female", "eid_level": 2}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")


@contextmanager
def launch() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        try:
            yield browser
        finally:
            browser.close()


def test_paying_through_the_mock_bank_in_a_browser(app, settings):
    base = settings.base_url
    http = requests.Session()
    id_token = http.post(f"{base}/mock-eid/token", json=PERSON).json()["id_token"]
    token = http.post(f"{base}/api/v1/auth/eid", json={"id_token": id_token}).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    dossier = http.post(f"{base}/api/v1/dossiers", json={"procedure_code": "2.000488", "form": {
        "full_name": PERSON["full_name"], "cccd": PERSON["cccd"], "purpose": "Du học", "copies": 1}}).json()
    upload = http.post(f"{base}/api/v1/dossiers/{dossier['id']}/attachments", data={"document_type": "to_khai_lltp"},
                       files={"file": ("to-khai.pdf", io.BytesIO(PDF), "application/pdf")})
    assert upload.status_code == 201, upload.text
    assert http.post(f"{base}/api/v1/dossiers/{dossier['id']}/submit").status_code == 200
    payment = http.post(f"{base}/api/v1/dossiers/{dossier['id']}/payments",
                        headers={"Idempotency-Key": "browser-1"}).json()

    ARTIFACTS.mkdir(exist_ok=True)
    with launch() as browser:
        page = browser.new_page()
        page.goto(payment["payment_url"])
        assert page.locator("#amount").inner_text() == "200.000 ₫"
        page.screenshot(path=str(ARTIFACTS / "mock-bank.png"))
        page.click("#pay")
        page.wait_for_selector("#result")
        assert page.locator("#result").get_attribute("data-code") == "00"
        assert "Giao dịch thành công" in page.locator("#result").inner_text()
        page.screenshot(path=str(ARTIFACTS / "payment-return.png"))

    paid = http.get(f"{base}/api/v1/payments/{payment['id']}").json()
    assert paid["status"] == "succeeded" and paid["receipt_no"]
    assert http.get(f"{base}/api/v1/dossiers/{dossier['id']}").json()["payment_status"] == "paid"
