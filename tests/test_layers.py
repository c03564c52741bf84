"""DESIGN.md's layering, checked by reading every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# layer → import prefixes it must never use (DESIGN.md, "Which layer may import which").
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "api": ("sqlalchemy", "firebase_admin", "services.models"),
    "schemas": ("flask", "flask_smorest", "sqlalchemy", "services", "api", "notifications"),
    "services": ("flask", "flask_smorest", "marshmallow", "schemas", "api", "werkzeug", "firebase_admin"),
    "notifications": ("api", "schemas", "flask_smorest"),
}
# The only modules of `services` that `notifications` may use.
NOTIFICATIONS_MAY_USE = ("services.db", "services.models", "services.settings")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (imports for annotations only are allowed)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return found


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations() -> list[str]:
    found = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for name in imports_of(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
                if layer == "notifications" and name.startswith("services") and not any(
                        name == m or name.startswith(m + ".") for m in NOTIFICATIONS_MAY_USE):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_layers_import_only_downward():
    assert violations() == []


def test_the_check_catches_a_violation(tmp_path, monkeypatch):
    # The rule itself must be able to fail: a services module importing flask is reported.
    fake = tmp_path / "services"
    fake.mkdir()
    (fake / "bad.py").write_text("from flask import request\nimport schemas.catalog\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert sorted(violations()) == ["services/bad.py imports flask", "services/bad.py imports flask.request",
                                    "services/bad.py imports schemas.catalog"]


def test_the_vocabulary_imports_nothing_of_ours():
    assert imports_of(ROOT / "vocab.py") <= {"__future__", "__future__.annotations", "enum", "enum.StrEnum"}


def test_imports_for_annotations_only_are_allowed(tmp_path, monkeypatch):
    fake = tmp_path / "api"
    fake.mkdir()
    (fake / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from services.models import Dossier\nelse:\n    import sqlalchemy\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == ["api/typed.py imports sqlalchemy"]


def test_wsgi_only_builds_the_app():
    tree = ast.parse((ROOT / "wsgi.py").read_text())
    assert [type(n).__name__ for n in tree.body] == ["Expr", "ImportFrom", "Assign"]
