"""SMARTQN_PUSH_WORKER=inline (what `make run` uses): a worker thread inside the server process sends
a push as soon as the request that wrote it commits. On committed data, with its own app."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from api import create_app
from api.context import state_of
from services.clock import clock
from tests.dossier_helpers import PDF
from tests.helpers import bearer

ROOT = Path(__file__).resolve().parents[2]
PERSON = {"cccd": "049196009999", "full_name": "Trương Thị Yến", "date_of_birth": "1996-03-03", "gender": "female",
          "eid_level": 2}
TOKEN = "inline-worker-device-token"


def test_the_inline_worker_sends_without_being_asked(app, settings, fcm):
    # Its dossier is committed: file it in a month no other test counts (tests/api/test_stats.py counts
    # the whole province's November 2026).
    clock.freeze(datetime(2026, 1, 15, 3, 0, tzinfo=UTC))
    fcm.reset()
    inline = create_app(dataclasses.replace(settings, push_worker="inline", push_sender="fcm",
                                         fcm_credentials=fcm.credentials, fcm_endpoint=fcm.base))
    worker = state_of(inline).push_worker
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


def test_a_worker_process_runs_from_the_runtime_alone(settings):
    # `python worker.py --once` builds no HTTP app: no Flask app object exists in that process.
    code = ("import runpy, sys, flask\n"
            "sys.argv = ['worker.py', '--once']\n"
            "runpy.run_path('worker.py', run_name='__main__')\n"
            "assert flask.current_app.__class__.__name__ == 'LocalProxy' and not flask.has_app_context()\n")
    env = {**os.environ, "SMARTQN_DATABASE_URL": settings.database_url, "SMARTQN_INSTANCE_DIR": settings.instance_dir,
           "SMARTQN_PUSH_SENDER": "log"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout.strip().splitlines()[-1])) >= {"sent", "failed"}
