"""`onedoor bench`: load onedoor through its HTTP API like operators and units do, and bare
Temporal on the same server in the same run; print a table and write a JSON summary.

Scenarios (each can be skipped with its option set to 0):
  idle      single cases one after another: intake → the unit's system called
  intake    N cases at concurrency C: cases/s accepted, API latency, time to "dispatched"
  lifecycle cases responded to, fed back, mediated, closed and visited: cases/s, history events
  storm     S response deadlines moved (by extensions) into the same second: breach lateness
  open      ramp to O open cases with live clocks while a red case a second breaches: RSS,
            register size, deadline lateness
"""

import asyncio
import json
import math
import os
import platform
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import STAMPS, BareCase, BareCaseWorkflow, noop, stamp, stamp_after
from onedoor.ops import stack
from onedoor.settings import Settings
from onedoor.ops.temporal import connect
from onedoor.store.db import make_engine, throwaway_register
from onedoor.store.tables import CaseClock, CaseEvent

console = Console()
RESULTS = Path(__file__).parent / "results"


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: list[float]) -> dict:
    return {"p50": quantile(values, 0.5), "p99": quantile(values, 0.99), "max": max(values, default=None), "n": len(values)}


def neighbour(place: dict | None = None) -> dict:
    """A blue neighbour dispute in 东关社区: one unit (the community's committee), village level.
    Each between other people (the applicant's own phone): the same parties while their case is
    open would be refused (409) without join_case or separate_reason."""
    return {
        "client_request_id": uuid.uuid4().hex,
        "source": "window",
        "category": "邻里",
        "summary": "邻居加盖院墙遮挡采光",
        "place": place or {"township_code": "139001101", "village_code": "139001101201"},
        "parties": [{"name": "王建国", "role": "applicant", "phone": f"1{uuid.uuid4().int % 10**14:014d}"}, {"name": "李卫东", "role": "respondent"}],
        "factors": {},
    }


STORM_UNIT = "T101-PCS"
PHASE_SAMPLE = 200  # storm cases whose histories split the lateness into its phases
REGISTER_ATTEMPTS = 3  # sends of one registration when the connection drops


def accident() -> dict:
    """A yellow traffic-accident dispute in 城关镇 (six people): the police station (STORM_UNIT) alone
    handles it, so a case has one response deadline and a storm of S cases is S deadlines. (A case
    with an assisting unit has a second response clock, due before the moved ones, and those
    breaches ran just ahead of the storm it measured.)"""
    return {**neighbour({"township_code": "139001101"}), "category": "交通事故", "summary": "多车剐蹭后各方就赔偿争执不下", "factors": {"people_involved": 6}}


def land() -> dict:
    """A red land-requisition dispute: county level, short clocks in the bench's policy."""
    return {**neighbour({"township_code": "139001101"}), "category": "征地拆迁", "factors": {"people_involved": 40}}


class Bench:
    def __init__(self, settings: Settings, api: httpx.AsyncClient, simulator: httpx.AsyncClient, client: Client, bare_client: Client, processes):
        self.settings, self.api, self.simulator, self.client, self.processes = settings, api, simulator, client, processes
        self.bare_client = bare_client  # bare Temporal: no payload codec, as a plain application would run
        self.engine = make_engine(settings.register_url)
        self.resent = 0  # registrations sent again after a dropped connection

    async def register(self, form: dict) -> tuple[str, float, float]:
        """Register a case as an operator's client would: a dropped connection is sent again with the
        same client_request_id (the same case, not a second one); the latency counts from the first send."""
        started = time.time()
        for attempt in range(REGISTER_ATTEMPTS):
            try:
                response = await self.api.post("/cases", json=form)
                break
            except httpx.TransportError:
                if attempt == REGISTER_ATTEMPTS - 1:
                    raise
                self.resent += 1
        response.raise_for_status()
        return response.json()["case_no"], started, time.time() - started

    async def burst(self, forms, concurrency: int, label: str):
        """Register the forms at the given concurrency; (results, wall seconds)."""
        gate = asyncio.Semaphore(concurrency)
        results = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(label, total=len(forms))

            async def one(form):
                async with gate:
                    results.append(await self.register(form))
                    progress.advance(task)

            started = time.monotonic()
            await asyncio.gather(*(one(f) for f in forms))
        return results, time.monotonic() - started

    async def deliveries(self, unit: str) -> dict[str, float]:
        """When the unit's system first received each case."""
        first: dict[str, float] = {}
        for delivery in (await self.simulator.get(f"/units/{unit}/dispatches", timeout=120)).json():
            if delivery["document"]:
                case_no = delivery["document"]["case_no"]
                first[case_no] = min(delivery["received_at"], first.get(case_no, math.inf))
        return first

    async def until_delivered(self, unit: str, cases: set[str], timeout: float = 600, every: float = 1) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while True:
            seen = await self.deliveries(unit)
            if cases <= seen.keys() or time.monotonic() > deadline:
                return seen
            await asyncio.sleep(every)

    # ── scenarios ────────────────────────────────────────────────────────────────────────

    async def idle(self, count: int) -> dict:
        times = []
        for _ in range(count):
            case_no, started, _ = await self.register(neighbour())
            received = await self.until_delivered("V201-TWH", {case_no}, timeout=30)
            times.append(received[case_no] - started)
        return {"intake_to_unit_called_s": spread(times)}

    async def intake(self, count: int, concurrency: int) -> dict:
        results, wall = await self.burst([neighbour() for _ in range(count)], concurrency, "intake burst")
        received = await self.until_delivered("V201-TWH", {r[0] for r in results})
        to_dispatched = [received[case_no] - started for case_no, started, _ in results if case_no in received]
        return {
            "cases_per_s": count / wall,
            "api_latency_s": spread([r[2] for r in results]),
            "to_dispatched_s": spread(to_dispatched),
            "dispatched": len(to_dispatched),
        }

    async def lifecycle(self, count: int, concurrency: int) -> dict:
        gate = asyncio.Semaphore(concurrency)
        cases: list[str] = []

        async def case_until(case_no: str, ready) -> dict:
            while True:
                response = await self.api.get(f"/cases/{case_no}")
                if response.is_success and ready(case := response.json()):
                    return case
                await asyncio.sleep(0.2)

        async def decide(case_no: str, path: str, body: dict) -> None:
            (await self.api.post(f"/cases/{case_no}/{path}", json=body)).raise_for_status()

        async def one(progress, task) -> None:
            async with gate:
                case_no, _, _ = await self.register(neighbour())
                case = await case_until(case_no, lambda c: c["mediations"])
                unit, mediator = case["lead_unit"], case["mediations"][0]["mediator_id"]
                await decide(case_no, "response", {"unit_code": unit, "handler": "承办人"})
                await decide(case_no, "feedback", {"unit_code": unit, "handler": "承办人", "summary": "已处理"})
                await decide(case_no, "mediation/result", {"mediator_id": mediator, "outcome": "agreement", "terms": "拆除加盖部分"})
                await case_until(case_no, lambda c: c["stage"] == "closed")
                await decide(case_no, "visit", {"visitor": "回访员", "satisfied": True, "notes": "满意"})
                await self.client.get_workflow_handle(case_no).result()
                cases.append(case_no)
                progress.advance(task)

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("full lifecycle", total=count)
            started = time.monotonic()
            await asyncio.gather(*(one(progress, task) for _ in range(count)))
            wall = time.monotonic() - started
        events, activities = await self.history_sizes(cases[:20])
        return {"cases_per_s": count / wall, "history_events": spread(events), "activities_per_case": max(activities)}

    async def history_sizes(self, cases: list[str]) -> tuple[list[int], list[int]]:
        events, activities = [], []
        for case_no in cases:
            history = await self.client.get_workflow_handle(case_no).fetch_history()
            kinds = [e.WhichOneof("attributes") for e in history.events]
            events.append(len(kinds))
            activities.append(kinds.count("activity_task_scheduled_event_attributes") + kinds.count("marker_recorded_event_attributes"))
        return events, activities

    async def storm(self, count: int, concurrency: int) -> dict:
        results, _ = await self.burst([accident() for _ in range(count)], concurrency, "storm: registering")
        cases = [r[0] for r in results]
        dues = {}
        for case_no in cases:
            while not (response := await self.api.get(f"/cases/{case_no}")).is_success or not response.json()["clocks"]:
                await asyncio.sleep(0.2)
            responses = [c for c in response.json()["clocks"] if c["name"] == "response"]
            if [c["unit_code"] for c in responses] != [STORM_UNIT]:  # a second unit's deadline would breach outside the storm
                raise RuntimeError(f"storm case {case_no}: response clocks of {[c['unit_code'] for c in responses]}, not {STORM_UNIT} alone — the duty list changed (bench/run.py, accident)")
            dues[case_no] = datetime.fromisoformat(responses[0]["due_at"])
        target = max(dues.values()).replace(microsecond=0) + timedelta(seconds=2)
        gate = asyncio.Semaphore(concurrency)

        async def move(case_no: str) -> bool:
            async with gate:
                by = (target - dues[case_no]).total_seconds()
                body = {"supervisor": "压测", "clock": "response", "unit_code": STORM_UNIT, "by": by, "reason": "deadline storm"}
                try:
                    return (await self.api.post(f"/cases/{case_no}/extensions", json=body)).is_success
                except httpx.TimeoutException:
                    return False  # counted as not moved; the storm goes on with the others

        # Newest first: the worker's cache holds the latest cases, so a storm larger than the cache
        # replays only the cases it no longer holds, not every case in turn (oldest-first evicts each
        # case just before its own move).
        cases.reverse()
        moved = [case for case, ok in zip(cases, await asyncio.gather(*(move(c) for c in cases))) if ok]
        console.print(f"storm: {len(moved)} of {count} response deadlines moved to {target.isoformat()}")
        lateness = await self.breach_lateness(moved, STORM_UNIT, settle=target.timestamp() + STORM_WAIT)
        # Measured: end the storm's cases, or every unanswered level breaches again up the ladder
        # and the next scenario would run inside the cascade.
        await asyncio.gather(*(self.end(case_no, gate) for case_no in cases))
        phases = await self.wake_phases(moved[:: max(1, len(moved) // PHASE_SAMPLE)], target.timestamp())
        return {"breach_recorded_late_s": spread(lateness), **phases, "due_at": target.isoformat(), "moved": len(moved), "recorded_in_time": len(lateness)}

    async def wake_phases(self, cases: list[str], due: float) -> dict:
        """Where a breach's lateness goes, from the cases' histories: the server firing the
        timer (due → TimerFired), then the task waiting for the worker (→ WorkflowTaskStarted)."""
        fired, started = [], []
        for case_no in cases:
            events = (await self.client.get_workflow_handle(case_no).fetch_history()).events
            times = [(e.WhichOneof("attributes"), e.event_time.ToDatetime(timezone.utc).timestamp() - due) for e in events]
            woke = next((i for i, (kind, late) in enumerate(times) if kind == "timer_fired_event_attributes" and late >= -0.5), None)
            if woke is None:
                continue
            start = next((late for kind, late in times[woke:] if kind == "workflow_task_started_event_attributes"), None)
            if start is not None:
                fired.append(times[woke][1])
                started.append(start)
        return {"timer_fired_late_s": spread(fired), "task_started_late_s": spread(started)}

    async def end(self, case_no: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            await self.client.get_workflow_handle(case_no).terminate("bench: storm measured")

    async def breach_lateness(self, cases: list[str], unit: str, settle: float) -> list[float]:
        """Due time → the breach's register write (the escalation activity done), per case."""
        while True:
            with Session(self.engine) as session:
                breaches = {
                    (case_no, key): recorded
                    for case_no, key, recorded in session.execute(
                        select(CaseEvent.case_no, CaseEvent.key, CaseEvent.recorded_at).where(CaseEvent.kind == "breach", CaseEvent.case_no.in_(cases))
                    )
                }
                clocks = session.execute(
                    select(CaseClock.case_no, CaseClock.clock_id, CaseClock.due_at)
                    .where(CaseClock.name == "response", CaseClock.unit_code == unit, CaseClock.case_no.in_(cases))
                ).all()
            late = [(breaches[(c, f"breach-{i:03d}")] - due).total_seconds() for c, i, due in clocks if (c, f"breach-{i:03d}") in breaches]
            if len(late) >= len(cases) or time.time() > settle:
                return late
            await asyncio.sleep(1)

    async def open_caseload(self, count: int, concurrency: int) -> dict:
        trickle: list[tuple[str, float]] = []  # red cases: number, when registered
        stop = asyncio.Event()

        async def red_case_a_second() -> None:
            while not stop.is_set():
                case_no, registered, _ = await self.register(land())
                trickle.append((case_no, registered))
                await asyncio.sleep(1)

        ticker = asyncio.create_task(red_case_a_second())
        results, wall = await self.burst([neighbour() for _ in range(count)], concurrency, f"ramp to {count} open cases")
        # Steady state begins once the ramp's backlog is worked off: every ramp case dispatched.
        drain = time.monotonic()
        await self.until_delivered("V201-TWH", {r[0] for r in results}, timeout=4 * 3600, every=10)
        drain = time.monotonic() - drain
        steady_from = len(trickle)
        await asyncio.sleep(60)  # steady state: all cases open, one red case a second
        stop.set()
        await ticker
        memory = {name: rss_mb(process.pid) for name, process in zip(("temporal", "simulator", "worker", "api"), self.processes)}
        red = [case_no for case_no, _ in trickle]
        lateness = await self.breach_lateness(red[:steady_from], "C-ZRZYJ", settle=time.time() + 60)
        steady = await self.breach_lateness(red[steady_from:], "C-ZRZYJ", settle=time.time() + 30)
        called = await self.deliveries("C-ZRZYJ")
        red_to_unit = [called[case_no] - registered for case_no, registered in trickle[:steady_from] if case_no in called]
        return {
            "open_cases": count,
            "ramp_cases_per_s": count / wall,
            "ramp_drained_s": drain,
            "rss_mb": memory,
            "register_mb": self.register_size_mb(),
            "temporal_db_mb": file_mb(self.settings.data_dir / "temporal.db") + file_mb(self.settings.data_dir / "temporal.db-wal"),
            "red_to_unit_called_s": spread(red_to_unit),
            "trickle_breach_late_s": spread(lateness),
            "steady_breach_late_s": spread(steady),
        }

    def register_size_mb(self) -> float:
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20
        path = Path(self.settings.register_url.removeprefix("sqlite:///"))
        return file_mb(path) + file_mb(path.with_name(path.name + "-wal"))

    # ── bare Temporal ────────────────────────────────────────────────────────────────────

    async def bare(self, intake: int, lifecycle: int, storm: int, concurrency: int, activities: int) -> dict:
        figures = {}
        queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
        with ThreadPoolExecutor(4) as executor:
            # onedoor's workflow cache: with the SDK's default (1,000) a larger storm replays bare's
            # cases at their wake-up, and the baseline would measure that thrash instead.
            async with Worker(self.bare_client, task_queue=queue, workflows=[BareCaseWorkflow], activities=[noop, stamp, stamp_after], activity_executor=executor,
                              max_cached_workflows=self.settings.worker_cached_cases):
                far = datetime.now(timezone.utc) + timedelta(days=1)
                if intake:
                    ids, wall, latency = await self.bare_starts(intake, concurrency, queue, BareCase(activities=1, due=far))
                    await wait_until(lambda: set(ids) <= STAMPS.keys(), 300)
                    figures["intake"] = {"cases_per_s": intake / wall, "start_latency_s": spread(latency), "to_dispatched_s": spread([STAMPS[i] - t for i, t in ids.items()])}
                if lifecycle:
                    started = time.monotonic()
                    ids, _, _ = await self.bare_starts(lifecycle, concurrency, queue, BareCase(activities=activities - 1, due=far), answer=True)
                    await self.bare_results(ids, concurrency)
                    figures["lifecycle"] = {"cases_per_s": lifecycle / (time.monotonic() - started), "activities_per_case": activities}
                if storm:
                    # Due when every case waits (its first activity done), as onedoor's storm is moved
                    # into its second only once every case is dispatched; the figure says how many did.
                    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=max(60, storm // 20))
                    ids, _, _ = await self.bare_starts(storm, concurrency, queue, BareCase(activities=1, due=due))
                    await wait_until(lambda: set(ids) <= STAMPS.keys(), 300)
                    waiting = sum(STAMPS.get(i, math.inf) < due.timestamp() for i in ids)
                    done = await self.bare_results(ids, concurrency)
                    figures["storm"] = {"wake_late_s": spread([d - due.timestamp() for d in done]), "waiting_before_due": waiting}
        return figures

    async def bare_results(self, ids, concurrency: int) -> list[float]:
        """Each workflow's result; C at a time, as the dev server limits a namespace's long polls."""
        gate = asyncio.Semaphore(concurrency)

        async def one(workflow_id: str) -> float:
            async with gate:
                return await self.bare_client.get_workflow_handle(workflow_id).result()

        return await asyncio.gather(*(one(i) for i in ids))

    async def bare_starts(self, count: int, concurrency: int, queue: str, case: BareCase, answer: bool = False):
        gate = asyncio.Semaphore(concurrency)
        ids: dict[str, float] = {}
        latency: list[float] = []

        async def one() -> None:
            async with gate:
                workflow_id = f"bare-{uuid.uuid4().hex}"
                started = time.time()
                handle = await self.bare_client.start_workflow(BareCaseWorkflow.run, case, id=workflow_id, task_queue=queue)
                latency.append(time.time() - started)
                ids[workflow_id] = started
                if answer:
                    await handle.signal(BareCaseWorkflow.answer)

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(count)))
        return ids, time.monotonic() - started, latency


def rss_mb(pid: int) -> float | None:
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


def file_mb(path: Path) -> float:
    return path.stat().st_size / 2**20 if path.exists() else 0.0


def cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


async def quiet(processes, timeout: float = 120) -> float:
    """Wait until the stack is idle (worker and server under a tenth of a core for 3 s), so one
    scenario's aftermath — the escalations a storm sets off — is not measured in the next. Returns
    how long it took."""
    started = time.monotonic()
    pids = [p.pid for p in processes]
    while time.monotonic() - started < timeout:
        before = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(3)
        if sum(cpu_seconds(pid) for pid in pids) - before < 0.3 * len(pids):
            break
    return time.monotonic() - started


async def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def machine() -> dict:
    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(), "load_avg": os.getloadavg()}


STORM_WAIT = 120  # seconds after the storm's due time that its breaches are waited for

# The bench's clocks: blue long (its cases stay open), yellow response long enough to register the
# storm and move it all into one second before the first case's own deadline (its reminder passes
# early), red response 10 s (the trickle breaches). Clocks start at dispatch even for the trickle's
# rotating lead unit (C-ZRZYJ, on duty Mon/Wed/Fri), so it breaches whatever day the bench runs. No quiet
# hours either, and the measured clocks in natural time: run at night (Beijing), a settled case would hold
# its last notice to the parties until the morning (the lifecycle waits for each case's end), and a
# response clock in office hours would fall due after 08:30 (the storm waits for its due time).
BENCH_CLOCKS = {
    "ONEDOOR_NOTICES__QUIET_FOR": "[]",
    "ONEDOOR_CLOCKS__YELLOW__RESPONSE__BASIS": "natural",
    "ONEDOOR_CLOCKS__RED__RESPONSE__BASIS": "natural",
    "ONEDOOR_CLOCKS__FOLLOW_ROTA": "false",
    "ONEDOOR_CLOCKS__YELLOW__RESPONSE__REMIND_AT": "0.01",
    "ONEDOOR_CLOCKS__RED__RESPONSE__LENGTH": "10",
    "ONEDOOR_CLOCKS__RED__EMERGENCY_ACK__LENGTH": "86400",
}


def storm_clock(storm: int) -> int:
    """Seconds of the yellow response clock: 300, or 0.3 s a storm case when more. At the default
    cache 2,000 cases took 5–6 minutes from registration to the last move (bench/NOTES.md)."""
    return max(300, round(0.3 * storm))


def bench_settings(data_dir: Path, database_url: str | None, storm: int) -> tuple[Settings, dict]:
    """A separate stack on its own ports and files, and the environment its services read."""
    values = dict(
        data_dir=data_dir, temporal_address="127.0.0.1:17233", temporal_ui_port=18233, api_port=18000,
        simulator_port=18100, simulator_url="http://127.0.0.1:18100", task_queue="onedoor-bench", log_level="WARNING",
    )
    # The bench's clocks unless the environment sets its own (a shorter storm wait for a small run).
    clocks = BENCH_CLOCKS | {"ONEDOOR_CLOCKS__YELLOW__RESPONSE__LENGTH": str(storm_clock(storm))}
    env = clocks | {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {f"ONEDOOR_{name.upper()}": str(value) for name, value in values.items()}
    if database_url:
        env["DATABASE_URL"] = database_url
    return Settings(**values, database_url=database_url), env


async def scenarios(settings: Settings, processes, options: dict) -> dict:
    client, bare_client = await connect(settings), await Client.connect(settings.temporal_address, data_converter=pydantic_data_converter)
    limits = httpx.Limits(max_connections=options["concurrency"] + 10)
    admin = {"Authorization": f"Bearer {settings.admin_key_file.read_text()}"}
    async with httpx.AsyncClient(base_url=settings.public_api_url, timeout=60, limits=limits, headers=admin) as api, httpx.AsyncClient(base_url=settings.simulator_url) as simulator:
        bench = Bench(settings, api, simulator, client, bare_client, processes)
        c = options["concurrency"]
        onedoor, settled = {}, {}
        for name, scenario in [("idle", bench.idle), ("intake", lambda n: bench.intake(n, c)),
                               ("lifecycle", lambda n: bench.lifecycle(n, c)), ("storm", lambda n: bench.storm(n, c))]:
            if options[name]:
                settled[name] = await quiet(processes)
                onedoor[name] = await scenario(options[name])
        activities = onedoor.get("lifecycle", {}).get("activities_per_case", 20)
        settled["bare"] = await quiet(processes)
        bare = await bench.bare(options["intake"], options["lifecycle"], options["storm"], c, activities)
        if options["open"]:
            settled["open"] = await quiet(processes)
            onedoor["open"] = await bench.open_caseload(options["open"], c)
        onedoor["settled_before_s"] = settled
        onedoor["registrations_resent"] = bench.resent
    return {"onedoor": onedoor, "bare": bare}


def run(options: dict, database_url: str | None) -> dict:
    stamp_ = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    data_dir = RESULTS / f"stack-{stamp_}"
    before = machine()
    # A fresh PostgreSQL database per run (dropped afterwards), as the SQLite register is a fresh file.
    with throwaway_register(Settings(database_url=database_url).register_url, data_dir, "bench") if database_url else nullcontext() as url:
        settings, env = bench_settings(data_dir, url, options["storm"])
        if options["storm"] > settings.worker_cached_cases:
            console.print(f"[yellow]storm {options['storm']} > the worker's cache of {settings.worker_cached_cases} cases: every storm task "
                          "replays its case and the figure measures the thrash; set ONEDOOR_WORKER_CACHED_CASES above the storm (bench/README.md)")
        processes = stack.start(settings, env=env, log_dir=data_dir)
        try:
            stack.wait_healthy(settings, processes)
            figures = asyncio.run(scenarios(settings, processes, options))
        finally:
            stack.stop(processes)
    summary = {"at": stamp_, "machine": before, "load_avg_after": os.getloadavg(), "options": options, "worker_cached_cases": settings.worker_cached_cases,
               "register": "PostgreSQL" if database_url else "SQLite", **figures}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench-{stamp_}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    return summary


def figures(summary: dict) -> list[tuple[str, float | None, float | None, str]]:
    """(figure, onedoor, bare, target) rows of one run."""
    one, bare = summary["onedoor"], summary["bare"]

    def get(tree, *path):
        for key in path:
            if not isinstance(tree, dict) or key not in tree:
                return None
            tree = tree[key]
        return tree

    return [
        ("idle: intake → unit called, p50 (s)", get(one, "idle", "intake_to_unit_called_s", "p50"), None, "≤ 0.300"),
        ("intake: cases/s", get(one, "intake", "cases_per_s"), get(bare, "intake", "cases_per_s"), "≥ 100"),
        ("intake: API latency p50 (s)", get(one, "intake", "api_latency_s", "p50"), get(bare, "intake", "start_latency_s", "p50"), ""),
        ("intake: API latency p99 (s)", get(one, "intake", "api_latency_s", "p99"), get(bare, "intake", "start_latency_s", "p99"), "≤ 0.250"),
        ("intake: to dispatched p50 (s)", get(one, "intake", "to_dispatched_s", "p50"), get(bare, "intake", "to_dispatched_s", "p50"), ""),
        ("intake: to dispatched p99 (s)", get(one, "intake", "to_dispatched_s", "p99"), get(bare, "intake", "to_dispatched_s", "p99"), ""),
        ("lifecycle: cases/s", get(one, "lifecycle", "cases_per_s"), get(bare, "lifecycle", "cases_per_s"), "≥ 0.6 × bare"),
        ("lifecycle: history events p50", get(one, "lifecycle", "history_events", "p50"), None, "≤ 150"),
        ("storm: breach recorded late p50 (s)", get(one, "storm", "breach_recorded_late_s", "p50"), get(bare, "storm", "wake_late_s", "p50"), ""),
        ("storm: breach recorded late p99 (s)", get(one, "storm", "breach_recorded_late_s", "p99"), get(bare, "storm", "wake_late_s", "p99"), "≤ 10, < bare"),
        ("storm: timer fired late p99 (s)", get(one, "storm", "timer_fired_late_s", "p99"), None, ""),
        ("storm: breach task started late p99 (s)", get(one, "storm", "task_started_late_s", "p99"), None, ""),
        (f"storm: breaches recorded within {STORM_WAIT} s", get(one, "storm", "recorded_in_time"), None, "all moved"),
        ("storm: bare cases waiting before their due time", None, get(bare, "storm", "waiting_before_due"), "all"),
        ("storm: breach recorded late max (s)", get(one, "storm", "breach_recorded_late_s", "max"), get(bare, "storm", "wake_late_s", "max"), ""),
        ("open: ramp cases/s", get(one, "open", "ramp_cases_per_s"), None, ""),
        ("open: worker RSS (MB)", get(one, "open", "rss_mb", "worker"), None, "≤ 600"),
        ("open: Temporal server RSS (MB)", get(one, "open", "rss_mb", "temporal"), None, ""),
        ("open: register (MB)", get(one, "open", "register_mb"), None, ""),
        ("open: ramp worked off after (s)", get(one, "open", "ramp_drained_s"), None, ""),
        ("open: red case registered → unit called, p99 during the ramp and its backlog (s)", get(one, "open", "red_to_unit_called_s", "p99"), None, ""),
        ("open: breach late p99 during the ramp and its backlog (s)", get(one, "open", "trickle_breach_late_s", "p99"), None, ""),
        ("open: steady breach late p99 (s)", get(one, "open", "steady_breach_late_s", "p99"), None, "≤ 2"),
        ("registrations sent again after a dropped connection", get(one, "registrations_resent"), None, ""),
    ]


def report(summaries: list[dict]) -> None:
    """One table over all runs: the median, and min–max across runs when there are several."""
    first = summaries[0]
    title = f"onedoor bench {first['at']} — {first['machine']['cores']} cores, {first['machine']['memory_gb']} GB, register {first['register']}, {len(summaries)} run(s)"
    table = Table(title=title)
    for column in ("figure", "onedoor", "bare Temporal", "onedoor ÷ bare", "target"):
        table.add_column(column)
    runs = [figures(summary) for summary in summaries]
    for index, (name, _, _, target) in enumerate(runs[0]):
        ours = [run[index][1] for run in runs if run[index][1] is not None]
        theirs = [run[index][2] for run in runs if run[index][2] is not None]
        ratios = [run[index][1] / run[index][2] for run in runs if run[index][1] and run[index][2]]
        if ours or theirs:
            table.add_row(name, summarise(ours), summarise(theirs), summarise(ratios), target)
    console.print(table)


def summarise(values: list[float]) -> str:
    if not values:
        return ""
    middle = fmt(statistics.median(values))
    return middle if len(values) == 1 else f"{middle} [{fmt(min(values))}–{fmt(max(values))}]"


def fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
