"""Events out benchmarks on PostgreSQL (issue 15), in one run:

1. event → webhook arrival: events committed one by one (10 a second) while a dispatcher (as in a
   worker process) runs; p50/p95 from each commit to its arrival at a local receiver that verifies
   the signature. Target: p95 under 1 s.
2. deliveries per second of one dispatcher (one worker) to the local receiver, over a backlog of N events.
3. commit → SSE: 1,000 streams open on the stream server (`flask events stream`, its own process),
   200 citizens with 5 streams each; events committed for random citizens; p50/p95 from the commit to
   the arrival on each of that citizen's 5 streams. Target: p95 under 500 ms.
4. the API's detail read (`GET /api/v1/dossiers/{id}`, gunicorn 2 sync workers, wrk) with the 1,000
   streams open and events flowing, as a ratio to the same without them. Target: at least 90 %.

Usage: `.venv/bin/python bench/events.py [--streams 1000] [--backlog 2000] [--seconds 10] [--rounds 3]`;
`--short` is the CI smoke (no speed targets).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from common import BIN, ROOT, free_port, gunicorn, post_json, scratch_database, sign_in, wrk

sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from services.clock import clock  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.events import log as events  # noqa: E402
from services.events import webhooks  # noqa: E402
from services.events.delivery import Dispatcher  # noqa: E402
from services.models import User  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.event_helpers import Receiver  # noqa: E402

CITIZEN = {"cccd": "049085001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-12", "gender": "male",
           "eid_level": 2}
ADMIN = {"cccd": "049180003456", "full_name": "Võ Thị Hà", "date_of_birth": "1980-09-09", "gender": "female",
         "eid_level": 2}
PROCEDURE = {"procedure_code": "1.004873", "form": {"purpose": "Kết hôn"}}


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def record(sessions, user_id: str | None, n: int) -> tuple[int, float]:
    """One event committed on its own; its id and the commit time (time.time())."""
    with sessions() as session, session.begin():
        event = events.record(session, "dossier.status_changed", "dossier", f"bench-{n}",
                              {"dossier_id": f"bench-{n}", "status": "received", "national_status": 2},
                              sequence=1, user_id=user_id, agency_id=None)
        session.flush()
        event_id = event.id
    return event_id, time.time()


# --- webhooks --------------------------------------------------------------------------------------

def webhook_bench(sessions, settings: Settings, backlog: int, samples: int) -> dict[str, float]:
    receiver = Receiver().start()
    arrivals: dict[str, float] = {}
    original = receiver.arrivals

    with sessions() as session:
        sub, secret = webhooks.create(session, _system(), url=receiver.url, events=["dossier.status_changed"],
                                      description="bench", settings=settings)
    receiver.secret = secret
    dispatcher = Dispatcher(sessions, settings, now=clock.now)
    thread = threading.Thread(target=dispatcher.run_forever, daemon=True)
    thread.start()
    timings = []
    try:
        for n in range(samples):
            event_id, committed = record(sessions, None, n)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                hit = [a for a in original if a.event["id"] == str(event_id)]
                if hit:
                    timings.append((hit[0].wall - committed) * 1000)
                    break
                time.sleep(0.002)
            else:
                sys.exit(f"event {event_id} not delivered within 10 s")
            time.sleep(0.1)
        dispatcher.stop.set()
        dispatcher.wakeup.set()
        thread.join(5)
        # Throughput: a backlog of events, then one dispatcher drains it.
        for n in range(backlog):
            record(sessions, None, samples + n)
        before = len(original)
        counter = Dispatcher(sessions, settings, now=clock.now)
        counter.fan_out()
        started = time.perf_counter()
        counter.drain(timeout=300)
        rate = (len(original) - before) / (time.perf_counter() - started)
        counter.close()
        if receiver.refused:
            sys.exit(f"receiver refused {len(receiver.refused)} deliveries: {receiver.refused[:3]}")
    finally:
        receiver.stop()
    del arrivals
    return {"p50": statistics.median(timings), "p95": p(timings, 95), "rate": rate, "samples": len(timings)}


def _system():
    from services.actors import Actor

    return Actor(user_id="", role="admin")


# --- live streams ----------------------------------------------------------------------------------

class Streams:
    """N raw SSE connections in an asyncio loop of their own; records when each event id arrives."""

    def __init__(self, port: int, tokens: list[str]) -> None:
        self.port, self.tokens = port, tokens
        self.arrived: dict[str, list[float]] = {}
        self.open = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    async def one(self, token: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(f"GET /api/v1/me/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        self.open += 1
        event_id = None
        while line := await reader.readline():
            if line.startswith(b"id: "):
                event_id = line[4:].strip().decode()
            elif line == b"\n" and event_id:
                self.arrived.setdefault(event_id, []).append(time.time())
                event_id = None

    async def main(self) -> None:
        tasks = []
        for i, token in enumerate(self.tokens):
            tasks.append(asyncio.create_task(self.one(token)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        while self.open < len(self.tokens):
            await asyncio.sleep(0.05)
        self.ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> None:
        threading.Thread(target=lambda: self.loop.run_until_complete(self.main()), daemon=True).start()
        if not self.ready.wait(120):
            sys.exit(f"only {self.open} of {len(self.tokens)} streams opened")


def get_json(url: str, token: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})) as r:
        return json.loads(r.read())


def median_run(runs: list[dict]) -> dict:
    """The run of median requests/s (one 10 s run swung ±15 % on a shared 2-core box)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs of the detail read per arm (median)")
    parser.add_argument("--short", action="store_true", help="CI smoke: 20 streams, small backlog, 1 s runs, "
                        "every arrival still checked, no speed targets")
    args = parser.parse_args()
    if args.short:
        args.streams, args.backlog, args.samples, args.seconds, args.rounds = 20, 20, 5, 1, 1
    people = max(1, args.streams // 5)
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SMARTQN_INSTANCE_DIR": tmp, "SMARTQN_DATABASE_URL": url,
               "SMARTQN_RATELIMIT_ENABLED": "false", "SMARTQN_ACCESS_TOKEN_TTL": "3600",
               "SMARTQN_LOG_LEVEL": "WARNING"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        for command in (["db", "upgrade"], ["seed"]):
            subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        settings = Settings.from_env(env)
        engine = make_engine(url, pool_size=5)
        sessions = sessionmaker(engine, expire_on_commit=False)
        hooks = webhook_bench(sessions, settings, args.backlog, args.samples)

        port, stream_port = free_port(), free_port()
        env = {**env, "SMARTQN_BASE_URL": f"http://127.0.0.1:{port}"}
        stream_server = subprocess.Popen([*flask, "events", "stream", "--port", str(stream_port)], cwd=ROOT, env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with gunicorn("wsgi:app", env, ROOT, port) as base:
                token = sign_in(base, CITIZEN)
                dossier = post_json(f"{base}/api/v1/dossiers", PROCEDURE, token)
                detail = f"{base}/api/v1/dossiers/{dossier['id']}"
                headers = {"Authorization": f"Bearer {token}"}
                wrk(detail, 2, 16, headers)  # warm up
                alone = median_run([wrk(detail, args.seconds, 16, headers) for _ in range(args.rounds)])

                tokens = [sign_in(base, {**CITIZEN, "cccd": f"0490850{i:05d}"}) for i in range(people)]
                with sessions() as session:
                    users = dict(session.execute(select(User.cccd, User.id).where(User.cccd.like("0490850%"))).all())
                user_ids = [users[f"0490850{i:05d}"] for i in range(people)]
                streams = Streams(stream_port, [t for t in tokens for _ in range(5)][:args.streams])
                streams.start()
                # Steady state: the stream server answers each connection's status line before its first
                # replay and unread count, so 1,000 connections keep it busy a few seconds after the last
                # opens; measuring then (as this bench did with a 1 s pause) counted the connecting, and
                # the ratio swung between 81 % and 99 % from run to run.
                time.sleep(5)

                stop = threading.Event()
                sent: dict[str, tuple[float, int]] = {}
                r = random.Random(7)

                def flow() -> None:  # 20 events a second for random citizens while wrk runs
                    n = 0
                    while not stop.is_set():
                        i = r.randrange(people)
                        event_id, committed = record(sessions, user_ids[i], 100_000 + n)
                        sent[str(event_id)] = (committed, min(5, args.streams - 5 * i) if i * 5 < args.streams else 0)
                        n += 1
                        time.sleep(0.05)

                flowing = threading.Thread(target=flow, daemon=True)
                flowing.start()
                crowded = median_run([wrk(detail, args.seconds, 16, headers) for _ in range(args.rounds)])
                stop.set()
                flowing.join(5)
                time.sleep(1)
                latencies = [(t - committed) * 1000 for event_id, (committed, expected) in sent.items()
                             for t in streams.arrived.get(event_id, [])]
                expected = sum(e for _, e in sent.values())
                received = sum(len(streams.arrived.get(e, [])) for e in sent)
        finally:
            stream_server.terminate()
            stream_server.wait(timeout=10)
        engine.dispose()

    ratio = crowded["rps"] / alone["rps"]
    sse95 = p(latencies, 95) if latencies else float("inf")
    print(f"event → webhook arrival, {hooks['samples']:.0f} events: p50 {hooks['p50']:.0f} ms, "
          f"p95 {hooks['p95']:.0f} ms (target < 1000 ms: {'ok' if hooks['p95'] < 1000 else 'MISS'})")
    print(f"one dispatcher, backlog of {args.backlog} to a local receiver: {hooks['rate']:.0f} deliveries/s")
    print(f"commit → SSE with {streams.open} streams open, {len(sent)} events, {received}/{expected} arrivals: "
          f"p50 {statistics.median(latencies):.0f} ms, p95 {sse95:.0f} ms "
          f"(target < 500 ms: {'ok' if sse95 < 500 else 'MISS'})")
    print(f"detail read: {alone['rps']:.0f} req/s alone, {crowded['rps']:.0f} req/s with the streams open "
          f"and events flowing = {ratio:.0%} (target ≥ 90 %: {'ok' if ratio >= 0.9 else 'MISS'}); "
          f"p99 {alone['p99_ms']:.1f} → {crowded['p99_ms']:.1f} ms")
    if args.short:
        return 0 if received == expected else 1
    return 0 if hooks["p95"] < 1000 and sse95 < 500 and ratio >= 0.9 and received == expected else 1


if __name__ == "__main__":
    sys.exit(main())
