"""The yardstick: a bare Flask app returning a small JSON object, served exactly like ours; for answers
that are big by nature (the public map), the same bytes as ours from a file (BARE_BODY); and, given a
captured submit (BARE_SUBMIT, bench/submit_floor.py) and its database (BARE_DATABASE_URL), that submit's
own statements replayed for any draft: what a submit costs PostgreSQL and the driver, without the app."""

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
BODY = Path(os.environ["BARE_BODY"]).read_bytes() if os.environ.get("BARE_BODY") else b"{}"
_replay = None


@app.get("/bare-bytes")
def bare_bytes() -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/bare")
def bare() -> dict[str, object]:
    return {"status": "ok", "items": [{"code": "1.001193", "name": "Đăng ký khai sinh"}]}


@app.post("/bare-submit/<dossier_id>")
def bare_submit(dossier_id: str) -> tuple[dict[str, object], int]:
    global _replay  # one connection per worker, opened at its first submit
    if _replay is None:
        from submit_floor import Replay

        _replay = Replay(Path(os.environ["BARE_SUBMIT"]), os.environ["BARE_DATABASE_URL"])
    found = _replay.submit(dossier_id)
    return {"id": dossier_id, "status": "submitted"}, 200 if found else 404
