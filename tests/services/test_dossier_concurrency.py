"""Races that happen on a province's servers: simultaneous submissions and simultaneous officials.

These run on committed data with one database session per thread, as separate app servers would.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from api.context import state_of
from services import idempotency
from services.actors import Actor
from services.dossiers import attachments, citizen, staff
from services.dossiers.documents import Press
from services.errors import DomainError
from services.idempotency import IdempotentRequest, Replay
from services.models import (
    Attachment,
    DeskDocument,
    Dossier,
    DossierCodeCounter,
    IdempotencyKey,
    Notification,
    StaffRole,
    StoredFile,
    TimelineEntry,
    User,
)
from services.settings import Settings
from services.storage import LocalStorage

CALENDAR = Settings.from_env({}).working_calendar()
CCCD = "001301000888"


def race(workers: list[Callable[[], Any]]) -> tuple[list[Any], list[Exception]]:
    barrier, results, errors = threading.Barrier(len(workers)), [], []

    def run(work: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 (collected and asserted)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


@pytest.fixture
def committed(app):
    """A citizen with drafts ready to submit, committed; everything removed afterwards."""
    engine = state_of(app).runtime.engine
    sha = hashlib.sha256(b"race").hexdigest()
    with Session(engine, expire_on_commit=False) as session, session.begin():
        user = User(cccd=CCCD, full_name="Đỗ Thị Mai", date_of_birth=date(2001, 1, 1), gender="female",
                    eid_level=2, eid_subject="race")
        session.add(user)
        if session.get(StoredFile, sha) is None:
            session.add(StoredFile(sha256=sha, size=4, content_type="application/pdf"))
    actor = Actor(user_id=user.id, role="citizen")

    def make_drafts(count: int) -> list[str]:
        ids = []
        with Session(engine, expire_on_commit=False) as session:
            for _ in range(count):
                dossier = citizen.create_draft(session, actor, procedure_code="1.004873", form={"purpose": "x"})
                with session.begin():
                    session.add(Attachment(dossier_id=dossier.id, document_type="to_khai_tthn", filename="a.pdf",
                                           sha256=sha, uploaded_by=user.id))
                ids.append(dossier.id)
        return ids

    yield engine, actor, make_drafts
    with Session(engine) as session, session.begin():
        mine = select(Dossier.id).where(Dossier.applicant_id == user.id).scalar_subquery()
        agency = select(Dossier.agency_id).where(Dossier.applicant_id == user.id).limit(1).scalar_subquery()
        session.execute(delete(DossierCodeCounter).where(DossierCodeCounter.agency_id == agency))
        session.execute(delete(TimelineEntry).where(TimelineEntry.dossier_id.in_(mine)))
        session.execute(delete(Attachment).where(Attachment.dossier_id.in_(mine)))
        pdfs = list(session.scalars(select(DeskDocument.sha256).where(DeskDocument.dossier_id.in_(mine))))
        session.execute(delete(DeskDocument).where(DeskDocument.dossier_id.in_(mine)))
        session.execute(delete(StoredFile).where(StoredFile.sha256.in_(pdfs)))  # the forms' PDFs, left by no one
        session.execute(delete(Dossier).where(Dossier.applicant_id == user.id))
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id))
        session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))
        session.execute(delete(User).where(User.id == user.id))


def test_simultaneous_submissions_get_unique_gap_free_codes(committed):
    engine, actor, make_drafts = committed
    ids = make_drafts(6)

    def submit(dossier_id: str) -> Callable[[], str]:
        def work() -> str:
            with Session(engine, expire_on_commit=False) as session:
                return citizen.submit(session, actor, dossier_id, calendar=CALENDAR, request=None).code
        return work

    codes, errors = race([submit(i) for i in ids])
    assert errors == []
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert numbers == list(range(1, 7))


def test_simultaneous_submissions_to_one_agency_count_its_officials_unread_without_deadlock(committed):
    # Each submit adds to the unread count of every official of the agency, in the row of each: statements
    # that tell the same officials lock their rows in one order, so they wait for each other, never deadlock;
    # and they lock them FOR NO KEY UPDATE, so a transaction that only refers to a person (a submit's
    # Idempotency-Key row, before it takes its agency's code counter) does not block them.
    engine, actor, make_drafts = committed
    ids = make_drafts(12)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        agency = session.scalar(select(Dossier.agency_id).where(Dossier.id == ids[0]))
        officials = [User(cccd=f"00130100079{n}", full_name=f"Cán bộ {n}", date_of_birth=date(1990, 1, 1),
                          gender="male", eid_level=2, eid_subject=f"race-official-{n}") for n in range(4)]
        session.add_all(officials)
        session.add_all(StaffRole(cccd=o.cccd, role="official", agency_id=agency) for o in officials)
    try:
        def submit(dossier_id: str) -> Callable[[], str]:
            def work() -> str:
                with Session(engine, expire_on_commit=False) as session:
                    request = IdempotentRequest(actor.user_id, f"unread-{dossier_id}", "fingerprint")
                    return citizen.submit(session, actor, dossier_id, calendar=CALENDAR, request=request).code
            return work

        _codes, errors = race([submit(i) for i in ids])
        assert errors == []
        with Session(engine) as session:
            for person in [*(o.id for o in officials), actor.user_id]:
                counted = session.scalar(select(func.count()).select_from(Notification).where(
                    Notification.user_id == person, Notification.read_at.is_(None)))
                assert (session.get(User, person).unread_count, counted) == (12, 12)
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(StaffRole).where(StaffRole.cccd.in_([o.cccd for o in officials])))
            session.execute(delete(User).where(User.id.in_([o.id for o in officials])))


def test_two_officials_acting_at_once_exactly_one_succeeds(committed, tmp_path):
    engine, actor, make_drafts = committed
    press = Press(LocalStorage(str(tmp_path / "storage")), "http://127.0.0.1:5000")  # both moves issue a form
    [dossier_id] = make_drafts(1)
    with Session(engine, expire_on_commit=False) as session:
        version = citizen.submit(session, actor, dossier_id, calendar=CALENDAR, request=None).version
    official = Actor(user_id=actor.user_id, role="admin")

    def move(action: str, **inputs: str) -> Callable[[], str]:
        def work() -> str:
            with Session(engine, expire_on_commit=False) as session:
                return staff.act(session, official, dossier_id, action, expected_version=version,
                                 calendar=CALENDAR, press=press, **inputs).status
        return work

    results, errors = race([move("receive"), move("reject", reason="trùng hồ sơ")])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], DomainError) and errors[0].code == "precondition_failed"
    with Session(engine) as session:
        entries = session.scalars(select(TimelineEntry.action).where(TimelineEntry.dossier_id == dossier_id)).all()
    assert sorted(entries) == sorted(["submit", "receive" if results == ["received"] else "reject"])


def test_a_retry_while_the_first_submit_runs_waits_or_conflicts_never_doubles(committed):
    engine, actor, make_drafts = committed
    [dossier_id] = make_drafts(1)
    request = IdempotentRequest(actor.user_id, "same-key", "fingerprint")

    def submit() -> dict:
        with Session(engine, expire_on_commit=False) as session:
            return {"code": citizen.submit(session, actor, dossier_id, calendar=CALENDAR, request=request).code}

    results, errors = race([submit, submit])
    # Either both answer with the same code (the retry waited and replayed) or the retry got 409.
    assert all(isinstance(e, DomainError) and e.code == "conflict" for e in errors)
    assert len({r["code"] for r in results}) == 1 and len(results) + len(errors) == 2


def test_a_claim_waits_briefly_for_a_running_claim_of_its_key_and_its_unit_of_work_without_limit(committed):
    # PostgreSQL: the retry's claim waits on the first one's row at most RUNNING_WAIT, then 409; a claim
    # made or replayed leaves no lock timeout on the rest of its unit of work (the dossier's row lock).
    engine, actor, _make_drafts = committed
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: a retry waits for the first and replays it")
    request = IdempotentRequest(actor.user_id, "running", "fingerprint")
    with Session(engine) as first, Session(engine) as retry:
        claim = idempotency.begin(first, request)
        assert isinstance(claim, IdempotencyKey)
        assert first.scalar(text("SHOW lock_timeout")) == "0"
        started = time.monotonic()
        with pytest.raises(DomainError) as raised:
            idempotency.begin(retry, request)
        assert raised.value.code == "conflict" and 1.4 <= time.monotonic() - started < 10
        retry.rollback()
        claim.response = {"id": "the-first-answer"}
        first.commit()
        assert idempotency.begin(retry, request) == Replay("the-first-answer")
        assert retry.scalar(text("SHOW lock_timeout")) == "0"
        retry.rollback()


def test_twenty_simultaneous_uploads_of_one_new_file_store_it_once(committed, tmp_path):
    # A file no row knows yet: every upload tries to create its stored-file row at the same moment.
    engine, actor, make_drafts = committed
    ids = make_drafts(20)
    storage = LocalStorage(str(tmp_path / "storage"))
    content = b"%PDF-1.4\n" + os.urandom(32) + b"\n%%EOF\n"

    def upload(dossier_id: str) -> Callable[[], bool]:
        def work() -> bool:
            with Session(engine, expire_on_commit=False) as session:
                _attachment, created = attachments.attach(session, actor, dossier_id, storage=storage,
                                                          document_type="to_khai_tthn", filename="same.pdf",
                                                          stream=io.BytesIO(content), max_bytes=1 << 20)
                return created
        return work

    results, errors = race([upload(i) for i in ids])
    assert errors == [] and results == [True] * 20
    sha = hashlib.sha256(content).hexdigest()
    with Session(engine) as session, session.begin():
        assert session.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == sha)) == 1
        session.execute(delete(Attachment).where(Attachment.sha256 == sha))
        session.execute(delete(StoredFile).where(StoredFile.sha256 == sha))
