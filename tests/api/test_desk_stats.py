"""Decision 766's figures from a mixed set (issue 13): online, desk and postal dossiers; fees paid online,
at the desk, and not at all; papers digitised or not; results returned by post. Every figure is
compared with a count made by hand in the comments."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from services.calendar import TZ
from services.clock import clock
from services.models import Dossier, Procedure, User
from services.people.identity import grant_staff
from tests.helpers import ADMIN, bearer, sign_in

A = "000.20.24.H15"


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=TZ)


def test_every_figure_of_a_mixed_set_matches_the_hand_count(client, session):
    applicant = User(cccd="049190002222", full_name="Phan Thị Lụa", date_of_birth=date(1990, 1, 1), gender="female",
                     eid_level=0, eid_subject="")
    session.add(applicant)
    session.flush()
    procedure = session.scalar(select(Procedure).where(Procedure.code == "1.004873"))

    def make(**fields):
        values = {"status": "received", "received_at": at(3), "due_at": at(28, 17), **fields}
        session.add(Dossier(procedure=procedure, agency_id=procedure.agency_id, applicant_id=applicant.id, form={},
                            **values))

    done = {"status": "completed", "completed_at": at(10), "closed_at": at(10), "due_at": at(12, 17),
            "processing_days": 5}
    # Online: 1 completed, fee paid online, digitised; 2 completed, free, digitised;
    # 3 received, digitised.
    make(channel="online", digitised_at=at(2), fee_vnd=8000, paid_at=at(4), paid_via="online", **done)
    make(channel="online", digitised_at=at(2), **done)
    make(channel="online", digitised_at=at(2))
    # Desk: 4 completed, fee paid at the desk, papers scanned, result returned by post;
    # 5 completed, fee paid at the desk, not digitised, returned at the desk;
    # 6 received, nothing scanned, fee due.
    make(channel="desk", return_method="postal", digitised_at=at(3), fee_vnd=200_000, paid_at=at(3),
         paid_via="desk", **done)
    make(channel="desk", return_method="desk", fee_vnd=200_000, paid_at=at(3), paid_via="desk", **done)
    make(channel="desk", fee_vnd=200_000)
    # Postal: 7 completed, fee paid online, scanned, returned by post; 8 completed with its fee unpaid
    # (a fee waived later by hand would look so: it counts in the fee base and in neither payment).
    make(channel="postal", return_method="postal", digitised_at=at(5), fee_vnd=8000, paid_at=at(6),
         paid_via="online", **done)
    make(channel="postal", return_method="postal", fee_vnd=8000, **done)
    # 9: received in October: counts in nothing of November's receipts.
    make(channel="desk", received_at=datetime(2026, 10, 30, 9, tzinfo=TZ), due_at=at(28, 17))
    session.flush()
    clock.freeze(datetime(2026, 12, 1, 3, tzinfo=UTC))
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    body = client.get("/api/v1/admin/stats", headers=bearer(sign_in(client, ADMIN)),
                      query_string={"from": "2026-11-01", "to": "2026-11-30", "agency_code": A}).json
    [item] = body["items"]
    # Received in November: 1-8 = 8 (online 3, desk 3, postal 2); digitised: 1, 2, 3, 4, 7 = 5.
    # Completed: 1, 2, 4, 5, 7, 8 = 6, all on time (completed 10/11, due 12/11); with a fee: 1, 4, 5, 7, 8 = 5;
    # paid online: 1, 7 = 2; at the desk: 4, 5 = 2; unpaid: 8. Returned by post: 4, 7, 8 = 3.
    # Open and past due at the end of November (28/11): 3, 6 and 9.
    # (The wallet's reuse figures are counted by tests/api/test_wallet_stats.py.)
    wallet = ("submitted", "submitted_reusing", "reuse_rate")
    assert {k: v for k, v in item.items() if k not in ("agency_code", "agency_name", *wallet)} == {
        "received": 8, "completed": 6, "completed_on_time": 6, "completed_late": 0, "overdue_open": 3,
        "rejected": 0, "withdrawn": 0, "refunds_due": 0, "on_time_rate": 1.0, "online_payment_rate": 0.4,
        "avg_processing_days": 5.0, "satisfaction_avg": None, "received_online": 3, "received_desk": 3,
        "received_postal": 2, "online_rate": 0.375, "digitised": 5, "digitised_rate": 0.625, "desk_payment": 2,
        "desk_payment_rate": 0.4, "returned_by_post": 3}
    # The CSV carries the same figures.
    csv_text = client.get("/api/v1/admin/stats.csv", headers=bearer(sign_in(client, ADMIN)),
                          query_string={"from": "2026-11-01", "to": "2026-11-30", "agency_code": A}).text
    header, row = csv_text.lstrip("\ufeff").splitlines()[:2]
    figures = dict(zip(header.split(","), row.split(","), strict=True))
    assert (figures["online_rate"], figures["digitised_rate"], figures["desk_payment"]) == ("0.375", "0.625", "2")


def test_the_dashboard_shows_the_decision_766_figures(client, session):
    from tests.api.test_dashboard import consent
    from tests.api.test_desk import file
    from tests.dossier_helpers import official_of
    from tests.helpers import OFFICIAL

    centre = official_of(client, session, agency=A)
    file(client, centre)  # one desk dossier, nothing scanned: online share 0 %, digitised 0 %
    consent(client, OFFICIAL)
    html = client.get("/admin/dashboard").get_data(as_text=True)
    for card in ("total-online-rate", "total-digitised-rate", "total-payment-rates"):
        assert f'id="{card}"' in html
    assert "<th>Tại quầy</th>" in html and "<th>Trả qua bưu chính</th>" in html
    row = html.split(f'<tr data-agency="{A}"')[1].split("</tr>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[12:19] == ["0", "1", "0", "0,0 %", "0,0 %", "0", "0"]  # after the reuse column
