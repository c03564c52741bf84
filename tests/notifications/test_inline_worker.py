"""SMARTQN_PUSH_WORKER=inline (what `make run` uses): a worker thread inside the server process sends
a push as soon as the request that wrote it commits. On committed data, with its own app."""

from __future__ import annotations

import dataclasses
import io
import time

from api import create_app
from services import db
from tests.dossier_helpers import PDF
from tests.helpers import bearer

PERSON = {"cccd": "049196009999", "full_name": "Trương Thị Yến", "date_of_birth": "1996-03-03", "gender": "female",
          "eid_level": 2}
TOKEN = "inline-worker-device-token"


def test_the_inline_worker_sends_without_being_asked(app, settings, fcm):
    fcm.reset()
    inline = create_app(dataclasses.replace(settings, push_worker="inline", push_sender="fcm",
                                         fcm_credentials=fcm.credentials, fcm_endpoint=fcm.base))
    worker = inline.extensions["smartqn.push_worker"]
    try:
        client = inline.test_client()
        id_token = client.post("/mock-eid/token", json=PERSON).json["id_token"]
        tokens = client.post("/api/v1/auth/eid", json={"id_token": id_token}).json
        client.post("/api/v1/me/devices", headers=bearer(tokens), json={"token": TOKEN, "platform": "android"})
        dossier = client.post("/api/v1/dossiers", headers=bearer(tokens),
                              json={"procedure_code": "1.004229", "form": {"purpose": "Thử"}}).json
        client.post(f"/api/v1/dossiers/{dossier['id']}/attachments", headers=bearer(tokens),
                    data={"document_type": "to_khai_cu_tru", "file": (io.BytesIO(PDF), "ct01.pdf")},
                    content_type="multipart/form-data")
        assert client.post(f"/api/v1/dossiers/{dossier['id']}/submit", headers=bearer(tokens)).status_code == 200
        deadline = time.monotonic() + 10
        while not fcm.to(TOKEN) and time.monotonic() < deadline:
            time.sleep(0.05)
        [message] = fcm.to(TOKEN)
        assert message["data"]["dossier_id"] == dossier["id"]
    finally:
        worker.stop.set()
        worker.wakeup.set()
        db.bind(app.extensions["smartqn.engine"])  # create_app bound the shared session factory to its own
