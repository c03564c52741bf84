"""Notification texts in Vietnamese and English: a title and a body per kind, filled from the params."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

from vocab import Language

LANGUAGES = tuple(Language)
_HERE = Path(__file__).resolve().parent


@cache
def _texts(lang: str) -> dict[str, tuple[str, str]]:
    raw = json.loads((_HERE / f"{lang}.json").read_text(encoding="utf-8"))
    return {kind: (title, body) for kind, (title, body) in raw.items()}


def kinds() -> frozenset[str]:
    return frozenset(_texts("vi"))


def placeholders(kind: str, lang: str) -> set[str]:
    return {name for text in _texts(lang)[kind] for _, name, _, _ in Formatter().parse(text) if name}


class _Missing(dict):
    # A text never fails for want of a parameter: an old row rendered by a newer template shows a dash.
    def __missing__(self, key: str) -> str:
        return "–"


def render(kind: str, params: dict[str, Any], lang: str = "vi") -> tuple[str, str]:
    """(title, body) of a notification in `lang` (Vietnamese when the language is unknown). In English a
    param `x` is shown as its `x_en` (e.g. `procedure_en`, the catalog's English name) where the row has
    one; older rows and names without a translation stay in Vietnamese."""
    lang = lang if lang in LANGUAGES else "vi"
    texts = _texts(lang)
    title, body = texts[kind]
    values = _Missing({k: v for k, v in params.items() if v is not None})
    if lang != "vi":
        values.update({k: values[f"{k}_{lang}"] for k in list(values) if f"{k}_{lang}" in values})
    return title.format_map(values), body.format_map(values)


def data(*, kind: str, params: dict[str, Any], dossier_id: str | None, notification_id: str) -> dict[str, str]:
    """The push's `data` (API.md's keys, all strings as FCM requires); the inbox shows the same."""
    payload = {"kind": kind, "dossier_id": dossier_id or "", "dossier_code": params.get("code") or "",
               "status": params.get("status") or "", "notification_id": notification_id}
    if params.get("wallet_item_id"):  # a wallet reminder: the app opens the paper
        payload["wallet_item_id"] = str(params["wallet_item_id"])
    if params.get("document_id"):  # the desk document (form 01-04) the move issued, to open from the push
        payload.update(document_id=str(params["document_id"]), form_no=str(params.get("form_no") or ""))
    return payload
