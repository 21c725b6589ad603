"""Shared fixtures: a real Temporal dev server, the register (PostgreSQL when DATABASE_URL is set,
SQLite otherwise), the department simulator and the API served over HTTP, and a worker."""

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import hypothesis
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from onedoor import codec
from api.app import create_app
from onedoor.domain.policy import ClockPolicy, ClockRule, ClockSet, NoticePolicy
from onedoor.ops.temporal import ensure_search_attributes, temporal_cli
from onedoor.settings import Settings
from onedoor.simulator.app import create_simulator
from onedoor.simulator.units import UnitCredentials
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store import users
from onedoor.store.directory import seed_directory
from onedoor.store.tables import Unit
from tests.cases import PLATFORM
from tests.image import installed_wheel  # noqa: F401  the image's wheel in a fresh venv (test_image.py, test_compose.py)
from tests.browser import browser, signed_in  # noqa: F401  pages in Debian's chromium (test_ui_browser.py, test_console_browser.py)
from tests.console import console  # noqa: F401  the console over HTTP, signed in (test_console.py)
from onedoor.ops.temporal import connect
from worker import ACTIVITY_THREADS, build_worker, metrics_runtime

HISTORIES = Path(__file__).parent / "histories"

# Property tests check pure rules, whose answers do not depend on how fast they come: on a loaded
# machine (two shared cores, a Temporal server beside) an example of the working-time arithmetic
# took longer than Hypothesis' 200 ms deadline and failed a correct rule. One profile for every
# property test of the suite.
hypothesis.settings.register_profile("onedoor", deadline=None)
hypothesis.settings.load_profile("onedoor")


def pytest_collection_modifyitems(items):
    """Schemathesis names each operation's test after it (`test_…[POST /cases]`), but pytest 9 makes the
    node id from the function's name alone: tests/api/test_openapi_fuzz.py's 69 operations had one id, and
    pytest-xdist, which schedules by id, fuzzed one of them. Each gets its name back as its id."""
    for item in items:
        named = f"{item.parent.nodeid}::{item.name}"
        if getattr(item, "operation_label", None) and item.nodeid != named:
            item._id = item._id.with_params(item.operation_label)  # pytest 9's structured id (_pytest/nodeid.py): no public setter
            assert item.nodeid == named, f"{item.nodeid} is not {named}: pytest's node ids changed again"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A fixed test key, so recorded histories (tests/histories) stay readable by the replay tests.
CODEC_KEYS = {"test-1": "b25lZG9vci10ZXN0LWtleS0zMi1ieXRlcy1sb25nLiE="}
CONVERTER = codec.data_converter(codec.decode_keys(CODEC_KEYS), "test-1")
SUITE_SEALER = codec.FieldSealer(codec.decode_keys(CODEC_KEYS), "test-1")  # the register's personal fields, with the same keys


# The session's Temporal client, once its server runs: what ends the cases of a test and of a module.
RUNNING = pytest.StashKey[Client]()


@pytest.fixture(scope="session")
def temporal_db(tmp_path_factory) -> Path:
    """The dev server's SQLite file: a test reads it to prove no personal data is stored in clear."""
    return tmp_path_factory.mktemp("temporal") / "temporal.db"


@pytest.fixture(scope="session")
def temporal_ui_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
async def temporal(temporal_db, temporal_ui_port, pytestconfig):
    """The dev server with its UI, as `onedoor up` runs it: the API serves it (tests/api/test_ui_browser.py)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        data_converter=CONVERTER,
        ui=True,
        ui_port=temporal_ui_port,
        dev_server_extra_args=[
            "--db-filename", str(temporal_db), "--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true",
            "--ui-disable-news-fetch",
            # As `onedoor up` runs it (ops.temporal.dev_server_command): the default journal halves the server's throughput.
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        ],
    )
    await ensure_search_attributes(env.client, "default")
    pytestconfig.stash[RUNNING] = env.client
    yield env
    del pytestconfig.stash[RUNNING]
    await env.shutdown()


@pytest.fixture(autouse=True)
async def cases_end_with_their_test(request):
    """A test's cases are terminated when it ends. Left open, a case's clocks go on firing: every
    minute or two a breach, a supervision order, an escalation, and at the top a renewed clock, for
    as long as the run lasts. On the suite's one worker the hundreds a run leaves behind starved the
    late tests (in a full run a whole case of tests/store/test_sealing.py took 53 s, alone 4 s). Workflows
    a module's fixture started are left to the module's end: they began before this test did."""
    if "temporal" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("temporal")
    began = datetime.now(UTC)
    yield
    await end_cases_started_since(request.config, began)


@pytest.fixture(scope="module", autouse=True)
async def cases_end_with_their_module(request):
    """And a module's, among them those of its fixtures (tests/api/test_auth.py's case for every role)."""
    began = datetime.now(UTC)
    yield
    await end_cases_started_since(request.config, began)


async def end_cases_started_since(config: pytest.Config, began: datetime) -> None:
    """Terminate the workflows started since `began` that still run on the session's server, if it runs."""
    client = config.stash.get(RUNNING, None)
    if client is None:
        return
    query = f'ExecutionStatus="Running" AND StartTime >= "{began.isoformat()}"'
    handles = [client.get_workflow_handle(w.id, run_id=w.run_id) async for w in client.list_workflows(query)]
    ended = await asyncio.gather(*(handle.terminate(reason="the test is over") for handle in handles), return_exceptions=True)
    # NOT_FOUND: it completed meanwhile.
    failed = [e for e in ended if isinstance(e, BaseException) and not (isinstance(e, RPCError) and e.status == RPCStatusCode.NOT_FOUND)]
    if failed:
        raise failed[0]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh, migrated register: a throwaway database on the DATABASE_URL server, or a SQLite file;
    one per process of the run, named after it (pytest-xdist's gw0, gw1…)."""
    given = os.environ.get("DATABASE_URL")
    purpose = f"test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with throwaway_register(given and Settings(database_url=given).register_url, tmp_path_factory.mktemp("register"), purpose) as url:
        yield url


@contextmanager
def register_sessions(url: str, sealer: codec.FieldSealer) -> Iterator[sessionmaker[Session]]:
    """Sessions on the register at url whose personal fields are sealed with these keys; the engine disposed after."""
    engine = make_engine(url, sealer)
    yield make_sessions(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def sessions(database_url):
    """The tests' own engine on the register, with the suite's keys (the API's and the worker's), so tests read what they wrote."""
    with register_sessions(database_url, SUITE_SEALER) as made:
        yield made


@pytest.fixture(scope="session")
def worker_sessions(database_url):
    """The suite's worker's own engine on the register (as worker.py makes one), with the suite's keys."""
    with register_sessions(database_url, SUITE_SEALER) as made:
        yield made


async def serve(app, port: int):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", timeout_graceful_shutdown=3, timeout_keep_alive=Settings().http_keep_alive))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


@pytest.fixture(scope="session")
async def settings(temporal, database_url, temporal_ui_port):
    api_port, simulator_port = free_port(), free_port()
    return Settings(
        temporal_address=temporal.client.service_client.config.target_host,
        database_url=database_url,
        api_port=api_port,
        api_metrics_port=free_port(),
        temporal_ui_port=temporal_ui_port,
        worker_metrics_port=free_port(),
        simulator_port=simulator_port,
        simulator_url=f"http://127.0.0.1:{simulator_port}",
        task_queue=f"onedoor-test-{uuid.uuid4().hex[:6]}",
        clocks=sized_clocks(),  # tests that watch a deadline fire shorten them further
        notices=NoticePolicy(quiet_for=[]),  # no quiet hours, whatever the hour the suite runs at; tests/scenarios/test_quiet_hours.py sets its own
        workflow_sandbox=True,  # every workflow path the tests take runs in the sandbox: a non-deterministic call fails here
        codec_keys=CODEC_KEYS,
        codec_key_id="test-1",
        # The simulator receives the notification webhook: signed with this secret.
        notification_webhook_url=f"http://127.0.0.1:{simulator_port}/notifications",
        notification_webhook_secret="test-notification-secret",
    )


@pytest.fixture(scope="session")
def keys(sessions, settings) -> dict[str, str]:
    """API keys: "admin" (may act in any role), and each simulated unit system's by unit code."""
    with sessions() as session:
        seed_directory(session, settings.simulator_url)
        admin = users.ensure_user(session, "test-admin", name="测试管理员", role="admin", active=True)
        units = session.scalars(select(Unit.code)).all()
        return {"admin": users.issue_key(session, admin), **users.issue_system_keys(session, list(units))}


@pytest.fixture(scope="session")
def unit_credentials(sessions, keys) -> Callable[[str], UnitCredentials | None]:
    """What a simulated unit's system holds: its API key, and its signing secret as the directory
    has it now (a unit added or a secret rotated by a test is played at once)."""

    def lookup(code: str) -> UnitCredentials | None:
        with sessions() as session:
            unit = session.get(Unit, code)
            return unit and UnitCredentials(api_key=keys.get(code), signing_secret=unit.signing_secret)

    return lookup


@pytest.fixture(scope="session")
async def stack(temporal, settings, sessions, worker_sessions, unit_credentials):
    """Simulator, API and worker, all over real HTTP and a real Temporal server; the API and the
    worker serve their metrics on settings' ports, the worker on a Temporal runtime of its own."""
    notification_secret = settings.notification_webhook_secret.get_secret_value()
    simulator = await serve(create_simulator(f"http://127.0.0.1:{settings.api_port}", unit_credentials, notification_secret), settings.simulator_port)
    api_app = create_app(settings)
    api = await serve(api_app, settings.api_port)
    async with running_worker(await connect(settings, metrics_runtime(settings), refuse_unsealed=True), settings, worker_sessions):
        yield api_app
    for server, task in (api, simulator):
        server.should_exit = True
        await task


@asynccontextmanager
async def running_worker(client: Client, settings: Settings, sessions: sessionmaker[Session]):
    """onedoor's worker as worker.py builds it, on these register sessions, polling settings.task_queue until the block ends."""
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with httpx.AsyncClient(timeout=10) as http:
            async with build_worker(client, settings, sessions, http, executor):
                yield


def sized_clocks(**seconds: float) -> ClockPolicy:
    """The same test-sized clocks at every grade: long enough not to fire unless a test wants them to.

    They start at dispatch even for a rotating unit: seconds-long clocks cannot wait for a duty day
    (the seed's township labour station, which wage cases go to, is on duty Mon/Wed/Fri);
    tests/scenarios/test_rota.py turns the rota on."""
    lengths = dict(response=60, feedback=120, mediation=300, confirmation=300, referral=300, return_visit=300, emergency_ack=60) | seconds
    clock_set = ClockSet(**{name: ClockRule(length=timedelta(seconds=value), remind_at=0.75 if name not in ("return_visit", "emergency_ack") else None) for name, value in lengths.items()})
    return ClockPolicy(red=clock_set, yellow=clock_set, blue=clock_set, follow_rota=False)


@pytest.fixture
def clocks(stack):
    """Set the API's policy clocks for the cases this test registers (new cases only, as in production)."""
    original = stack.state.settings

    def set_clocks(policy: ClockPolicy | None = None, **seconds: float) -> None:
        stack.state.settings = original.model_copy(update={"clocks": policy or sized_clocks(**seconds)})

    yield set_clocks
    stack.state.settings = original


@pytest.fixture
def configure(stack):
    """Change the API's settings for this test (the cases it registers take their policy from them)."""
    original = stack.state.settings

    def change(**values) -> None:
        stack.state.settings = stack.state.settings.model_copy(update=values)

    yield change
    stack.state.settings = original


@pytest.fixture
async def api(stack, settings, keys):
    """The API as an admin sees it (an admin may act in any role); tests/api/test_auth.py checks each role."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30, headers={"Authorization": f"Bearer {keys['admin']}"}) as client:
        yield client


@pytest.fixture
async def police(stack, settings, keys, sessions):
    """The API as the police platform's system calls it: its own unit key."""
    with sessions() as session:
        unit = session.get(Unit, PLATFORM)
        assert unit is not None and unit.kind == "police"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30, headers={"Authorization": f"Bearer {keys[PLATFORM]}"}) as client:
        yield client


@pytest.fixture
async def simulator(stack, settings):
    async with httpx.AsyncClient(base_url=settings.simulator_url, timeout=10) as client:
        yield client


@pytest.fixture
def handle(temporal):
    def for_case(case_no: str) -> WorkflowHandle:
        return temporal.client.get_workflow_handle(case_no)

    return for_case


async def keep_history(handle: WorkflowHandle, name: str) -> None:
    """With ONEDOOR_RECORD_HISTORIES=1, save the case's history as a replay fixture."""
    if os.environ.get("ONEDOOR_RECORD_HISTORIES") == "1":
        history = await handle.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
