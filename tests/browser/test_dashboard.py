"""An official signs in to the dashboard in a real browser (Debian's headless Chromium) through the mock
eID consent page, and sees the figures and both charts drawn by the locally served chart library.

The data is committed (a browser and the eID back channel need it), under people of its own and at an
agency no other test commits dossiers to (the concurrency tests count dossier codes of theirs).
"""

from __future__ import annotations

import io

import pytest
import requests

from tests.browser.test_payment_flow import ARTIFACTS, CHROMIUM, launch
from tests.dossier_helpers import PDF

OFFICIAL = {"cccd": "049088007777", "full_name": "Đặng Văn Khoa", "date_of_birth": "1988-02-02", "gender": "male",
            "eid_level": 2}
APPLICANT = {"cccd": "049195008888", "full_name": "Ngô Thị Mai", "date_of_birth": "1995-06-06", "gender": "female",
             "eid_level": 2}

# Xác nhận thông tin về cư trú: free, eID level 1, at Công an tỉnh.
PROCEDURE = {"code": "1.004229", "agency": "000.00.23.H15", "document": "to_khai_cu_tru",
             "form": {"purpose": "Nhập học"}}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")


def api_session(base: str, person: dict) -> requests.Session:
    http = requests.Session()
    id_token = http.post(f"{base}/mock-eid/token", json=person).json()["id_token"]
    http.headers["Authorization"] = "Bearer " + http.post(f"{base}/api/v1/auth/eid",
                                                          json={"id_token": id_token}).json()["access_token"]
    return http


def completed_dossier(base: str) -> None:
    citizen, official = api_session(base, APPLICANT), api_session(base, OFFICIAL)
    dossier = citizen.post(f"{base}/api/v1/dossiers", json={"procedure_code": PROCEDURE["code"],
                                                            "form": PROCEDURE["form"]}).json()
    citizen.post(f"{base}/api/v1/dossiers/{dossier['id']}/attachments",
                 data={"document_type": PROCEDURE["document"]},
                 files={"file": ("to-khai.pdf", io.BytesIO(PDF), "application/pdf")})
    assert citizen.post(f"{base}/api/v1/dossiers/{dossier['id']}/submit").status_code == 200
    for action in ("receive", "start_processing", "approve", "return_result"):
        etag = official.get(f"{base}/api/v1/admin/dossiers/{dossier['id']}").headers["ETag"]
        done = official.post(f"{base}/api/v1/admin/dossiers/{dossier['id']}/actions", json={"action": action},
                             headers={"If-Match": etag})
        assert done.status_code == 200, done.text


def test_an_official_reads_the_dashboard_in_a_browser(app, settings):
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["staff", "grant", OFFICIAL["cccd"], "--role", "official", "--agency",
                                  PROCEDURE["agency"]])
    assert granted.exit_code == 0, granted.output
    base = settings.base_url
    completed_dossier(base)

    ARTIFACTS.mkdir(exist_ok=True)
    with launch() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        page.goto(f"{base}/admin/dashboard")
        page.wait_for_url("**/mock-eid/authorize**")  # not signed in: off to the eID provider
        for field in ("full_name", "cccd", "date_of_birth"):
            page.fill(f"#{field}", OFFICIAL[field])
        page.select_option("#gender", OFFICIAL["gender"])
        page.click("button.ok")
        page.wait_for_url(f"{base}/admin/dashboard")
        page.wait_for_selector("body[data-charts-ready=true]")
        row = page.locator(f'#kpi-table tr[data-agency="{PROCEDURE["agency"]}"] td')
        assert int(row.nth(0).inner_text()) >= 1 and int(row.nth(1).inner_text()) >= 1  # received, completed
        assert row.nth(7).inner_text() == "100,0 %"  # on time
        for chart in ("on-time-chart", "weekly-chart"):  # Chart.js sized and drew each canvas
            assert page.evaluate(f"Chart.getChart('{chart}') !== undefined")
            assert page.locator(f"#{chart}").bounding_box()["height"] > 100
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        page.click("text=Đăng xuất")
        page.wait_for_selector("#message")
        page.goto(f"{base}/admin/dashboard")
        page.wait_for_url("**/mock-eid/authorize**")  # signed out: the cookies are gone
