"""The push worker (and the webhook dispatcher beside it) as a process of its own, built from the
runtime without an HTTP app: `smartqn-worker [--once]` or `python worker.py [--once]` (the same as
`smartqn notifications worker`)."""

from __future__ import annotations

import json
import sys

from api.push import make_dispatcher, make_worker, run
from services.runtime import Runtime
from services.settings import Settings


def main() -> None:
    runtime = Runtime.build(Settings.from_env())
    stats = run(make_worker(runtime), once="--once" in sys.argv[1:], dispatcher=make_dispatcher(runtime))
    if stats is not None:
        print(json.dumps(stats))


if __name__ == "__main__":
    main()
