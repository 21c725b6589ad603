"""Whatever a client sends — any request the OpenAPI schema allows, and the malformed ones
Schemathesis derives from it — the API never answers 5xx, and every refusal says what is wrong.

The API under fuzz has a register of its own (so generated directory edits and users touch
nothing the other tests read) and a task queue no worker serves (so generated cases never run)."""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as fuzzing
from starlette.testclient import TestClient

from api.app import create_app
from store import users
from store.db import make_engine, make_sessions, migrate
from store.directory import seed_directory

# The schema is the app's own (building it connects to nothing).
schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture(scope="module")
def fuzzed(settings, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'register.db'}"
    migrate(url)
    engine = make_engine(url)
    with make_sessions(engine)() as session:
        seed_directory(session, settings.simulator_url)
        key = users.issue_key(session, users.ensure_user(session, "fuzz-admin", name="模糊测试", role="admin", active=True))
    engine.dispose()
    alone = settings.model_copy(update={"database_url": url, "county_code": "139098", "task_queue": "onedoor-fuzz-unserved"})
    with TestClient(create_app(alone), headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


@schema.parametrize()
@fuzzing(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_and_every_refusal_says_why(case, fuzzed):
    request = case.as_transport_kwargs(base_url=str(fuzzed.base_url), headers=dict(fuzzed.headers))
    data = request.pop("data", None)
    body = {"json": request.pop("json")} if "json" in request else {"data": data} if isinstance(data, dict) else {"content": data}  # a dict: a form's fields
    if request.get("cookies"):
        fuzzed.cookies = request["cookies"]
    response = fuzzed.request(request.pop("method"), request.pop("url"), params=request.get("params"), headers=request.get("headers"), **body)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    if 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith("text/html"):
        assert 'role="alert"' in response.text, f"{case.method} {case.formatted_path}: a page refused without saying why"  # the citizens' lookup page
    elif 400 <= response.status_code < 500 and response.status_code != 405:
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), f"{case.method} {case.formatted_path}: {response.status_code} without a message: {response.text[:300]}"
