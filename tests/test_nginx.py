"""deploy/nginx/smartqn-app.conf, run in a real nginx: what it passes to the app, and the 503 it answers
itself once the app has `max_conns` requests in hand (the overload admission of README's server block).

The app here is a stand-in upstream (a socket server in this process) that answers `/fast` at once and
holds `/slow` until the test lets it go, so "the app is busy" is a fact, not a timing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.i18n import problem_text
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="no nginx on this machine (apt-get install nginx-light)")

CONF = """
daemon off; worker_processes 2; pid %(tmp)s/nginx.pid; error_log %(tmp)s/error.log warn; %(user)s
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(tmp)s/body; proxy_temp_path %(tmp)s/proxy;
    fastcgi_temp_path %(tmp)s/f; uwsgi_temp_path %(tmp)s/u; scgi_temp_path %(tmp)s/s;
    upstream smartqn { zone smartqn 64k; server 127.0.0.1:%(app)d max_conns=1; }
    upstream smartqn_stream { server 127.0.0.1:%(app)d; }
    server {
        listen 127.0.0.1:%(port)d;
        include %(root)s/deploy/nginx/smartqn-app.conf;
    }
}
"""


class StandIn:
    """An upstream that answers /fast with 200 and the X-Request-Start it got, and holds /slow until released."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
        self.holding = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            if head.startswith(b"GET /slow"):
                self.holding.set()
                self.release.wait(10)
            stamp = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                          if line.lower().startswith(b"x-request-start:")), b"")
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n"
                         b"\r\n%s" % (len(stamp), stamp))


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[str, StandIn]]:
    app, port = StandIn(), free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF % {"tmp": tmp_path, "app": app.port, "port": port, "root": ROOT,
                            "user": "user root;" if os.geteuid() == 0 else ""}, encoding="utf-8")
    assert NGINX is not None
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/fast", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        yield base, app
    finally:
        app.release.set()
        proc.terminate()
        proc.wait(timeout=10)
        app.listener.close()


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_requests_reach_the_app_stamped_until_it_has_max_conns_in_hand_then_get_a_503_problem(proxied):
    base, app = proxied
    status, _, body = get(f"{base}/fast")
    assert status == 200 and body.startswith(b"t=")  # X-Request-Start, for the app's own shedding

    slow = threading.Thread(target=get, args=(f"{base}/slow",))
    slow.start()
    assert app.holding.wait(5)
    started = time.perf_counter()
    status, headers, body = get(f"{base}/fast")
    assert time.perf_counter() - started < 1  # answered at once, not queued behind /slow
    assert status == 503 and headers["Content-Type"] == "application/problem+json" and headers["Retry-After"] == "1"
    problem = json.loads(body)
    title, detail = problem_text("service_unavailable", "vi")
    assert problem == {"type": "about:blank", "title": title, "status": 503, "detail": detail,
                       "code": "service_unavailable", "request_id": headers["X-Request-ID"]}
    status, _, body = get(f"{base}/fast", **{"Accept-Language": "en-US,vi;q=0.5"})
    assert status == 503 and (json.loads(body)["title"], json.loads(body)["detail"]) == problem_text(
        "service_unavailable", "en")

    app.release.set()
    slow.join(5)
    assert get(f"{base}/fast")[0] == 200  # the app has room again
