"""DESIGN.md's layering, checked by reading every module's imports."""

from __future__ import annotations

import ast
import subprocess
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
# Production code never imports the development stand-ins at module level; these modules may, inside
# a function that runs only when a stand-in is enabled or asked for. `standins` itself may import any layer.
PRODUCTION = ("api", "services", "schemas", "notifications")
LAZY_STANDINS_ALLOWED = ("api/__init__.py", "api/routes.py", "api/cli/")


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


def standins_imports(path: Path) -> list[tuple[str, bool]]:
    """Each import of `standins` in a module, and whether it is lazy (inside a function)."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module]
            found.extend((name, in_function) for name in names if name == "standins" or name.startswith("standins."))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


def violations() -> list[str]:
    found = []
    for layer in PRODUCTION:
        for path in sorted((ROOT / layer).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for name, lazy in standins_imports(path):
                if not (lazy and relative.startswith(LAZY_STANDINS_ALLOWED)):
                    found.append(f"{relative} imports {name}{'' if lazy else ' at module level'}")
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


def test_the_check_catches_a_production_import_of_the_standins(tmp_path, monkeypatch):
    for folder in ("api/cli", "services", "notifications"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "api/routes.py").write_text("import standins\n\ndef register():\n    import standins.bank\n")
    (tmp_path / "api/cli/tools.py").write_text("def run():\n    from standins import fcm_emulator\n")
    (tmp_path / "api/views.py").write_text("def view():\n    from standins.eid import KeyStore\n")
    (tmp_path / "services/keys.py").write_text("if True:\n    from standins.eid import KeyStore\n")
    (tmp_path / "notifications/x.py").write_text("def f():\n    import standins\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert sorted(violations()) == ["api/routes.py imports standins at module level",
                                    "api/views.py imports standins.eid", "notifications/x.py imports standins",
                                    "services/keys.py imports standins.eid at module level"]


def test_a_production_app_never_imports_the_standins(tmp_path):
    # In a fresh interpreter: an app with the mocks off builds, serves its routes, and `standins` stays unloaded.
    code = (
        "import sys\n"
        "from api import create_app\n"
        "from services.settings import Settings\n"
        f"settings = Settings.from_env({{}}, env='test', instance_dir={str(tmp_path)!r}, "
        f"database_url={f'sqlite:///{tmp_path}/app.db'!r}, eid_mock_enabled=False, payment_mock_enabled=False, "
        "postal_mock_enabled=False)\n"
        "app = create_app(settings)\n"
        "assert app.test_client().get('/mock-eid/jwks.json').status_code == 404\n"
        "assert app.test_client().get('/mock-gateway/pay').status_code == 404\n"
        "assert app.test_client().post('/mock-carrier/waybills').status_code == 404\n"
        "assert not [m for m in sys.modules if m == 'standins' or m.startswith('standins.')], sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_wsgi_only_builds_the_app():
    tree = ast.parse((ROOT / "wsgi.py").read_text())
    assert [type(n).__name__ for n in tree.body] == ["Expr", "ImportFrom", "Assign"]
