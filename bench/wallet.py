"""Wallet benchmark: attaching a paper from the wallet (one JSON call, no bytes) against uploading the same
2 MB file, as requests/s through gunicorn, and the storage 1,000 dossiers use when they reuse one paper.

Starts gunicorn (2 sync workers, as bench/load.py) on the project with a fresh SQLite database, migrated
and seeded, and local storage in a temporary directory. One citizen keeps a 2 MB PDF in the wallet and
opens a draft of 1.004873; wrk then POSTs to the draft's /attachments, once with the file as multipart
(the upload is received, hashed and judged every time, then found already attached: 200) and once with
`{wallet_item_id, document_type}` (the same answer, no bytes). Then 1,000 drafts each take the paper from
the wallet and are submitted, and the stored files (rows and bytes on disk) are counted before and after.
Usage: `.venv/bin/python bench/wallet.py [--seconds 10] [--connections 8] [--dossiers 1000]`;
`--short` (CI smoke: 1 s per side, 2 connections, 20 dossiers, no targets) only checks that it runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import BIN, ROOT, free_port, gunicorn, sign_in, wrk

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
PROCEDURE, SLOT = "1.004873", "to_khai_tthn"
SIZE = 2 * 1024 * 1024
BOUNDARY = "----smartqnbench"


def two_mb_pdf() -> bytes:
    head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + b"%" + os.urandom((SIZE - len(head) - len(tail) - 1) // 2).hex().encode() + tail


def multipart(fields: dict[str, str], data: bytes, filename: str = "giay-to.pdf") -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


class Client:
    """One keep-alive connection, JSON in and out."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.auth = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: bytes | dict | None = None, content_type: str | None = None,
             expect: tuple[int, ...] = (200, 201)) -> dict:
        headers = dict(self.auth)
        if isinstance(body, dict):
            body, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else {}


def lua(path: Path, body_file: Path, content_type: str, token: str) -> Path:
    path.write_text(
        f'local f = io.open("{body_file}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
        f'wrk.headers["Content-Type"] = "{content_type}"\nwrk.headers["Authorization"] = "Bearer {token}"\n')
    return path


def stored(tmp: str) -> tuple[int, int, int]:
    """(stored_files rows, their bytes, bytes of blobs on disk)."""
    with sqlite3.connect(f"{tmp}/bench.db") as db:
        rows, size = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM stored_files").fetchone()
    disk = sum(p.stat().st_size for p in Path(tmp, "storage").rglob("*") if p.is_file() and not p.name.startswith("."))
    return rows, size, disk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--short", action="store_true", help="CI smoke: 1 s per side, 20 dossiers, no targets")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.connections, args.dossiers = 1, 2, 20
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        # The mock eID's issuer is this server (its JWKS is fetched from there); the access log is off.
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "SMARTQN_STORAGE_DIR": f"{tmp}/storage", "SMARTQN_RATELIMIT_ENABLED": "false",
               "SMARTQN_PUSH_WORKER": "off", "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}",
               "SMARTQN_ACCESS_TOKEN_TTL": "3600", "SMARTQN_LOG_LEVEL": "WARNING"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
        with gunicorn("wsgi:app", env, ROOT, port) as base:
            token = sign_in(base, CITIZEN)
            client = Client(base, token)
            data = two_mb_pdf()
            item = client.call("POST", "/api/v1/me/wallet", multipart(
                {"document_type": SLOT, "title": "Tờ khai (2 MB)"}, data), f"multipart/form-data; boundary={BOUNDARY}")
            dossier = client.call("POST", "/api/v1/dossiers", {"procedure_code": PROCEDURE, "form": {"purpose": "x"}})
            path = f"/api/v1/dossiers/{dossier['id']}/attachments"
            upload_body, wallet_body = Path(tmp, "upload.body"), Path(tmp, "wallet.body")
            upload_body.write_bytes(multipart({"document_type": SLOT}, data))
            wallet_body.write_text(json.dumps({"wallet_item_id": item["id"], "document_type": SLOT}))
            client.call("POST", path, {"wallet_item_id": item["id"], "document_type": SLOT})
            upload = wrk(f"{base}{path}", args.seconds, args.connections, script=lua(
                Path(tmp, "upload.lua"), upload_body, f"multipart/form-data; boundary={BOUNDARY}", token))
            wallet = wrk(f"{base}{path}", args.seconds, args.connections, script=lua(
                Path(tmp, "wallet.lua"), wallet_body, "application/json", token))
            print(f"{'attach 2 MB paper':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
            for name, r in (("upload (multipart)", upload), ("from the wallet", wallet)):
                print(f"{name:<22}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}")
            print(f"ratio wallet/upload: {wallet['rps'] / upload['rps']:.1f}x")

            before = stored(tmp)
            for _ in range(args.dossiers):
                draft = client.call("POST", "/api/v1/dossiers", {"procedure_code": PROCEDURE,
                                                                 "form": {"purpose": uuid.uuid4().hex[:8]}})
                client.call("POST", f"/api/v1/dossiers/{draft['id']}/attachments",
                            {"wallet_item_id": item["id"], "document_type": SLOT})
                client.call("POST", f"/api/v1/dossiers/{draft['id']}/submit")
            after = stored(tmp)
            with sqlite3.connect(f"{tmp}/bench.db") as db:
                reusing = db.execute("SELECT count(DISTINCT dossier_id) FROM attachments "
                                     "WHERE wallet_item_id IS NOT NULL").fetchone()[0]
            print(f"\n{args.dossiers} dossiers submitted, each with the wallet's 2 MB paper "
                  f"({reusing} dossiers refer to it)")
            print(f"stored files: {before[0]} -> {after[0]} rows, {before[1]} -> {after[1]} bytes; "
                  f"blobs on disk: {before[2]} -> {after[2]} bytes")
            print(f"one copy: {after[0] == before[0] and after[2] == before[2]} "
                  f"(an upload per dossier without content addressing: {args.dossiers * len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
