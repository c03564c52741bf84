"""The receipt slip (form 01) opens in Chromium's own PDF viewer, headless (Debian's Chromium through
Playwright, as the payment test drives it): the viewer reads the document's title and its one page, and
draws it; the screenshot is tests/artifacts/receipt-slip-chromium.png. pdftoppm's rendering of the same
slip is in tests/api/test_desk_documents.py.

The slip is made in the test's own (rolled back) transaction and opened from a file: the viewer needs
only its bytes, not the served app.
"""

from __future__ import annotations

import time

import pytest

from tests.api.test_desk_documents import dark_share, receipt_slip
from tests.browser.test_payment_flow import ARTIFACTS, CHROMIUM, launch
from tests.dossier_helpers import official_of
from tests.helpers import sign_in

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")
VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chromium's built-in PDF viewer


def test_the_receipt_slip_opens_in_chromiums_pdf_viewer(client, session):
    from PIL import Image

    citizen, official = sign_in(client), official_of(client, session)
    dossier, _, pdf = receipt_slip(client, citizen, official)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "receipt-slip-for-chromium.pdf"
    path.write_bytes(pdf)
    shot = ARTIFACTS / "receipt-slip-chromium.png"
    shot.unlink(missing_ok=True)
    with launch() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        response = page.goto(path.as_uri())
        assert response is not None and response.headers["content-type"] == "application/pdf"
        deadline = time.monotonic() + 15
        while not (viewers := [f for f in page.frames if f.url.startswith(VIEWER)]):
            assert time.monotonic() < deadline, [f.url for f in page.frames]
            page.wait_for_timeout(100)
        [viewer] = viewers
        title = viewer.locator("#title")
        title.wait_for(state="attached", timeout=15_000)
        deadline = time.monotonic() + 15
        while not title.inner_text().startswith("Mẫu 01 - "):  # the PDF's own title: the viewer parsed it
            assert time.monotonic() < deadline, title.inner_text()
            page.wait_for_timeout(100)
        assert title.inner_text() == f"Mẫu 01 - {dossier['code']}"
        assert viewer.locator("viewer-page-selector").get_attribute("style") == "--page-length-digits: 1;"
        # The page is drawn a moment after the document is read: wait until the white page shows text.
        while True:
            page.screenshot(path=str(shot))
            with Image.open(shot) as picture:
                page_area = picture.crop((320, 80, 880, 500))  # the top of the page, right of the thumbnails
                if 0.01 < dark_share(page_area) < 0.5:
                    break
            assert time.monotonic() < deadline + 15, "the viewer did not draw the page"
            page.wait_for_timeout(200)
