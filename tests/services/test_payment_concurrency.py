"""Two IPNs for the same payment at the same moment (the gateway retries): confirmed once, one receipt."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.context import state_of
from services.clock import clock
from services.models import Dossier, Payment, PaymentCallback, Procedure, TimelineEntry, User
from services.money import payments, vnpay
from tests.services.test_dossier_concurrency import CALENDAR, race


def test_simultaneous_ipns_confirm_once(app, settings):
    engine = state_of(app).runtime.engine
    with Session(engine, expire_on_commit=False) as session, session.begin():
        user = User(cccd="001301000999", full_name="Đặng Văn Hùng", date_of_birth=date(2001, 2, 2),
                    gender="female", eid_level=2, eid_subject="ipn-race")
        procedure = session.scalar(select(Procedure).where(Procedure.code == "2.000488"))
        session.add(user)
        session.flush()
        dossier = Dossier(procedure=procedure, agency_id=procedure.agency_id, applicant_id=user.id, status="submitted",
                          code="IPN-RACE-1", fee_vnd=200_000, form={})
        session.add(dossier)
        session.flush()
        payment = Payment(dossier_id=dossier.id, payer_id=user.id, amount_vnd=200_000,
                          expires_at=clock.now() + timedelta(minutes=15))
        session.add(payment)
    params = vnpay.signed({"vnp_TxnRef": payment.id, "vnp_Amount": "20000000", "vnp_ResponseCode": "00",
                           "vnp_TransactionStatus": "00", "vnp_TransactionNo": "1"}, settings.vnpay_hash_secret)

    def callback() -> str:
        with Session(engine, expire_on_commit=False) as session:
            return payments.ipn(session, dict(params), settings=settings, calendar=CALENDAR).rsp_code

    try:
        answers, errors = race([callback, callback])
        assert errors == [] and sorted(answers) == ["00", "02"]
        with Session(engine) as session:
            assert session.get(Payment, payment.id).receipt_no is not None
            entries = session.scalars(select(TimelineEntry.action).where(TimelineEntry.dossier_id == dossier.id)).all()
            assert entries == ["record_payment"]
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(PaymentCallback).where(PaymentCallback.payment_id == payment.id))
            session.execute(delete(TimelineEntry).where(TimelineEntry.dossier_id == dossier.id))
            session.execute(delete(Payment).where(Payment.id == payment.id))
            session.execute(delete(Dossier).where(Dossier.id == dossier.id))
            session.execute(delete(User).where(User.id == user.id))
