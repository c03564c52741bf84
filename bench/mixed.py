"""A province's peak on one box: an open-loop mixed workload at fixed arrival rates (issue 18, point 4).

Requests arrive on a fixed schedule whatever the server does (open loop: a closed loop, where each
client waits for its answer before sending the next, slows down with the server and hides the
queueing). Each request's latency is measured from its scheduled arrival, so a client that falls
behind is counted against the server, not forgotten. The mix: 60 % catalog reads (half of them
revalidations answered 304), 20 % dossier detail, 10 % inbox (half the list, half the unread count),
5 % the officials' queue, 3 % submits, 2 % official actions (receive, with If-Match).

The client runs on the same two cores as the server, so it is kept cheap (a protocol per connection,
uvloop where it builds) and says what it cost: each rate prints the p99 of the client's own delay (from
a request's due time to its bytes written) and the cores used by the app, the database and the client.

Every request carries `X-Request-Start` stamped when it is sent, as the proxy in front does in
production, so the app's overload shedding (api/shedding.py) sees how long it waited for a worker.

`--server-cpus 1 --client-cpus 0` splits the box in two, as if the client ran on another machine: the
app server, the proxy and PostgreSQL (its running processes and the backends it starts) on the first
set, this client on the second, each pinned with sched_setaffinity (Linux; PostgreSQL's processes need
root or the postgres user) and PostgreSQL's own set restored at the end. A server of one core has about
half the knee; the client on a core of its own can offer twice that without falling behind, which the
shared box cannot (issue 18, point 6: goodput and p99 at twice the knee).

The server: gunicorn with deploy/gunicorn.conf.py (the production default), against the kept
PostgreSQL database of bench/dossiers.py (10,000 dossiers; `--rows 1000000` for the million).

    .venv/bin/python bench/mixed.py                          # 300..1,500 req/s, 30 s each
    .venv/bin/python bench/mixed.py --rates 600,1200 --seconds 10 --workers 2,3,4
    .venv/bin/python bench/mixed.py --short                  # CI smoke: a few seconds, no targets
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import cast

from common import BIN, ROOT, cores, cpu_seconds, free_port, serving, sign_in
from partition import cpu_set, partitioned, pinned

sys.path.insert(0, str(ROOT))

import dossiers as dossier_bench  # noqa: E402
import province_fill  # noqa: E402
from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from services.db import make_engine  # noqa: E402
from services.models import Dossier, User  # noqa: E402

MIX = (("catalog", 30), ("catalog_304", 30), ("detail", 20), ("inbox", 5), ("unread", 5), ("queue", 5),
       ("submit", 3), ("action", 2))
TARGET_RATE, TARGET_P99_MS = 1100, 250
TIMEOUT = 10.0


@contextmanager
def server(url: str, tmp: str, workers: int, threads: int, cpus: set[int] | None) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**dossier_bench.environment(url, tmp, port), "SMARTQN_LOG_LEVEL": "WARNING", "SMARTQN_PUSH_WORKER": "off"}
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"], cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
             "GUNICORN_THREADS": str(threads), "GUNICORN_LOGLEVEL": "warning"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pinned(cpus))
    base = f"http://127.0.0.1:{port}"
    with serving(proc, f"{base}/healthz"):
        yield base, proc.pid


NGINX = """
daemon off; worker_processes 1; pid %(tmp)s/nginx.pid; error_log %(tmp)s/nginx-error.log warn; %(user)s
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path %(tmp)s/nginx-body; proxy_temp_path %(tmp)s/nginx-proxy;
    fastcgi_temp_path %(tmp)s/nginx-f; uwsgi_temp_path %(tmp)s/nginx-u; scgi_temp_path %(tmp)s/nginx-s;
    upstream smartqn { zone smartqn 64k; server %(upstream)s%(max_conns)s; keepalive 32; }
    upstream smartqn_stream { server %(upstream)s; }
    server {
        listen 127.0.0.1:%(port)d backlog=4096;
        include %(root)s/deploy/nginx/smartqn-app.conf;
    }
}
"""
# README's server block admits 16 requests per gunicorn worker into the app (nginx's max_conns).
MAX_CONNS_PER_WORKER = 16


@contextmanager
def proxy(app_base: str, tmp: str, use: str, cpus: set[int] | None, max_conns: int = 0
          ) -> Iterator[tuple[str, int | None]]:
    """nginx in front of the app with README's server block (deploy/nginx/smartqn-app.conf: buffering,
    X-Request-Start stamped by the proxy, at most `max_conns` requests in the app, 0 for no limit), unless
    `use` is "none" or nginx is not installed; yields the base URL the client talks to and the proxy's pid.
    Without it the client talks to gunicorn itself, whose sync workers wait for the client's own close
    after each answer (gunicorn's close_graceful): a Python client that is slow to close then holds
    workers, and the bench measures the client more than the app."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if use == "none" or nginx is None:
        if use == "nginx":
            sys.exit("--proxy nginx: nginx is not installed (apt-get install nginx-light)")
        yield app_base, None
        return
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX % {"tmp": tmp, "port": port, "upstream": app_base.removeprefix("http://"),
                         "max_conns": f" max_conns={max_conns}" if max_conns else "", "root": ROOT,
                         "user": "user root;" if os.geteuid() == 0 else ""})
    proc = subprocess.Popen([nginx, "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=pinned(cpus))
    base = f"http://127.0.0.1:{port}"
    with serving(proc, f"{base}/healthz"):
        yield base, proc.pid


class Workload:
    """What each kind of request needs: tokens, ids, drafts to submit and dossiers to receive."""

    def __init__(self, base: str, url: str, drafts: int) -> None:
        self.citizen = sign_in(base, dossier_bench.CITIZEN)
        self.official = sign_in(base, dossier_bench.OFFICIAL)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                applicant = session.scalar(select(User.id).where(User.cccd == dossier_bench.CITIZEN["cccd"]))
            ids = dossier_bench.prepare_drafts(engine, applicant, drafts * 2 + 20)
            # Half of them submitted already, in the official's commune: the actions receive them.
            received, self.drafts = ids[:drafts + 10], ids[drafts + 10:]
            now = datetime.now(UTC)
            with Session(engine) as session, session.begin():
                for n, dossier_id in enumerate(received):
                    session.execute(update(Dossier).where(Dossier.id == dossier_id).values(
                        status="submitted", code=f"BENCH-{uuid.uuid4().hex[:12]}-{n}", submitted_at=now,
                        status_changed_at=now, queue_at=now))
            self.detail_ids = received[:10]
            self.to_receive = received[10:]
            province_fill.analyze(engine)
        finally:
            engine.dispose()
        with urllib.request.urlopen(f"{base}/api/v1/procedures?limit=20") as response:
            self.catalog_etag = response.headers["ETag"]

    def read_inboxes(self, base: str) -> None:
        """The citizen and the official read their notices, as a person opening the app does: here one
        citizen and one official get the notice of every submit (thousands a run), and the unread count
        (and each write's badge) is a count of the unread, which a real person keeps to a handful."""
        for token in (self.citizen, self.official):
            request = urllib.request.Request(f"{base}/api/v1/me/notifications/read-all", method="POST",
                                             headers={"Authorization": f"Bearer {token}"})
            urllib.request.urlopen(request, timeout=60).read()

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
        citizen = {"Authorization": f"Bearer {self.citizen}"}
        official = {"Authorization": f"Bearer {self.official}"}
        if kind == "catalog":
            return "GET", "/api/v1/procedures?limit=20", {}, b""
        if kind == "catalog_304":
            return "GET", "/api/v1/procedures?limit=20", {"If-None-Match": self.catalog_etag}, b""
        if kind == "detail":
            return "GET", f"/api/v1/dossiers/{rng.choice(self.detail_ids)}", citizen, b""
        if kind == "inbox":
            return "GET", "/api/v1/me/notifications?limit=20", citizen, b""
        if kind == "unread":
            return "GET", "/api/v1/me/notifications/unread-count", citizen, b""
        if kind == "queue":
            return "GET", "/api/v1/admin/dossiers?limit=20", official, b""
        if kind == "submit":
            return ("POST", f"/api/v1/dossiers/{self.drafts.pop()}/submit",
                    {**citizen, "Idempotency-Key": uuid.uuid4().hex}, b"")
        return ("POST", f"/api/v1/admin/dossiers/{self.to_receive.pop()}/actions",
                {**official, "If-Match": '"v1"', "Content-Type": "application/json"}, b'{"action": "receive"}')


class Exchange(asyncio.Protocol):
    """One request on its own connection (Connection: close, as gunicorn's sync workers answer anyway):
    sent when the connection is made, stamped then with X-Request-Start; done with the status once the
    server closes. A protocol, not streams: the client shares the box's two cores with the server, and
    asyncio's streams and wait_for cost it about twice as much CPU a request."""

    def __init__(self, head: bytes, body: bytes, done: asyncio.Future[int]) -> None:
        self.head, self.body, self.done, self.answer = head, body, done, b""
        self.sent = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.sent = time.perf_counter()
        cast(asyncio.Transport, transport).write(self.head + f"X-Request-Start: t={time.time():.6f}\r\n\r\n".encode()
                                                 + self.body)

    def data_received(self, data: bytes) -> None:
        if len(self.answer) < 16:  # the status line is all that is read
            self.answer += data

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            try:
                self.done.set_result(int(self.answer.split(b" ", 2)[1]))
            except (IndexError, ValueError):
                self.done.set_result(0)


async def one(host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes
              ) -> tuple[int, float]:
    """The status of one request, and when (perf_counter) its bytes were written."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
               f"Content-Length: {len(body)}\r\n{head}").encode()
    exchange = Exchange(request, body, done)
    transport, _ = await loop.create_connection(lambda: exchange, host, port)
    try:
        return await done, exchange.sent
    finally:
        transport.close()


async def run_rate(base: str, workload: Workload, rate: int, seconds: float, seed: int) -> dict[str, float]:
    """Send `rate` requests/s for `seconds` on a fixed schedule; return goodput, sheds, errors, latency."""
    host, port = base.removeprefix("http://").split(":")
    rng = random.Random(seed)
    kinds = [k for k, weight in MIX for _ in range(weight)]
    results: list[tuple[str, int, float]] = []
    lags: list[float] = []  # ms from a request's due time to its bytes written: the client's own delay
    tasks = []
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)

    async def fire(due: float, kind: str) -> None:
        method, path, headers, body = workload.request(kind, rng)
        try:
            async with asyncio.timeout(TIMEOUT):
                status, sent = await one(host, int(port), method, path, headers, body)
            lags.append((sent - due) * 1000)
        except (OSError, TimeoutError, ValueError, IndexError):
            status = 0
        results.append((kind, status, (time.perf_counter() - due) * 1000))

    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(fire(due, rng.choice(kinds))))
    await asyncio.gather(*tasks)
    elapsed = max(seconds, time.perf_counter() - start)
    served = [r for r in results if 200 <= r[1] < 400]
    shed = [r for r in results if r[1] == 503]
    errors = [r for r in results if r not in served and r[1] != 503]
    latencies = sorted(r[2] for r in served) or [0.0]
    cut = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    lag = statistics.quantiles(lags, n=100, method="inclusive")[98] if len(lags) > 1 else 0.0
    return {"offered": rate, "goodput": len(served) / elapsed, "shed": len(shed), "errors": len(errors),
            "client_lag_p99_ms": lag,
            "p50_ms": cut[49], "p99_ms": cut[98], "requests": total}


def main() -> int:
    try:
        import uvloop  # the client's own CPU is taken from the server's: the cheaper loop where it builds

        uvloop.install()
    except ImportError:
        pass
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="300,600,900,1200,1500")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", default="2", help="gunicorn worker counts to compare, e.g. 2,3,4")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole set, interleaving configurations")
    parser.add_argument("--rows", type=int, default=10_000, choices=sorted(dossier_bench.SIZES.values()))
    parser.add_argument("--proxy", choices=("auto", "nginx", "none"), default="auto",
                        help="nginx in front of gunicorn as in production (auto: when installed)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds at 50 req/s after each start, not counted")
    parser.add_argument("--max-conns-per-worker", type=int, default=MAX_CONNS_PER_WORKER,
                        help="nginx's max_conns to the app per gunicorn worker (0: no limit)")
    parser.add_argument("--server-cpus", help="CPUs for the app, the proxy and PostgreSQL, e.g. 1 (with --client-cpus)")
    parser.add_argument("--client-cpus", help="CPUs for this client, e.g. 0: the box split as if in two machines")
    parser.add_argument("--short", action="store_true", help="CI smoke: 2 s at 50 and 100 req/s, no targets")
    args = parser.parse_args()
    if args.short:
        args.rates, args.seconds, args.workers, args.rounds, args.warmup = "50,100", 2.0, "2", 1, 1.0
    rates = [int(r) for r in args.rates.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    name = next(n for n, size in dossier_bench.SIZES.items() if size == args.rows)
    server_cpus, client_cpus = cpu_set(args.server_cpus), cpu_set(args.client_cpus)
    if (server_cpus is None) != (client_cpus is None):
        parser.error("--server-cpus and --client-cpus go together")
    print(f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}; client event loop "
          f"{asyncio.get_event_loop_policy().__class__.__module__.split('.')[0]}", flush=True)
    table: dict[tuple[int, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = dossier_bench.prepare(name, args.rows, tmp)
        with partitioned(server_cpus, client_cpus):
            for round_, workers in ((r, w) for r in range(args.rounds) for w in worker_counts):
                with server(url, tmp, workers, args.threads, server_cpus) as (app_base, pid), \
                        proxy(app_base, tmp, args.proxy, server_cpus, args.max_conns_per_worker * workers) \
                        as (base, proxy_pid):
                    roots = {"app": pid, **({"proxy": proxy_pid} if proxy_pid else {})}
                    need = sum(int(r * args.seconds * 0.05) + 20 for r in rates) + 50 + int(50 * args.warmup * 0.05)
                    workload = Workload(base, url, need)
                    asyncio.run(run_rate(base, workload, 50, args.warmup, seed=-1))  # warm the workers, not counted
                    for rate in rates:
                        workload.read_inboxes(base)
                        before, started = cpu_seconds(roots), time.perf_counter()
                        result = asyncio.run(run_rate(base, workload, rate, args.seconds, seed=round_ * 1000 + rate))
                        used = cores(before, cpu_seconds(roots), time.perf_counter() - started)
                        table.setdefault((workers, rate), []).append(result)
                        print(f"  round {round_ + 1}, {workers} workers, {rate} req/s offered: "
                              f"{result['goodput']:.0f} served/s, {result['shed']:.0f} shed, "
                              f"{result['errors']:.0f} errors, p99 {result['p99_ms']:.0f} ms, client lag p99 "
                              f"{result['client_lag_p99_ms']:.0f} ms; {used}", flush=True)
    print(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.seconds:g} s per rate, "
          f"{args.rounds} round(s), gunicorn -c deploy/gunicorn.conf.py, threads {args.threads}, proxy {args.proxy}, "
          f"max_conns {args.max_conns_per_worker} per worker"
          + (f", server on CPUs {args.server_cpus}, client on {args.client_cpus}" if server_cpus else ""))
    print(f"{'workers':>7}{'offered/s':>10}{'served/s (min/med/max)':>26}{'shed':>7}{'errors':>7}"
          f"{'p50 ms':>8}{'p99 ms (min/med/max)':>24}")
    ok = True
    for (workers, rate), runs in sorted(table.items()):
        served = [r["goodput"] for r in runs]
        p99 = [r["p99_ms"] for r in runs]
        print(f"{workers:>7}{rate:>10}{min(served):>10.0f}{statistics.median(served):>8.0f}{max(served):>8.0f}"
              f"{statistics.median([r['shed'] for r in runs]):>7.0f}"
              f"{statistics.median([r['errors'] for r in runs]):>7.0f}"
              f"{statistics.median([r['p50_ms'] for r in runs]):>8.0f}"
              f"{min(p99):>8.0f}{statistics.median(p99):>8.0f}{max(p99):>8.0f}")
        if rate == TARGET_RATE and not args.short and server_cpus is None:  # the target is the whole box's
            ok = ok and statistics.median(p99) < TARGET_P99_MS and not any(r["errors"] or r["shed"] for r in runs)
    return 0 if ok or args.short else 1


if __name__ == "__main__":
    sys.exit(main())
