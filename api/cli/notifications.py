"""`flask --app wsgi notifications worker [--once]` and `notifications emulator --port P`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from api.context import state_of
from api.push import make_dispatcher, make_worker, run

notifications_cli = AppGroup("notifications", help="Push notifications: the outbox worker and the FCM emulator.")


@notifications_cli.command("worker")
@click.option("--once", is_flag=True, help="Send everything due now, run the periodic chores once, and exit.")
def worker(once: bool) -> None:
    """Drain the push outbox and deliver webhooks (run as many as you like, on as many machines: they
    share the work)."""
    runtime = state_of(current_app).runtime
    stats = run(make_worker(runtime), once=once, dispatcher=make_dispatcher(runtime))
    if stats is not None:
        click.echo(json.dumps(stats))


@notifications_cli.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--credentials", "credentials_file", type=click.Path(dir_okay=False),
              help="Service-account JSON to use, written (pointing at this emulator) if it does not exist. "
                   "Default: <instance>/fcm-emulator.json")
def run_emulator(host: str, port: int, credentials_file: str | None) -> None:
    """A local FCM v1 stand-in: OAuth token endpoint, messages:send, topics, and test controls."""
    from standins import fcm_emulator as emulator  # a development stand-in, imported only to run it

    path = Path(credentials_file or Path(current_app.instance_path) / "fcm-emulator.json")
    base = f"http://{host}:{port}"
    if path.exists():
        account = json.loads(path.read_text())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        account = emulator.write_credentials(path, token_uri=f"{base}/token")
    click.echo(f"FCM emulator on {base}; point the app at it with:\n"
               f"  SMARTQN_PUSH_SENDER=fcm SMARTQN_FCM_CREDENTIALS={path} SMARTQN_FCM_ENDPOINT={base}")
    emulator.serve(emulator.create_emulator(account), host, port).serve_forever()
