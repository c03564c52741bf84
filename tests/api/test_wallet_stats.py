"""reuse_rate: submitted dossiers with at least one paper taken from the wallet / submitted, per agency and
for the province, against a hand count; in the API, the CSV and the dashboard."""

from __future__ import annotations

import csv
import io
import re

import pytest

from services.calendar import TZ
from services.clock import clock
from services.people.identity import grant_staff
from tests.api.test_dashboard import consent
from tests.dossier_helpers import FEE, SIMPLE, draft, upload
from tests.helpers import ADMIN, OFFICIAL, bearer, sign_in
from tests.wallet_helpers import from_wallet, keep

A, B = SIMPLE["agency"], FEE["agency"]


def submit(client, tokens, dossier_id):
    response = client.post(f"/api/v1/dossiers/{dossier_id}/submit", headers=bearer(tokens))
    assert response.status_code == 200, response.json


@pytest.fixture
def counted(client, session):
    """Dossiers whose reuse figures are worked out by hand in the comments."""
    citizen = sign_in(client)
    tthn = keep(client, citizen, "to_khai_tthn").json
    lltp = keep(client, citizen, "to_khai_lltp").json
    # A1, A2: submitted with the paper taken from the wallet (A2 also uploads another copy: still one dossier).
    for extra in (False, True):
        d = draft(client, citizen, papers=False)
        from_wallet(client, citizen, d["id"], tthn["id"], "to_khai_tthn")
        if extra:
            upload(client, citizen, d["id"], "to_khai_tthn")
        submit(client, citizen, d["id"])
    # A3: uploaded only. A4: taken from the wallet, then removed, then uploaded: it reuses nothing.
    submit(client, citizen, draft(client, citizen)["id"])
    d = draft(client, citizen, papers=False)
    attached = from_wallet(client, citizen, d["id"], tthn["id"], "to_khai_tthn").json
    client.delete(f"/api/v1/dossiers/{d['id']}/attachments/{attached['id']}", headers=bearer(citizen))
    upload(client, citizen, d["id"], "to_khai_tthn")
    submit(client, citizen, d["id"])
    # A draft with a wallet paper, never submitted: not counted at all.
    from_wallet(client, citizen, draft(client, citizen, papers=False)["id"], tthn["id"], "to_khai_tthn")
    # B1: the police's procedure, its paper from the wallet; the wallet item deleted afterwards (still counts).
    d = draft(client, citizen, FEE, papers=False)
    from_wallet(client, citizen, d["id"], lltp["id"], "to_khai_lltp")
    submit(client, citizen, d["id"])
    client.delete(f"/api/v1/me/wallet/{lltp['id']}", headers=bearer(citizen))
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    today = clock.now().astimezone(TZ).date().isoformat()
    return sign_in(client, ADMIN), {"from": today, "to": today}


HAND = {A: (4, 2, 0.5), B: (1, 1, 1.0), "": (5, 3, 0.6)}


def figures(row: dict) -> tuple:
    return (int(row["submitted"]), int(row["submitted_reusing"]),
            None if row["reuse_rate"] in (None, "") else float(row["reuse_rate"]))


def test_reuse_rate_matches_the_hand_count(client, counted):
    admin, today = counted
    body = client.get("/api/v1/admin/stats", headers=bearer(admin), query_string=today).json
    items = {i["agency_code"]: i for i in body["items"]}
    assert figures(items[A]) == HAND[A] and figures(items[B]) == HAND[B]
    assert figures(body["total"]) == HAND[""]
    assert figures(items["000.00.00.H15"]) == (0, 0, None)


def test_reuse_rate_in_the_csv(client, counted):
    admin, today = counted
    text = client.get("/api/v1/admin/stats.csv", headers=bearer(admin), query_string=today).get_data(as_text=True)
    rows = {r["agency_code"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert figures(rows[A]) == HAND[A] and figures(rows[""]) == HAND[""]


def test_reuse_rate_on_the_dashboard(client, session, counted):
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=A)
    consent(client, OFFICIAL)
    html = client.get("/admin/dashboard").get_data(as_text=True)
    assert "Tái sử dụng giấy tờ" in html
    row = re.search(rf'<tr data-agency="{re.escape(A)}".*?</tr>', html, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td>", row)[11] == "50,0 %"  # the reuse column
