"""A Python client generated from the OpenAPI document (openapi-python-client, a generator nobody here
wrote) runs the citizen journey against the live test server: sign in with an eID token from the mock
provider, start a draft, attach a paper, submit.

The generator is a tool, not a dependency: the test looks for `openapi-python-client` on PATH, in
`.venv-gen/bin` (where .ci/run installs it) or at $OPENAPI_PYTHON_CLIENT, and skips, saying so,
where there is none.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.dossier_helpers import PDF, SIMPLE
from tests.helpers import CITIZEN

ROOT = Path(__file__).resolve().parents[2]


def generator() -> str | None:
    candidates = [os.environ.get("OPENAPI_PYTHON_CLIENT"), shutil.which("openapi-python-client"),
                  str(ROOT / ".venv-gen" / "bin" / "openapi-python-client")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture
def generated(client, tmp_path, monkeypatch):
    tool = generator()
    if tool is None:
        pytest.skip("openapi-python-client is not installed (pip install openapi-python-client into .venv-gen)")
    spec = client.get("/api/v1/openapi.json").json
    # openapi-python-client 0.29 writes `| Unset` without importing it for a request body of two media
    # types (attaching: multipart upload or JSON wallet item); this journey uploads, so it gets one.
    attach = spec["paths"]["/api/v1/dossiers/{dossier_id}/attachments"]["post"]["requestBody"]["content"]
    attach.pop("application/json")
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(spec))
    result = subprocess.run([tool, "generate", "--path", str(document), "--meta", "none",
                             "--output-path", str(tmp_path / "smartqn_client")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "smartqn_client" or m.startswith("smartqn_client.")]:
        del sys.modules[name]
    return importlib.import_module("smartqn_client")


def test_a_generated_client_runs_the_citizen_journey(generated, settings, session):
    from smartqn_client import AuthenticatedClient, Client
    from smartqn_client.api.auth import auth_sign_in
    from smartqn_client.api.dossiers import dossiers_attach, dossiers_create, dossiers_get, dossiers_submit
    from smartqn_client.models import CreateDossier, CreateDossierForm, Dossier, EidSignIn, TokenPair, Upload
    from smartqn_client.types import File

    base = settings.base_url
    # The mock eID provider (development only) stands in for VNeID: it is not part of the API document.
    id_token = httpx.post(f"{base}/mock-eid/token", json=CITIZEN, timeout=10).json()["id_token"]
    tokens = auth_sign_in.sync(client=Client(base_url=base), body=EidSignIn(id_token=id_token))
    assert isinstance(tokens, TokenPair), tokens
    api = AuthenticatedClient(base_url=base, token=tokens.access_token)

    created = dossiers_create.sync_detailed(client=api, body=CreateDossier(
        procedure_code=SIMPLE["code"], form=CreateDossierForm.from_dict(SIMPLE["form"])))
    assert created.status_code == 201 and isinstance(created.parsed, Dossier), created.content
    dossier = created.parsed
    assert created.headers["Location"].endswith(f"/api/v1/dossiers/{dossier.id}")
    assert created.headers["ETag"] == '"v1"' or created.headers["ETag"].startswith('"v')
    assert dossier.rating is None

    for document_type in SIMPLE["documents"]:
        attached = dossiers_attach.sync_detailed(dossier.id, client=api, body=Upload(
            document_type=document_type, file=File(payload=PDF, file_name="to-khai.pdf", mime_type="application/pdf")))
        assert attached.status_code == 201, attached.content

    done = dossiers_submit.sync(dossier.id, client=api, idempotency_key="generated-client-journey")
    assert isinstance(done, Dossier), done
    assert done.status.value == "submitted" and done.code
    again = dossiers_get.sync(dossier.id, client=api)
    assert isinstance(again, Dossier) and again.code == done.code
