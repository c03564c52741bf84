"""The yardstick: a bare Flask app returning a small JSON object, served exactly like ours; and, for
answers that are big by nature (the public map), the same bytes as ours from a file (BARE_BODY)."""

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
BODY = Path(os.environ["BARE_BODY"]).read_bytes() if os.environ.get("BARE_BODY") else b"{}"


@app.get("/bare-bytes")
def bare_bytes() -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/bare")
def bare() -> dict[str, object]:
    return {"status": "ok", "items": [{"code": "1.001193", "name": "Đăng ký khai sinh"}]}
