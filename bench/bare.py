"""The yardstick: a bare Flask app returning a small JSON object, served exactly like ours."""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare() -> dict[str, object]:
    return {"status": "ok", "items": [{"code": "1.001193", "name": "Đăng ký khai sinh"}]}
