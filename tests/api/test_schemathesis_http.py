"""Schemathesis over real HTTP, as the outside checks ran it: every check it has, as each of the four
callers (anonymous, citizen, official, admin), and statefully along the document's OpenAPI links
(draft → paper → submit; the office's queue → a dossier → its actions).

The app is served by werkzeug on `base_url` (tests/conftest.py), inside the test's transaction. These
run against PostgreSQL, the production database (.ci/run's second pass): in-process schemathesis
(tests/api/test_schemathesis.py) already covers every operation on SQLite, and this is the slowest file.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.generation.stateful.state_machine import normalize_name
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from services.people.identity import grant_staff
from tests.dossier_helpers import PDF, SIMPLE, submitted
from tests.helpers import ADMIN, CITIZEN, OFFICIAL, sign_in
from tests.schemathesis_helpers import CROSS_FIELD, STORED_RULES, without_nul

EVERY_CHECK = CHECKS.get_all()
schema = schemathesis.pytest.from_fixture("http_schema")


@pytest.fixture(autouse=True)
def _on_postgresql(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("over HTTP on PostgreSQL only (.ci/run's second pass); in process on SQLite")


@pytest.fixture
def tokens(client, session) -> dict[str, str]:
    grant_staff(session, ADMIN["cccd"], role="admin", agency_code=None)
    grant_staff(session, OFFICIAL["cccd"], role="official", agency_code=SIMPLE["agency"])
    return {"citizen": sign_in(client, CITIZEN)["access_token"],
            "official": sign_in(client, OFFICIAL)["access_token"],
            "admin": sign_in(client, ADMIN)["access_token"]}


def _document(client) -> dict:
    document = client.get("/api/v1/openapi.json").json
    without_nul(document)
    return document


@pytest.fixture
def http_schema(app, client, session, base_url):
    loaded = schemathesis.openapi.from_dict(_document(client))
    loaded.config.update(base_url=base_url)
    return loaded


def excluded(case, role: str) -> list:
    rules = CROSS_FIELD if role == "anonymous" else STORED_RULES
    return [positive_data_acceptance] if case.operation.path in rules else []


def _as(role: str):
    @schema.parametrize()
    @settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case, tokens):
        # A real token where schemathesis means to authenticate; its "no credentials" cases stay so.
        wants_auth = "Authorization" in (case.headers or {})
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" and wants_auth else None
        case.call_and_validate(headers=headers, checks=EVERY_CHECK, excluded_checks=excluded(case, role))

    return check


test_every_check_over_http_anonymously = _as("anonymous")
test_every_check_over_http_as_a_citizen = _as("citizen")
test_every_check_over_http_as_an_official = _as("official")
test_every_check_over_http_as_an_admin = _as("admin")


def _caller_of(path: str) -> str:
    if path.startswith("/api/v1/admin/dossiers"):
        return "official"
    return "admin" if path.startswith("/api/v1/admin/") else "citizen"


@pytest.fixture
def flows(client, session, base_url, tokens):
    """Runs the document's links statefully, as the citizen, official or admin each path belongs to,
    and returns the (operationId, status) pairs answered and the dossiers submitted and acted on."""
    citizen = {"access_token": tokens["citizen"]}
    for _ in range(2):  # so that the queue has work
        submitted(client, citizen)
    document = _document(client)
    # Narrowed to a real procedure so drafts get past creation; negative data is the other test's job.
    create = document["components"]["schemas"]["CreateDossier"]["properties"]
    create["procedure_code"] = {"type": "string", "enum": [SIMPLE["code"]]}
    create.pop("agency_code")
    create["form"] = {"type": "object", "enum": [SIMPLE["form"]]}
    # A change of the form keeps it submittable; a paper is the procedure's own, uploaded (a real PDF
    # in before_call below), not taken from a wallet the citizen does not have.
    document["components"]["schemas"]["UpdateDossier"]["properties"]["form"] = {"type": "object",
                                                                                "enum": [SIMPLE["form"]]}
    document["components"]["schemas"]["Upload"]["properties"]["document_type"] = {
        "type": "string", "enum": SIMPLE["documents"]}
    document["paths"]["/api/v1/dossiers/{dossier_id}/attachments"]["post"]["requestBody"]["content"].pop(
        "application/json")
    action = document["components"]["schemas"]["Action"]["properties"]
    action["action"] = {"type": "string", "enum": ["receive"]}
    for name in ("variant", "agency_code", "new_due_at"):
        action.pop(name)
    connection = session.get_bind()

    def run(*, operations: list[str] | None = None, skip_links: tuple[str, ...] = (), examples: int,
            steps: int) -> Flown:
        narrowed = copy.deepcopy(document)
        for skipped in skip_links:  # "operationId.LinkName"
            operation_id, link = skipped.split(".")
            for path_item in narrowed["paths"].values():
                for operation in path_item.values():
                    if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                        for response in operation["responses"].values():
                            response.get("links", {}).pop(link, None)
        loaded = schemathesis.openapi.from_dict(narrowed)
        loaded.config.update(base_url=base_url)
        loaded.config.phases.stateful.inference.algorithms = []  # the document's own links, not guesses
        loaded.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]
        if operations:
            loaded = loaded.include(operation_id=operations)
        machine = loaded.as_state_machine()
        # A scenario may start at any POST; one with a path parameter (a paper, a submit, an action) can
        # only answer 404 to a made-up id, so those start nowhere and come from the links' real ids.
        made_up = {normalize_name(f"RANDOM -> {label}") for label in machine._root_labels if "{" in label}
        assert made_up <= machine.root_rules, (made_up, machine.root_rules)
        flown = Flown()

        class Flows(machine):  # type: ignore[misc]
            # Each scenario starts from the same database (the two dossiers above), so that hypothesis,
            # which replays and mutates scenarios, sees the same answers to the same requests.
            locals().update(dict.fromkeys(made_up))

            def setup(self):
                self.savepoint = connection.begin_nested()

            def teardown(self):
                self.savepoint.rollback()

            def before_call(self, case):
                if case.operation.definition.raw.get("operationId") == "dossiers_attach":
                    case.body = {**case.body, "file": PDF}

            def after_call(self, response, case):
                operation = case.operation.definition.raw.get("operationId")
                flown.answered[(operation, response.status_code)] += 1
                if response.status_code == 200 and operation in ("dossiers_submit", "admin_dossiers_act"):
                    flown.dossiers[operation].add(case.path_parameters["dossier_id"])

            def get_call_kwargs(self, case):
                return {"headers": {"Authorization": f"Bearer {tokens[_caller_of(case.operation.path)]}"}}

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                # Collected and reported after the run, each with its request, rather than shrunk.
                try:
                    case.validate_response(response, checks=EVERY_CHECK, additional_checks=additional_checks,
                                           excluded_checks=[negative_data_rejection] + (
                                               [positive_data_acceptance] if case.operation.path in STORED_RULES
                                               else []),
                                           transport_kwargs=kwargs or None)
                except Exception as failure:  # noqa: BLE001 - reported below, with the request
                    flown.failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {failure}")

        Flows.run(settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                                    derandomize=True, phases=[Phase.generate],
                                    suppress_health_check=list(HealthCheck)))
        assert not flown.failures, "\n".join(flown.failures[:10])
        return flown

    return run


@dataclass
class Flown:
    answered: Counter[tuple[str, int]] = field(default_factory=Counter)
    dossiers: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    failures: list[str] = field(default_factory=list)

    def saw(self, *steps: tuple[str, int]) -> None:
        for step in steps:
            assert self.answered[step], (step, "; ".join(f"{k}:{v}" for k, v in sorted(self.answered.items())))


def test_stateful_flows_over_http(flows):
    """Follows every link of the document: the citizen's drafts, papers and submits, the official's
    queue, reads and actions on dossiers of their agency, bundles, devices, the catalog."""
    flown = flows(examples=80, steps=8)
    # The flows went deep: drafts made and followed, and the office acted on a dossier it opened.
    flown.saw(("dossiers_create", 201), ("dossiers_get", 200), ("admin_dossiers_get", 200),
              ("admin_dossiers_act", 200))


def test_stateful_draft_paper_submit_action_over_http(flows):
    """The main flow alone, link after link: a draft, its paper (a real PDF of the type the procedure
    asks for), its submit, and the office's action on that dossier."""
    # A draft is submitted after its paper (the link from the paper), not straight after its creation.
    flown = flows(operations=["dossiers_create", "dossiers_attach", "dossiers_submit", "admin_dossiers_get",
                              "admin_dossiers_act"], skip_links=("dossiers_create.SubmitDossier",),
                  examples=30, steps=10)
    flown.saw(("dossiers_create", 201), ("dossiers_attach", 201), ("dossiers_submit", 200),
              ("admin_dossiers_get", 200), ("admin_dossiers_act", 200))
    # The office acted on a dossier submitted during the run, not only on the two made beforehand.
    assert flown.dossiers["dossiers_submit"] & flown.dossiers["admin_dossiers_act"], flown.dossiers
