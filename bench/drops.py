"""Fault run: the app's PostgreSQL connections are terminated every two seconds under load.

Serves the project with gunicorn (2 sync workers) on a scratch PostgreSQL database whose connections
carry an application_name, and drives it from four client threads (the citizen's reads, the catalog,
drafts created, changed and deleted) while a fifth thread runs pg_terminate_backend on every one of
the app's connections every `--every` seconds. Prints the answers by status. A 500 is a failure; a
503 (with Retry-After) is the honest answer to a write without an Idempotency-Key that lost its
connection during its COMMIT, when nobody can know whether it happened (api/replay.py).
Usage: `.venv/bin/python bench/drops.py --seconds 20`.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time

import requests
from common import BIN, PSQL, ROOT, free_port, gunicorn, scratch_database, sign_in

TAG = "smartqn-bench-drops"
CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12",
           "gender": "male", "eid_level": 2}
SIMPLE = {"procedure_code": "1.004873", "form": {"purpose": "Kết hôn"}}


def client(base: str, token: str, stop: threading.Event, statuses: collections.Counter) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        answers = [http.post(f"{base}/api/v1/dossiers", json=SIMPLE)]
        dossier = answers[0].json().get("id") if answers[0].status_code == 201 else None
        answers.append(http.get(f"{base}/api/v1/dossiers"))
        answers.append(http.get(f"{base}/api/v1/procedures/1.001193"))
        # Answered at the WSGI edge once Flask has seen them (api/edge_reads.py): its reads drop too.
        answers.append(http.get(f"{base}/api/v1/me/notifications/unread-count"))
        answers.append(http.get(f"{base}/api/v1/me/notifications?limit=5"))
        if dossier:
            answers.append(http.get(f"{base}/api/v1/dossiers/{dossier}"))
            answers.append(http.patch(f"{base}/api/v1/dossiers/{dossier}", json={"form": {"purpose": "Khác"}}))
            answers.append(http.delete(f"{base}/api/v1/dossiers/{dossier}"))
        for answer in answers:
            statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                print(answer.request.method, answer.request.url, answer.status_code, answer.text[:200])


def killer(every: float, stop: threading.Event, kills: list[int]) -> None:
    while not stop.wait(every):
        out = subprocess.run([*PSQL, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              f"WHERE application_name = '{TAG}'", "-tA"], capture_output=True, text=True)
        kills.append(int(out.stdout.strip() or 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": f"{url}?application_name={TAG}",
               "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_LOG_LEVEL": "ERROR"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
        port = free_port()  # the mock eID's keys are fetched from the app's own address
        with gunicorn("wsgi:app", {**env, "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}"}, ROOT, port) as base:
            token = sign_in(base, CITIZEN)
            statuses: collections.Counter[int] = collections.Counter()
            kills: list[int] = []
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(base, token, stop, statuses))
                       for _ in range(args.threads)]
            threads.append(threading.Thread(target=killer, args=(args.every, stop, kills)))
            for thread in threads:
                thread.start()
            time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join()
    failed = sum(n for status, n in statuses.items() if status >= 500 and status != 503)
    print(f"{sum(statuses.values())} requests, {len(kills)} rounds killing {sum(kills)} connections; "
          f"by status: {dict(sorted(statuses.items()))}; 500s: {failed}, 503s: {statuses[503]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
