"""The submit's physical reference: the statements our submit sends, replayed by a bare Flask endpoint.

For reads the issue measured "bare Flask + one indexed PostgreSQL read" as what the hardware allows. A submit
is four statements and a commit that PostgreSQL must do whatever the app is written in (claim the
Idempotency-Key, lock and read the dossier, take the code, and write the dossier, its timeline entry, event
and notifications in one statement). `capture` records them, with their parameters, from two real submits
through the app in this process; `Replay` (served by bench/bare.py's `/bare-submit/<id>`) sends the same SQL
text through psycopg in one transaction, with the values that differed between the two submits made fresh
for each draft. What a real submit costs beyond that replay is the app's own (Flask's share is in both).
"""

from __future__ import annotations

import json
import pickle
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from psycopg.types.json import Json

Statement = tuple[str, dict[str, Any]]  # SQL text (pyformat) and its parameters


@dataclass
class Template:
    """The captured statements, the dossier id they were captured with, and per statement the parameters
    whose values differed between the two submits (made fresh for each draft)."""

    statements: list[Statement]
    dossier_id: str
    varying: list[frozenset[str]]


def _plain(value: Any) -> Any:
    return value.obj if isinstance(value, Json) else value


def capture(app: Any, headers: dict[str, str], drafts: tuple[str, ...], path: Path) -> Path:
    """Submit drafts through `app` (a Flask app on PostgreSQL), recording the statements each sends (its BEGIN
    and COMMIT are the driver's, and the replay's own); write the Template of the last two to `path` (the first
    may be a day's first code, which makes the counter's row)."""
    from sqlalchemy import event

    from api.context import state_of

    engine = state_of(app).runtime.engine
    client = app.test_client()
    runs: list[list[Statement]] = []
    for draft in drafts:
        sent: list[Statement] = []

        def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool,
                   into: list[Statement] = sent) -> None:
            into.append((sql, dict(params or {})))

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.post(f"/api/v1/dossiers/{draft}/submit",
                                   headers={**headers, "Idempotency-Key": f"floor-{draft}"})
        finally:
            event.remove(engine, "before_cursor_execute", record)
        if response.status_code != 200:
            raise RuntimeError(f"capture: {response.status_code} {response.get_data(as_text=True)[:300]}")
        runs.append(sent)
    first, second = runs[-2:]
    if [sql for sql, _ in first] != [sql for sql, _ in second]:
        raise RuntimeError("capture: the two submits sent different statements")
    varying = [frozenset(k for k in a if _plain(a[k]) != _plain(b.get(k)))
               for (_, a), (_, b) in zip(first, second, strict=True)]
    path.write_bytes(pickle.dumps(Template(second, drafts[-1], varying)))
    return path


class Replay:
    """The captured submit for another draft: each varying value fresh (the dossier's id where the captured
    one was, new ids and codes, the current time)."""

    def __init__(self, path: Path, database_url: str) -> None:
        import psycopg

        self.template: Template = pickle.loads(path.read_bytes())  # noqa: S301 (written by capture, above)
        self.connection = psycopg.connect(database_url)

    def submit(self, dossier_id: str) -> int:
        """One submit's statements in one transaction; the rows the locked read found."""
        now = datetime.now(UTC)
        found = 0
        with self.connection.transaction():
            for (sql, params), varying in zip(self.template.statements, self.template.varying, strict=True):
                values = {k: (self._fresh(v, dossier_id, now) if k in varying else v) for k, v in params.items()}
                cursor = self.connection.execute(sql, values)
                rows = cursor.fetchall() if cursor.description is not None else []
                found += len(rows) if "FOR UPDATE" in sql else 0
        return found

    def _fresh(self, value: Any, dossier_id: str, now: datetime) -> Any:
        captured = self.template.dossier_id
        if isinstance(value, Json):
            return Json(json.loads(json.dumps(value.obj, default=str).replace(captured, dossier_id)))
        if isinstance(value, datetime):
            return now
        if isinstance(value, date):
            return now.date()
        if isinstance(value, str):
            if captured in value:
                return value.replace(captured, dossier_id)
            return str(uuid.uuid4()) if len(value) == 36 else uuid.uuid4().hex[:len(value)]
        return value
