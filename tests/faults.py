"""The fault suite's own stack, and what it checks after each fault.

Temporal's dev server and the worker run as subprocesses, so a test can kill them and start them
again on the same files; the register, simulator and API are in-process. Nothing here is shared
with the session's stack: its worker polls another task queue and must not take these cases.
"""

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.app import create_app
from onedoor import codec
from onedoor.domain.labels import Stage
from onedoor.domain.state import CaseState
from onedoor.ops.stack import wait_for_temporal
from onedoor.ops.temporal import dev_server_command, ensure_search_attributes
from onedoor.settings import Settings
from onedoor.simulator.app import create_simulator
from onedoor.simulator.units import UnitCredentials
from onedoor.store import users
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store.directory import seed_directory
from onedoor.store.tables import AuditEntry, Case, CaseClock, CaseEvent, Unit
from tests.cases import wage_arrears
from tests.conftest import free_port, serve, sized_clocks
from onedoor.ops.temporal import connect
from workflows.dispute_case import DisputeCaseWorkflow

ROOT = Path(__file__).parent.parent
UNITS = ("T101-LDS", "T101-SFS")  # the wage-arrears case's lead and co-unit in 城关镇
PATIENCE = 120  # seconds a client keeps sending a request while a restart is under way
WORKER_GRACE = 20  # worker.build_worker's graceful_shutdown_timeout
# Long enough that no deadline falls by accident while workers and servers restart.
CALM_CLOCKS = sized_clocks(response=900, feedback=900, mediation=900, return_visit=900)


class Patient(httpx.AsyncHTTPTransport):
    """Sends a request again while the API answers 503 or cannot be reached, as a well-behaved
    client does while Temporal restarts. Any other answer is returned."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                response = await super().handle_async_request(request)
                if response.status_code != 503:
                    return response
                await response.aclose()
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{request.method} {request.url} never got through")
            await asyncio.sleep(0.5)


@dataclass
class FaultStack:
    root: Path
    settings: Settings
    env: dict[str, str]
    sessions: sessionmaker[Session]
    api_key: str = ""
    client: Client | None = None
    app: FastAPI | None = None
    temporal: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    # ── Temporal's dev server: a subprocess on a SQLite file that outlives it ──────────────

    def start_temporal(self) -> None:
        port = int(self.settings.temporal_address.rsplit(":", 1)[1])
        with (self.root / "temporal.log").open("a") as log:
            self.temporal = subprocess.Popen(
                dev_server_command(self.root / "temporal.db", port, self.settings.temporal_ui_port),
                start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
            )

    async def temporal_ready(self) -> None:
        client = await wait_for_temporal(self.settings)
        await ensure_search_attributes(client, self.settings.temporal_namespace)

    def stop_temporal(self) -> None:
        """As a service manager stops it: SIGTERM, and SIGKILL when it has not stopped in 30 s (the
        dev server's shutdown now and then hangs with the worker's long polls open)."""
        self.temporal.terminate()
        try:
            self.temporal.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.temporal.kill()
            self.temporal.wait(timeout=10)

    async def ensure_temporal(self) -> None:
        if self.temporal.poll() is not None:
            self.start_temporal()
            await self.temporal_ready()

    # ── the worker: a subprocess, to be killed ──────────────────────────────────────────────

    @property
    def worker_log(self) -> Path:
        return self.root / "worker.log"

    def start_worker(self) -> None:
        assert self.worker is None or self.worker.poll() is not None, "a worker is running already"
        with self.worker_log.open("a") as log:
            log.write("── worker starting ──\n")
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "onedoor.cli", "worker"], cwd=ROOT, env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
            )

    async def worker_ready(self, timeout: float = 60) -> None:
        """Until the worker we started last says it polls the task queue."""
        deadline = time.monotonic() + timeout
        while "worker started" not in self.worker_log.read_text(encoding="utf-8").rsplit("── worker starting ──", 1)[-1]:
            assert self.worker.poll() is None, f"the worker died: {self.worker_log.read_text(encoding='utf-8')[-3000:]}"
            assert time.monotonic() < deadline, "the worker did not start"
            await asyncio.sleep(0.2)

    def kill_worker(self) -> None:
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    async def ensure_worker(self) -> None:
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()
        await self.worker_ready()

    # ── what tests talk to ──────────────────────────────────────────────────────────────────

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    @asynccontextmanager
    async def api(self, patient: bool = True, key: str | None = None):
        """An API client signed in with key (the suite's admin's by default); patient: it rides out restarts (503)."""
        transport = Patient() if patient else None
        headers = {"Authorization": f"Bearer {key or self.api_key}"}
        async with httpx.AsyncClient(base_url=self.api_url, headers=headers, transport=transport, timeout=PATIENCE) as client:
            yield client

    @asynccontextmanager
    async def simulator(self):
        async with httpx.AsyncClient(base_url=self.settings.simulator_url, timeout=10) as client:
            yield client

    def set_clocks(self, policy) -> None:
        """The policy of cases registered from now on (the API's, as in production: intake fixes it)."""
        self.app.state.settings = self.settings.model_copy(update={"clocks": policy})

    async def case_state(self, case_no: str) -> CaseState:
        return await self.client.get_workflow_handle_for(DisputeCaseWorkflow.run, case_no).query(DisputeCaseWorkflow.status)


@asynccontextmanager
async def fault_stack(tmp: Path):
    """Start the whole stack on free ports under tmp; stop it all afterwards."""
    temporal_port, simulator_port = free_port(), free_port()
    codec_keys = {"fault-1": codec.new_key()}  # its own, beside the suite's: the register's keys go with each engine (store/sealed.py)
    given = os.environ.get("DATABASE_URL")
    with throwaway_register(given and Settings(database_url=given).register_url, tmp, "faults") as register_url:
        settings = Settings(
            data_dir=tmp / "var",
            database_url=register_url,
            temporal_address=f"127.0.0.1:{temporal_port}",
            temporal_ui_port=free_port(),
            task_queue=f"onedoor-faults-{uuid.uuid4().hex[:6]}",
            api_port=free_port(),
            simulator_port=simulator_port,
            simulator_url=f"http://127.0.0.1:{simulator_port}",
            clocks=CALM_CLOCKS,
            codec_keys=codec_keys,
            codec_key_id="fault-1",
        )
        env = {name: value for name, value in os.environ.items() if not name.startswith("ONEDOOR_") and name != "DATABASE_URL"}
        env.update(
            DATABASE_URL=register_url,
            ONEDOOR_DATA_DIR=str(settings.data_dir),
            ONEDOOR_TEMPORAL_ADDRESS=settings.temporal_address,
            ONEDOOR_TASK_QUEUE=settings.task_queue,
            ONEDOOR_SIMULATOR_URL=settings.simulator_url,
            ONEDOOR_API_URL=f"http://127.0.0.1:{settings.api_port}",
            ONEDOOR_CODEC_KEYS=json.dumps(codec_keys),
            ONEDOOR_CODEC_KEY_ID="fault-1",
        )
        engine = make_engine(register_url, codec.field_sealer(settings))
        stack = FaultStack(root=tmp, settings=settings, env=env, sessions=make_sessions(engine))
        with stack.sessions() as session:
            seed_directory(session, settings.simulator_url)
            admin = users.ensure_user(session, "fault-admin", name="故障测试管理员", role="admin", jurisdiction_code=None, unit_code=None, mediator_id=None)
            stack.api_key = users.issue_key(session, admin)
            # The simulated systems sign and check with the seeded secrets; their staff never answer here.
            credentials = {code: UnitCredentials(api_key=None, signing_secret=secret) for code, secret in session.execute(select(Unit.code, Unit.signing_secret))}
        stack.start_temporal()
        servers = []
        try:
            await stack.temporal_ready()
            stack.client = await connect(settings)
            servers.append(await serve(create_simulator(stack.api_url, credentials.get), simulator_port))
            stack.app = create_app(settings)
            servers.append(await serve(stack.app, settings.api_port))
            stack.start_worker()
            await stack.worker_ready()
            yield stack
        finally:
            if stack.worker and stack.worker.poll() is None:
                stack.worker.kill()
                stack.worker.wait()
            for server, task in reversed(servers):
                server.should_exit = True
                await task
            if stack.temporal.poll() is None:
                stack.stop_temporal()
            engine.dispose()


@contextmanager
def register_unavailable(stack: FaultStack):
    """The register cannot be written while inside: PostgreSQL refuses connections (and drops the
    open ones); a SQLite file is held under an exclusive write lock by another connection."""
    url = make_url(stack.settings.register_url)
    if url.get_backend_name() == "postgresql":
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (url.database,))
            try:
                yield
            finally:
                conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')
    else:
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


# ── a case from the window to 案结事了, through whatever happens meanwhile ─────────────────────


async def reach(api: httpx.AsyncClient, case_no: str, predicate, timeout: float = PATIENCE) -> dict:
    """Poll the case until predicate holds (gently: many cases are polled at once)."""
    deadline = time.monotonic() + timeout
    while True:
        case = (await api.get(f"/cases/{case_no}")).json()
        if predicate(case):
            return case
        assert time.monotonic() < deadline, f"{case_no} never reached the expected state: {case}"
        await asyncio.sleep(0.4)


def assignment(case: dict, unit: str) -> dict:
    return next(a for a in case["assignments"] if a["unit_code"] == unit and a["level"] == case["level"])


async def decide_once(api: httpx.AsyncClient, case_no: str, path: str, body: dict, taken) -> None:
    """POST a decision. A request cut off by a restart and sent again may find its first copy
    already taken (409): that is fine when the case shows it (`taken`)."""
    response = await api.post(f"/cases/{case_no}/{path}", json=body)
    if response.status_code == 409:
        case = (await api.get(f"/cases/{case_no}")).json()
        assert taken(case), f"{path} refused and not taken before: {response.text}"
        return
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"


async def register(api: httpx.AsyncClient, form: dict | None = None) -> str:
    created = await api.post("/cases", json=form or wage_arrears())
    # 200: the patient client sent it again after a 503 (Temporal away), and got the same case.
    assert created.status_code in (200, 201), created.text
    return created.json()["case_no"]


async def see_through(api: httpx.AsyncClient, registered: list[str], settled: list[str]) -> str:
    """Register a wage-arrears case and carry it to 案结事了, noting both. Returns the case number."""
    case_no = await register(api)
    registered.append(case_no)
    await carry(api, case_no)
    settled.append(case_no)
    return case_no


async def carry(api: httpx.AsyncClient, case_no: str) -> None:
    """Both units respond and report, the mediator reaches an agreement, the return visit finds
    the parties satisfied: 案结事了."""
    case = await reach(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    for unit in UNITS:
        await decide_once(api, case_no, "response", {"unit_code": unit, "handler": f"{unit}承办人"}, lambda c, u=unit: assignment(c, u)["response"])
    for unit in UNITS:
        await decide_once(api, case_no, "feedback", {"unit_code": unit, "handler": f"{unit}承办人", "summary": "已约谈项目负责人"}, lambda c, u=unit: assignment(c, u)["feedback"])
    mediator = case["mediations"][-1]["mediator_id"]
    await decide_once(api, case_no, "mediation/result", {"mediator_id": mediator, "outcome": "agreement", "terms": "12月5日前付清2.4万元"},
                 lambda c: c["mediations"][-1]["outcome"] == "agreement")
    await reach(api, case_no, lambda c: c["stage"] == "closed")
    await decide_once(api, case_no, "visit", {"visitor": "回访员 李娜", "satisfied": True, "notes": "工资已到账"}, lambda c: c["visits"])
    await reach(api, case_no, lambda c: c["stage"] == "settled")


async def see_all_through(api: httpx.AsyncClient, count: int, concurrency: int, registered: list[str], settled: list[str]) -> list[str]:
    """count cases, at most concurrency at once, each from the window to 案结事了."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> str:
        async with gate:
            return await see_through(api, registered, settled)

    return list(await asyncio.gather(*(one() for _ in range(count))))


# ── the checks: nothing lost, nothing twice ──────────────────────────────────────────────────

STEP_KEY = re.compile(r"^(\d{4})-(.+)$")  # a workflow step's timeline key: its sequence number and kind
DELIVERED_KEY = re.compile(r"^delivered-dispatch:\d+:(.+)$")  # the gateway's record of a dispatch accepted


async def check_nothing_lost_or_doubled(stack: FaultStack, case_nos: list[str], delivered_once: bool = False) -> int:
    """Compare each case's workflow (its query) with the register and the units' systems:

    - every unit the case was dispatched to got one dispatch (one idempotency key) for it; each
      key was accepted (exactly once when delivered_once; a worker killed between the unit's
      answer and the activity's completion re-sends it under the same key, and the unit's system
      recognises it: at-least-once delivery, deduplicated by the key, is what HTTP allows);
    - the register has the case's row with the workflow's stage, level, units and mediator, each
      of the workflow's steps once and none missing (their sequence numbers run 0..n without a
      gap or a repeat), the stages in the workflow's order, an audit entry for every step, a
      delivery row per dispatched unit, every clock, each breach, and once settled every clock's status.

    Returns how many deliveries a unit's system was sent again under the same key.
    """
    assert len(set(case_nos)) == len(case_nos), "the same case came back twice from registration"
    states = {case_no: await stack.case_state(case_no) for case_no in case_nos}
    async with stack.simulator() as simulator:
        received = {unit: (await simulator.get(f"/units/{unit}/dispatches")).json() for unit in UNITS}
    with stack.sessions() as session:
        rows = {row.case_no: row for row in session.scalars(select(Case).where(Case.case_no.in_(case_nos)))}
        events, audits, clocks = defaultdict(list), defaultdict(set), defaultdict(dict)
        for event in session.scalars(select(CaseEvent).where(CaseEvent.case_no.in_(case_nos))):
            events[event.case_no].append(event)
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.case_no.in_(case_nos))):
            audits[entry.case_no].add(entry.key)
        for clock in session.scalars(select(CaseClock).where(CaseClock.case_no.in_(case_nos))):
            clocks[clock.case_no][clock.clock_id] = (clock.status, clock.breached_at is not None)

    problems = []
    for case_no, state in states.items():
        units = {a.unit_code for a in state.assignments}
        for unit in UNITS:
            keys = [d for d in received[unit] if d["idempotency_key"].startswith(f"{case_no}:dispatch:")]
            if unit not in units:
                if keys:
                    problems.append(f"{case_no}: {unit} got a dispatch it was never assigned: {keys}")
                continue
            if len(keys) != 1:
                problems.append(f"{case_no}: {unit} got {len(keys)} dispatches (idempotency keys) for one assignment: {keys}")
            for delivery in keys:
                if delivery["accepted"] < 1 or (delivered_once and delivery["accepted"] != 1):
                    problems.append(f"{case_no}: {unit} accepted {delivery['idempotency_key']} {delivery['accepted']} times")

        row = rows.get(case_no)
        if row is None:
            problems.append(f"{case_no}: no register row")
            continue
        mediator = state.mediations[-1].mediator_id if state.mediations else None
        seen = (row.stage, row.level, row.lead_unit, row.mediator_id, row.escalation_count)
        wanted = (state.stage.value, state.level.value, state.lead_unit, mediator, len(state.escalations))
        if seen != wanted:
            problems.append(f"{case_no}: register row (stage, level, lead, mediator, escalations) {seen} ≠ workflow {wanted}")
        steps = sorted((int(m[1]), m[2]) for e in events[case_no] if (m := STEP_KEY.match(e.key)))
        numbers = [number for number, _ in steps]
        if numbers != list(range(len(numbers))):
            repeated = [n for n, c in Counter(numbers).items() if c > 1]
            problems.append(f"{case_no}: timeline steps {numbers}: missing {sorted(set(range(max(numbers) + 1)) - set(numbers))}, twice {repeated}")
        stages = [kind for _, kind in steps if kind in {s.stage.value for s in state.steps}]
        if stages != [s.stage.value for s in state.steps]:
            problems.append(f"{case_no}: register stages {stages} ≠ workflow {[s.stage.value for s in state.steps]}")
        unaudited = {e.key for e in events[case_no] if STEP_KEY.match(e.key)} - audits[case_no]
        if unaudited:
            problems.append(f"{case_no}: steps without an audit entry: {sorted(unaudited)}")
        delivered = Counter(m[1] for e in events[case_no] if (m := DELIVERED_KEY.match(e.key)))
        if delivered != Counter(a.unit_code for a in state.assignments):
            problems.append(f"{case_no}: delivery rows {dict(delivered)} ≠ assignments {[a.unit_code for a in state.assignments]}")
        # A clock's row is rewritten with the case's next step, so an answered clock may still read
        # running until then; a breach is written at once, and a settled case's last step has them all.
        ours = {c.id: (c.status.value, c.breached_at is not None) for c in state.clocks}
        theirs = clocks[case_no]
        if state.stage != Stage.SETTLED:
            ours, theirs = ({i: breached for i, (_, breached) in side.items()} for side in (ours, theirs))
        if theirs != ours:
            problems.append(f"{case_no}: register clocks (status, breached) {theirs} ≠ workflow {ours}")
    assert not problems, "\n".join(problems)
    return sum(d["accepted"] - 1 for unit in UNITS for d in received[unit] if d["idempotency_key"].split(":", 1)[0] in states)
