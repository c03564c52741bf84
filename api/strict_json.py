"""Request bodies read strictly: JSON that no schema or database could hold is refused at the edge (422).

Python's json accepts what neither PostgreSQL nor a phone's JSON parser can hold: `NaN` and
`Infinity`, `1e400` (infinity again), integers longer than any double (Python stops at 4,300
digits with a ValueError), lone UTF-16 surrogates (`"\\ud800"`, unencodable in UTF-8, so every
response that later contains them fails) and nesting deep enough to exhaust the stack. Each is named
by its path. NUL is left to the schema-aware check in api/blueprint.py: a free-form `form` keeps it
escaped in its JSON column, a typed text field cannot.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma

MAX_DEPTH = 32
MAX_INT_DIGITS = 309  # a double's range: what any client can have meant


def _refuse(path: str, message: str) -> ma.ValidationError:
    return ma.ValidationError({path or "_schema": [message]})


def _number(text: str) -> Any:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _refuse("_schema", f"Integers have at most {MAX_INT_DIGITS} digits.")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _refuse("_schema", "Numbers must be finite.")
    return value


def _constant(name: str) -> Any:
    raise _refuse("_schema", f"{name} is not a JSON number.")


def _text_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Lone UTF-16 surrogates are not text."
    return None


def _check(value: Any) -> None:
    """Depth, text and keys of a decoded body, iteratively (a deep body must not recurse here either)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _refuse(path, f"Nested more than {MAX_DEPTH} levels.")
        if isinstance(item, str):
            if problem := _text_problem(item):
                raise _refuse(path, problem)
        elif isinstance(item, dict):
            for key, inner in item.items():
                where = f"{path}.{key}" if path else str(key)
                if problem := _text_problem(key):
                    raise _refuse(path, f"A key: {problem}")
                stack.append((inner, where, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]", depth + 1) for i, inner in enumerate(item))


def loads(data: bytes) -> Any:
    """Decode a request body; ma.ValidationError (422) for what cannot be held, JSONDecodeError (400)
    for what is not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse("_schema", "The body is not UTF-8.") from exc
    try:
        value = json.loads(text, parse_int=_number, parse_float=_float, parse_constant=_constant)
    except RecursionError as exc:
        raise _refuse("_schema", f"Nested more than {MAX_DEPTH} levels.") from exc
    _check(value)
    return value
