"""Whatever a client sends — any request the OpenAPI schema allows, and the malformed ones
Schemathesis derives from it — the API never answers 5xx, and answers as its OpenAPI document
says: a status the operation documents, of the documented content type, headers and body (every
refusal a Problem whose detail says what is wrong).

The API under fuzz has a register of its own (so generated directory edits and users touch
nothing the other tests read), on the DATABASE_URL server when there is one (PostgreSQL refuses
what SQLite takes: a NUL character), and a task queue no worker serves (so generated cases never run)."""

import os
from collections import Counter

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance
from hypothesis import HealthCheck
from hypothesis import settings as fuzzing
from starlette.testclient import TestClient

from api.app import create_app
from api.errors import PAGE_MARK
from onedoor.store import users
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store.directory import seed_directory

# The schema is the app's own (building it connects to nothing).
schema = schemathesis.openapi.from_dict(create_app().openapi())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    given = os.environ.get("DATABASE_URL")
    with throwaway_register(given and Settings(database_url=given).register_url, tmp_path_factory.mktemp("fuzz"), "fuzz") as url:
        yield url


@pytest.fixture(scope="module")
def fuzzed(settings, register):
    """The API, and the keys of its admin (may act in any role) and of a township labour station."""
    engine = make_engine(register)
    with make_sessions(engine)() as session:
        seed_directory(session, settings.simulator_url)
        keys = {
            "admin": users.issue_key(session, users.ensure_user(session, "fuzz-admin", name="模糊测试", role="admin", active=True)),
            "unit": users.issue_key(session, users.ensure_user(session, "fuzz-unit", name="模糊测试单位", role="unit", unit_code="T101-LDS", active=True)),
        }
    engine.dispose()
    alone = settings.model_copy(update={"database_url": register, "county_code": "139098", "task_queue": "onedoor-fuzz-unserved"})
    with TestClient(create_app(alone)) as client:
        client.keys, client.outsiders = keys, Counter()
        yield client


def answer_as_documented(case, client: TestClient, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    data = request.pop("data", None)
    body = {"json": request.pop("json")} if "json" in request else {"data": data} if isinstance(data, dict) else {"content": data}  # a dict: a form's fields
    client.cookies = request.get("cookies") or {}
    response = client.request(request.pop("method"), request.pop("url"), params=request.get("params"), headers=request.get("headers"), **body)
    case.validate_response(response, checks=CHECKS, headers=request.get("headers"))
    if 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith("text/html"):
        assert 'role="alert"' in response.text, f"{case.method} {case.formatted_path}: a page refused without saying why"  # the citizens' lookup page
    elif 400 <= response.status_code < 500 and response.status_code != 405:
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), f"{case.method} {case.formatted_path}: {response.status_code} without a message: {response.text[:300]}"


@schema.parametrize()
@fuzzing(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_as_documented_and_none_a_server_error(case, fuzzed):
    """As an admin (who may act in any role); and the first examples of each operation also without
    a key (401) and with a unit's key where a unit has no business (403): those refusals are as
    documented too (a few suffice: they are answered before the input is looked at)."""
    answer_as_documented(case, fuzzed, fuzzed.keys["admin"])
    fuzzed.outsiders[case.operation.label] += 1
    if fuzzed.outsiders[case.operation.label] <= 2:
        for caller in (None, "unit"):
            answer_as_documented(case, fuzzed, caller and fuzzed.keys[caller])


def test_every_operation_documents_its_errors_as_a_problem():
    document = create_app().openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security"):
                assert "401" in responses, f"{method} {path}"
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, f"{method} {path}"
            for status, response in responses.items():
                if status >= "400" and response.get(PAGE_MARK):
                    assert path == "/lookup", f"{method} {path} {status}: only the citizens' form answers its refusals as a page"
                elif status >= "400":
                    named = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                    assert named == "Problem" or "detail" in document["components"]["schemas"][named]["properties"], f"{method} {path} {status}"
