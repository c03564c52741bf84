"""Push benchmarks against the FCM emulator, on PostgreSQL.

1. Throughput of one worker (`notifications.worker.PushWorker.drain`) over an outbox of N messages,
   next to the bare ceiling of the same machine: firebase-admin's `send_each` of the same messages
   to the same emulator with no database at all. Target: at least 1,000 messages/s.
2. Latency from an official's action to the message at the emulator, with the inline worker
   (SMARTQN_PUSH_WORKER=inline under gunicorn): p50/p95 over many actions. Target: p95 under 1 s.

The emulator runs in its own process (`flask notifications emulator`), as FCM would be elsewhere.
Usage: `.venv/bin/python bench/push.py [--messages 5000] [--samples 40]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from common import BIN, ROOT, free_port, gunicorn, post_json, scratch_database, sign_in

sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from notifications.fcm import FcmSender  # noqa: E402
from notifications.senders import Push  # noqa: E402
from notifications.worker import PushWorker  # noqa: E402
from services.clock import clock  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.models import Attachment, Device, Dossier, Procedure, StoredFile, User  # noqa: E402
from services.notices.inbox import notify  # noqa: E402
from services.settings import Settings  # noqa: E402

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
OFFICIAL = {"cccd": "048078002345", "full_name": "Phạm Quốc Dũng", "date_of_birth": "1978-05-05",
            "gender": "male", "eid_level": 2}
PROCEDURE, AGENCY = "1.004873", "000.20.24.H15"
DEVICES_EACH = 5


def get_json(url: str, token: str | None = None) -> tuple[dict, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return json.loads(response.read()), dict(response.headers)


def emulator_messages(fcm: str) -> list[dict]:
    return get_json(f"{fcm}/messages")[0]["messages"]


def clear(fcm: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{fcm}/messages", method="DELETE")).read()


def fill_outbox(engine, count: int) -> None:
    """`count` message jobs: count/5 people with 5 devices each, one notification per person."""
    people = count // DEVICES_EACH
    with Session(engine) as session, session.begin():
        ids = list(session.scalars(insert(User).returning(User.id), [
            {"cccd": f"0011{i:08d}", "full_name": f"Người {i}", "date_of_birth": date(1990, 1, 1),
             "gender": "male", "eid_level": 2, "eid_subject": f"bench-{i}"} for i in range(people)]))
        session.execute(insert(Device), [{"user_id": u, "token": f"bench-{u}-{n}", "platform": "android",
                                          "locale": "vi"} for u in ids for n in range(DEVICES_EACH)])
        notify(session, ids, "staff.overdue", {"code": "H47-BENCH", "procedure": "Đo tải",
                                               "due_time": "17:00 01/12/2026"})


def throughput(url: str, env: dict[str, str], fcm: str, credentials: str, count: int) -> tuple[float, float]:
    pushes = [Push(token=f"bare-{i}", title="Hồ sơ H47-BENCH đã quá hạn", body="Đo tải", data={"kind": "bench"},
                   collapse_key="bench", badge=1) for i in range(count)]
    bare_sender = FcmSender(credentials, endpoint=fcm)
    bare_sender.send_each(pushes[:10])  # the OAuth token and the connections, as a running worker has them
    started = time.perf_counter()
    for start in range(0, count, 500):
        assert all(o.ok for o in bare_sender.send_each(pushes[start:start + 500]))
    bare = count / (time.perf_counter() - started)
    clear(fcm)

    engine = make_engine(url)
    fill_outbox(engine, count)
    settings = Settings.from_env(env)
    worker = PushWorker(sessionmaker(engine, expire_on_commit=False), FcmSender(credentials, endpoint=fcm),
                        dataclasses.replace(settings, push_periodic_seconds=3600), now=clock.now)
    worker.sender.send_each(pushes[:10])
    clear(fcm)
    started = time.perf_counter()
    stats = worker.drain()
    ours = count / (time.perf_counter() - started)
    delivered = len(emulator_messages(fcm))
    if stats.sent != count or delivered != count:
        sys.exit(f"worker sent {stats.sent}, emulator received {delivered}, expected {count}")
    engine.dispose()
    return bare, ours


def prepared_dossiers(url: str, citizen_cccd: str, count: int) -> list[str]:
    engine = make_engine(url)
    sha = "0" * 64
    with Session(engine) as session, session.begin():
        applicant = session.scalar(select(User.id).where(User.cccd == citizen_cccd))
        procedure = session.scalar(select(Procedure).where(Procedure.code == PROCEDURE))
        session.add(StoredFile(sha256=sha, size=10, content_type="application/pdf"))
        session.flush()
        ids = list(session.scalars(insert(Dossier).returning(Dossier.id), [
            {"procedure_id": procedure.id, "agency_id": procedure.agency_id, "applicant_id": applicant,
             "status": "draft", "form": {"purpose": "Kết hôn"}, "fee_vnd": 0} for _ in range(count)]))
        session.execute(insert(Attachment), [{"dossier_id": i, "document_type": "to_khai_tthn", "filename": "a.pdf",
                                              "sha256": sha, "uploaded_by": applicant} for i in ids])
    engine.dispose()
    return ids


def latency(url: str, env: dict[str, str], fcm: str, samples: int) -> list[float]:
    port = free_port()
    env = {**env, "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}", "SMARTQN_PUSH_WORKER": "inline"}
    with gunicorn("wsgi:app", env, ROOT, port) as base:
        citizen, official = sign_in(base, CITIZEN), sign_in(base, OFFICIAL)
        post_json(f"{base}/api/v1/me/devices", {"token": "latency-phone", "platform": "android"}, citizen)
        ids = prepared_dossiers(url, CITIZEN["cccd"], samples)
        for dossier_id in ids:
            post_json(f"{base}/api/v1/dossiers/{dossier_id}/submit", {}, citizen)
        time.sleep(1)
        seen = len(emulator_messages(fcm))
        timings = []
        for dossier_id in ids:
            _, headers = get_json(f"{base}/api/v1/admin/dossiers/{dossier_id}", official)
            request = urllib.request.Request(
                f"{base}/api/v1/admin/dossiers/{dossier_id}/actions", data=b'{"action": "receive"}', method="POST",
                headers={"Authorization": f"Bearer {official}", "If-Match": headers["ETag"],
                         "Content-Type": "application/json"})
            acted = time.time()
            urllib.request.urlopen(request).read()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                arrived = [m for m in emulator_messages(fcm)[seen:]
                           if m["body"]["message"]["data"].get("dossier_id") == dossier_id
                           and m["body"]["message"]["data"]["kind"] == "dossier.received"]
                if arrived:
                    timings.append((arrived[0]["received_at"] - acted) * 1000)
                    break
                time.sleep(0.005)
            else:
                sys.exit(f"no push for {dossier_id} within 10 s")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        fcm_port = free_port()
        fcm = f"http://127.0.0.1:{fcm_port}"
        credentials = str(Path(tmp) / "fcm.json")
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
               "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_ACCESS_TOKEN_TTL": "3600", "SMARTQN_LOG_LEVEL": "WARNING",
               "SMARTQN_PUSH_SENDER": "fcm", "SMARTQN_FCM_CREDENTIALS": credentials, "SMARTQN_FCM_ENDPOINT": fcm}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        for command in (["db", "upgrade"], ["seed"], ["staff", "grant", OFFICIAL["cccd"], "--role", "official",
                                                      "--agency", AGENCY]):
            subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        emulator = subprocess.Popen([*flask, "notifications", "emulator", "--port", str(fcm_port), "--credentials",
                                     credentials], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    emulator_messages(fcm)
                    break
                except OSError:
                    time.sleep(0.1)
            bare, ours = throughput(url, env, fcm, credentials, args.messages)
            clear(fcm)
            timings = latency(url, env, fcm, args.samples)
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"{'push throughput':<34}{'msg/s':>9}{'ratio':>8}{'target':>16}")
    print(f"{'bare send_each (no database)':<34}{bare:>9.0f}{'100%':>8}")
    print(f"{'one worker (outbox → FCM → marks)':<34}{ours:>9.0f}{ours / bare:>8.0%}"
          f"{'≥1000/s ' + ('ok' if ours >= 1000 else 'MISS'):>16}")
    print(f"\naction → message at the emulator, inline worker, {len(timings)} actions: "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 < 1000 ms: {'ok' if p95 < 1000 else 'MISS'})")
    return 0 if ours >= 1000 and p95 < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
