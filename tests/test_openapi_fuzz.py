"""Whatever a client sends — any request the OpenAPI schema allows, and the malformed ones
Schemathesis derives from it — the API never answers 5xx, and answers as its OpenAPI document
says: a status the operation documents, of the documented content type, headers and body (every
refusal a Problem whose detail says what is wrong).

The API under fuzz has a register of its own (so generated directory edits and users touch
nothing the other tests read), on the DATABASE_URL server when there is one (PostgreSQL refuses
what SQLite takes: a NUL character), and a task queue no worker serves (so generated cases never run)."""

import os

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance
from hypothesis import HealthCheck
from hypothesis import settings as fuzzing
from starlette.testclient import TestClient

from api.app import create_app
from store import users
from settings import Settings
from store.db import make_engine, make_sessions, throwaway_register
from store.directory import seed_directory

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
    engine = make_engine(register)
    with make_sessions(engine)() as session:
        seed_directory(session, settings.simulator_url)
        key = users.issue_key(session, users.ensure_user(session, "fuzz-admin", name="模糊测试", role="admin", active=True))
    engine.dispose()
    alone = settings.model_copy(update={"database_url": register, "county_code": "139098", "task_queue": "onedoor-fuzz-unserved"})
    with TestClient(create_app(alone), headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


@schema.parametrize()
@fuzzing(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_as_documented_and_none_a_server_error(case, fuzzed):
    request = case.as_transport_kwargs(base_url=str(fuzzed.base_url), headers=dict(fuzzed.headers))
    body = {"json": request.pop("json")} if "json" in request else {"content": request.pop("data", None)}
    if request.get("cookies"):
        fuzzed.cookies = request["cookies"]
    response = fuzzed.request(request.pop("method"), request.pop("url"), params=request.get("params"), headers=request.get("headers"), **body)
    case.validate_response(response, checks=CHECKS, headers=request.get("headers"))
    if 400 <= response.status_code < 500 and response.status_code != 405:
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), f"{case.method} {case.formatted_path}: {response.status_code} without a message: {response.text[:300]}"
