"""Migration 0009 upgrades a database at 0008 that holds dossiers, and goes down and up again, keeping them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, inspect, make_url, select, text

from services import migrations
from services.db import make_engine

T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
DUE = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
PROVINCE, COMMUNE, DEPARTMENT, P_COMMUNE, P_DEPT, USER, RECEIVED, DRAFT = (str(uuid.uuid4()) for _ in range(8))


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own: a file on SQLite, a fresh database beside the test one on PostgreSQL."""
    test_url = os.environ.get("SMARTQN_TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'mig0009.db'}"
        return
    base = make_url(test_url)
    name = f"{base.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def seed_0008(engine: Engine) -> None:
    t = MetaData()
    t.reflect(engine)
    stamps = {"created_at": T0, "updated_at": T0}
    procedure = {"search_name": "x", "field": "Hộ tịch", "online_level": "full", "min_eid_level": 2,
                 "description": "", "form_schema": {"fields": []}, "active": True, **stamps}
    dossier = {"applicant_id": USER, "fee_vnd": 8000, "created_at": T0, "status_changed_at": T0,
               "supplement_count": 0, "version": 1, "agency_id": COMMUNE, "procedure_id": P_COMMUNE}
    with engine.begin() as c:
        c.execute(t.tables["agencies"].insert(), [
            {"id": PROVINCE, "code": "UBND-T", "name": "UBND tỉnh", "level": "province", "parent_id": None,
             "active": True, **stamps},
            {"id": COMMUNE, "code": "UBND-X", "name": "UBND xã", "level": "commune", "parent_id": PROVINCE,
             "active": True, **stamps},
            {"id": DEPARTMENT, "code": "SO-TP", "name": "Sở Tư pháp", "level": "department",
             "parent_id": PROVINCE, "active": True, **stamps}])
        c.execute(t.tables["procedures"].insert(), [
            {**procedure, "id": P_COMMUNE, "code": "P-X", "name": "Khai sinh", "agency_id": COMMUNE,
             "processing_days": 3, "fee_vnd": 8000},
            {**procedure, "id": P_DEPT, "code": "P-S", "name": "Lý lịch tư pháp", "agency_id": DEPARTMENT,
             "processing_days": 10, "fee_vnd": 0}])
        c.execute(t.tables["users"].insert(), {
            "id": USER, "cccd": "001099000001", "full_name": "Nguyễn Văn A", "date_of_birth": date(1990, 1, 1),
            "gender": "male", "eid_level": 2, "eid_subject": "sub-1", "created_at": T0, "last_sign_in_at": T0})
        c.execute(t.tables["dossiers"].insert(), {
            **dossier, "id": RECEIVED, "code": "X-261102-0001", "status": "received", "form": {"name": "A"},
            "submitted_at": T0, "received_at": T0 + timedelta(hours=1), "due_at": DUE, "queue_at": T0,
            "processing_days": 3})
        c.execute(t.tables["dossiers"].insert(), {**dossier, "id": DRAFT, "status": "draft", "form": {}})
        c.execute(t.tables["dossier_timeline"].insert(), [
            {"id": str(uuid.uuid4()), "dossier_id": RECEIVED, "seq": 1, "action": "submit",
             "from_status": "draft", "status": "submitted", "actor_id": USER, "actor_role": "citizen", "at": T0},
            {"id": str(uuid.uuid4()), "dossier_id": RECEIVED, "seq": 2, "action": "receive",
             "from_status": "submitted", "status": "received", "actor_id": None, "actor_role": "official",
             "at": T0 + timedelta(hours=1)}])
        c.execute(t.tables["payments"].insert(), {
            "id": str(uuid.uuid4()), "dossier_id": RECEIVED, "payer_id": USER, "amount_vnd": 8000,
            "status": "paid", "created_at": T0, "expires_at": T0 + timedelta(minutes=15), "paid_at": T0,
            "receipt_no": "BL-2026-000001", "gateway": "vnpay"})


def snapshot(engine: Engine) -> dict[str, object]:
    t = MetaData()
    t.reflect(engine)
    with engine.connect() as c:
        dossiers = {r.id: r._asdict() for r in c.execute(select(t.tables["dossiers"]))}
        procedures = {r.id: r._asdict() for r in c.execute(select(t.tables["procedures"]))}
        agencies = {r.id: r._asdict() for r in c.execute(select(t.tables["agencies"]))}
        timeline = c.execute(select(t.tables["dossier_timeline"].c.seq, t.tables["dossier_timeline"].c.status)
                             .where(t.tables["dossier_timeline"].c.dossier_id == RECEIVED)
                             .order_by(t.tables["dossier_timeline"].c.seq)).all()
        payments = c.execute(select(t.tables["payments"].c.dossier_id)).scalars().all()
        counts = {name: c.execute(select(t.tables[name])).all() for name in ("agency_wards", "procedure_agencies")
                  if name in t.tables}
    return {"dossiers": dossiers, "procedures": procedures, "agencies": agencies, "timeline": timeline,
            "payments": payments, "new_tables": counts}


def assert_dossiers_kept(s: dict) -> None:
    received, draft = s["dossiers"][RECEIVED], s["dossiers"][DRAFT]
    assert (received["code"], received["status"], received["form"]) == ("X-261102-0001", "received", {"name": "A"})
    assert utc(received["due_at"]) == DUE and utc(received["received_at"]) == T0 + timedelta(hours=1)
    assert (draft["code"], draft["status"], draft["form"], draft["due_at"]) == (None, "draft", {}, None)
    assert [tuple(r) for r in s["timeline"]] == [(1, "submitted"), (2, "received")]
    assert s["payments"] == [RECEIVED]


def test_0009_upgrades_a_database_with_dossiers_and_downgrades_again(scratch_url):
    migrations.upgrade(scratch_url, "0008")
    engine = make_engine(scratch_url)
    try:
        seed_0008(engine)
        migrations.upgrade(scratch_url, "head")
        s = snapshot(engine)
        assert_dossiers_kept(s)
        for d in s["dossiers"].values():
            assert (d["channel"], d["return_method"], d["receiving_centre_id"], d["variant"]) == \
                ("online", "online", None, None)
        commune, dept = s["procedures"][P_COMMUNE], s["procedures"][P_DEPT]
        assert (commune["level"], dept["level"]) == ("commune", "province")
        assert commune["processing_days"] == 3 and dept["processing_days"] == 10
        assert commune["fee"] == {"kind": "flat", "amount_vnd": 8000}
        assert dept["fee"] == {"kind": "flat", "amount_vnd": 0}
        assert commune["variants"] == [] and dept["variants"] == []
        assert not any(p["by_level"] for p in s["procedures"].values())
        assert not any(a["is_centre"] for a in s["agencies"].values())
        assert s["new_tables"] == {"agency_wards": [], "procedure_agencies": []}

        migrations.downgrade(scratch_url, "0008")
        s = snapshot(engine)
        assert_dossiers_kept(s)
        assert "channel" not in s["dossiers"][RECEIVED] and s["new_tables"] == {}
        days = s["procedures"][P_COMMUNE]["processing_days"]
        assert days == 3 and isinstance(days, int)

        migrations.upgrade(scratch_url, "head")
        assert_dossiers_kept(snapshot(engine))
        assert "procedure_agencies" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
