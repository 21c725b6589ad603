"""`python -m bench.worklists`: the worklists on a seeded register — right cases, and how fast.

Seeds a throwaway register (a SQLite file, or a new database on the `--database-url` PostgreSQL
server, dropped afterwards) with N cases and their clocks as the workflow writes them, spread
over the seed directory's townships, villages, units, grades and stages; checks every list against
a plain-Python reading of the same rows; then times each list through the store functions and
through the API (in process, no server) and prints p50/p99 in ms, with a JSON copy under
`bench/results/`.
"""

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.worklists import ListQuery, filters_from
from bench.run import RESULTS, console, machine, quantile
from onedoor.codec import FieldSealer, decode_keys, new_key
from onedoor.domain.labels import Category, ClockName, ClockStatus, Level, RiskGrade, Stage
from onedoor.domain.policy import ClockPolicy
from onedoor.domain.routing import DutyEntry, handling_level, next_center, route
from onedoor.domain.timezone import as_shanghai
from onedoor.settings import Settings
from onedoor.store import users, worklists
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store.directory import SEED, jurisdiction_and_below, seed_directory
from onedoor.store.tables import Case, CaseClock

COUNTY = "139001"
STAGES = {  # most of a register is history; the open cases are what the lists read
    Stage.SETTLED: 40, Stage.CLOSED: 8, Stage.RECEIVED: 1, Stage.TRIAGED: 1,
    Stage.DISPATCHED: 14, Stage.HANDLING: 26, Stage.CONFIRMATION: 4, Stage.REFERRAL: 6,
}
GRADES = {RiskGrade.BLUE: 55, RiskGrade.YELLOW: 35, RiskGrade.RED: 10}
# The state of the clock a case is waiting on: mostly in time, some reminded, breached or paused.
PRESSURE = {"running": 70, "reminded": 14, "breached": 10, "paused": 6}
LIVE = {ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.BREACHED}


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Seeder:
    """Cases and clocks as `store.register` writes them, for the seed directory's places and duty lists."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng, self.now, self.policy = rng, now, ClockPolicy()
        directory = json.loads(SEED.read_text(encoding="utf-8"))
        jurisdictions = {j["code"]: j for j in directory["jurisdictions"]}
        self.duties = [DutyEntry(**line) for line in directory["duty_list"]]
        self.places = []  # (township, village or None, {level: center code})
        for j in jurisdictions.values():
            if j["level"] in (Level.TOWNSHIP, Level.VILLAGE):
                centers, code = {}, j["code"]
                while code:
                    if jurisdictions[code].get("has_center", True):
                        centers[Level(jurisdictions[code]["level"])] = code
                    code = jurisdictions[code]["parent_code"]
                township = j["code"] if j["level"] == Level.TOWNSHIP else j["parent_code"]
                self.places.append((township, j["code"] if j["level"] == Level.VILLAGE else None, centers))

    def case(self, number: int) -> tuple[dict, list[dict]]:
        rng, now = self.rng, self.now
        stage, grade = pick(rng, STAGES), pick(rng, GRADES)
        township, village, centers = rng.choice(self.places)
        category = rng.choice(list(Category))
        is_open = stage.is_open
        received = now - (timedelta(minutes=rng.uniform(5, 30 * 24 * 60)) if is_open else timedelta(days=rng.uniform(30, 365)))
        row = dict(
            case_no=f"{COUNTY}-2026-{number:06d}", source=rng.choice(["window", "hotline", "online", "police"]), category=category.value,
            township_code=township, village_code=village, summary=f"{category.value}纠纷，双方就赔偿金额分歧较大，申请调解（第 {number} 号）",
            parties=[{"name": "王建国", "role": "applicant", "phone": "13800138000"}, {"name": "李卫东", "role": "respondent"}],
            stage=stage.value, grade=None, level=None, jurisdiction_code=None, lead_unit=None, mediator_id=None, result=None,
            received_at=received, triaged_at=None, dispatched_at=None, next_deadline=None, overdue=False, escalation_count=0, last_step=1,
        )
        if stage == Stage.RECEIVED:
            return row, []
        level = handling_level(grade, centers)
        escalated = next_center(level, centers) if rng.random() < 0.1 else None
        current = escalated or level
        lead = route(self.duties, current, centers[current], category)
        row.update(grade=grade.value, level=current.value, jurisdiction_code=centers[current], lead_unit=lead.lead_unit,
                   escalation_count=int(escalated is not None), triaged_at=received + timedelta(minutes=5))
        if stage == Stage.TRIAGED:
            return row, []
        clocks = ClockMaker(self, row["case_no"], grade, received)
        if escalated:  # the level below: its units did not answer, so the case went up
            below = route(self.duties, level, centers[level], category)
            for unit in (below.lead_unit, *below.co_units):
                clocks.live(ClockName.RESPONSE, unit, level, "breached")
                clocks.done(ClockName.FEEDBACK, unit, level, ClockStatus.ENDED)
            clocks.done(ClockName.MEDIATION, None, level, ClockStatus.ENDED)
        pressure = pick(rng, PRESSURE)
        units = (lead.lead_unit, *lead.co_units)
        if stage == Stage.DISPATCHED:
            for unit in units:
                clocks.live(ClockName.RESPONSE, unit, current, pressure)
                clocks.live(ClockName.FEEDBACK, unit, current, "paused" if pressure == "paused" else "running")
            clocks.live(ClockName.MEDIATION, None, current, "paused" if pressure == "paused" else "running")
        else:
            for unit in units:
                clocks.done(ClockName.RESPONSE, unit, current, ClockStatus.MET)
                if stage == Stage.HANDLING and unit == lead.lead_unit:
                    clocks.live(ClockName.FEEDBACK, unit, current, pressure)
                else:
                    clocks.done(ClockName.FEEDBACK, unit, current, ClockStatus.MET)
            if stage == Stage.HANDLING:
                clocks.live(ClockName.MEDIATION, None, current, "paused" if pressure == "paused" else pick(rng, PRESSURE))
            else:
                clocks.done(ClockName.MEDIATION, None, current, ClockStatus.MET)
            if stage == Stage.CONFIRMATION:
                clocks.live(ClockName.CONFIRMATION, None, current, "paused" if pressure == "paused" else "running")
            if stage == Stage.REFERRAL:
                clocks.live(ClockName.REFERRAL, rng.choice(["C-LDZC", "C-FY", "C-FLYZ"]), current, pressure)
            if not stage.is_open:
                clocks.done(ClockName.RETURN_VISIT, None, current, ClockStatus.MET)
        running = [c["due_at"] for c in clocks.rows if c["status"] == ClockStatus.RUNNING]
        row.update(
            dispatched_at=received + timedelta(minutes=10),
            next_deadline=min(running, default=None),
            overdue=any(c["status"] == ClockStatus.BREACHED for c in clocks.rows),
        )
        return row, clocks.rows


class ClockMaker:
    """One case's clock rows: live ones timed against now, finished ones against intake."""

    def __init__(self, seeder: Seeder, case_no: str, grade: RiskGrade, received: datetime):
        self.seeder, self.case_no, self.rules, self.received = seeder, case_no, seeder.policy.for_grade(grade), received
        self.rows: list[dict] = []

    def add(self, name: ClockName, unit: str | None, level: Level, status: ClockStatus, started: datetime, **times) -> None:
        length = getattr(self.rules, name.value).length
        self.rows.append(dict(
            case_no=self.case_no, clock_id=len(self.rows), name=name.value, unit_code=unit, level=level.value, basis="natural",
            started_at=started, due_at=started + length, status=status.value,
        ) | dict(remaining_seconds=None, reminded_at=None, breached_at=None, done_at=None) | times)

    def live(self, name: ClockName, unit: str | None, level: Level, pressure: str) -> None:
        """A clock the case is waiting on, `pressure` deciding where now falls in it."""
        rng, now = self.seeder.rng, self.seeder.now
        length = getattr(self.rules, name.value).length
        share = {"running": rng.uniform(0, 0.7), "paused": rng.uniform(0, 0.7), "reminded": rng.uniform(0.76, 0.99), "breached": rng.uniform(1.01, 4)}[pressure]
        started = now - share * length
        due = started + length
        if pressure == "breached":
            self.add(name, unit, level, ClockStatus.BREACHED, started, reminded_at=started + 0.75 * length, breached_at=due)
        elif pressure == "paused":
            self.add(name, unit, level, ClockStatus.PAUSED, started, remaining_seconds=int((due - now).total_seconds()))
        else:
            self.add(name, unit, level, ClockStatus.RUNNING, started, reminded_at=started + 0.75 * length if pressure == "reminded" else None)

    def done(self, name: ClockName, unit: str | None, level: Level, status: ClockStatus) -> None:
        started = self.received + timedelta(minutes=10)
        self.add(name, unit, level, status, started, done_at=started + timedelta(minutes=self.seeder.rng.uniform(10, 600)))


def seed(make_session, count: int, rng: random.Random, now: datetime) -> tuple[list[dict], list[dict]]:
    seeder = Seeder(rng, now)
    cases, clocks = [], []
    for number in range(1, count + 1):
        row, rows = seeder.case(number)
        cases.append(row)
        clocks += rows
    with make_session() as session:
        seed_directory(session, None)
        for start in range(0, len(cases), 1000):
            session.execute(insert(Case), cases[start:start + 1000])
        for start in range(0, len(clocks), 1000):
            session.execute(insert(CaseClock), clocks[start:start + 1000])
        session.commit()
    return cases, clocks


# ── what each list should hold, read in plain Python from the seeded rows ──────────────────

def expected(cases: list[dict], clocks: list[dict], unit: str) -> dict[str, dict[str, int | None]]:
    """Per list, case number → the clock it must show (None: listed without one)."""
    by_case: dict[str, list[dict]] = {}
    for c in clocks:
        by_case.setdefault(c["case_no"], []).append(c)
    lists = {  # (the case belongs, the clock counts, a case needs such a clock)
        "inbox": (lambda c: True, lambda k: k["unit_code"] == unit and k["name"] in ("response", "feedback") and k["status"] in LIVE, True),
        "overdue": (lambda c: c["overdue"], lambda k: k["status"] == ClockStatus.BREACHED, False),
        "red": (lambda c: c["grade"] == RiskGrade.RED, lambda k: k["status"] in LIVE, False),
        "waiting": (lambda c: True, lambda k: k["status"] == ClockStatus.PAUSED or (k["name"] == "confirmation" and k["status"] == ClockStatus.RUNNING), True),
        "near-breach": (lambda c: True, lambda k: k["status"] == ClockStatus.RUNNING and k["reminded_at"] and not k["breached_at"], True),
    }
    wanted = {}
    for name, (belongs, counts, needs_clock) in lists.items():
        wanted[name] = {}
        for case in cases:
            if not Stage(case["stage"]).is_open or not belongs(case):
                continue
            matching = sorted((k["due_at"], k["clock_id"]) for k in by_case.get(case["case_no"], []) if counts(k))
            if matching or not needs_clock:
                wanted[name][case["case_no"]] = matching[0][1] if matching else None
    return wanted


READERS = {
    "inbox": lambda unit: lambda s, f, limit, offset: worklists.unit_inbox(s, unit, f, limit, offset),
    "overdue": lambda _: worklists.overdue,
    "red": lambda _: worklists.red,
    "waiting": lambda _: worklists.waiting,
    "near-breach": lambda _: worklists.near_breach,
}


def check(make_session, cases: list[dict], clocks: list[dict], unit: str) -> dict[str, int]:
    """Every list, whole and county-wide, against the plain reading: the same cases, each with the
    same clock, by due time where the list says so."""
    wanted, sizes = expected(cases, clocks, unit), {}
    with make_session() as session:
        county = worklists.Filters(places=jurisdiction_and_below(session, COUNTY))
        for name, reader in READERS.items():
            page = reader(unit)(session, county, None, 0)
            got = {row.case_no: row.clock.clock_id if row.clock else None for row in page.rows}
            assert got == wanted[name] and len(page.rows) == page.total, f"{name}: wrong cases or clocks"
            if name != "waiting":
                dues = [row.clock.due_at for row in page.rows if row.clock is not None]
                assert dues == sorted(dues), f"{name}: not by due time"
            sizes[name] = page.total
    return sizes


# ── timing ─────────────────────────────────────────────────────────────────────────────────

def variants(unit: str, today: date) -> list[tuple[str, str, dict]]:
    """(list, path, query): each list county-wide, and narrowed as a worker of the unit's township would."""
    paths = {"inbox": f"/worklists/units/{unit}/inbox", **{name: f"/worklists/{name}" for name in READERS if name != "inbox"}}
    home = next(u["jurisdiction_code"] for u in json.loads(SEED.read_text(encoding="utf-8"))["units"] if u["code"] == unit)
    narrow = {"jurisdiction": home, "grade": ["yellow", "red"], "category": ["劳动争议", "邻里", "合同", "其他"], "from": str(today - timedelta(days=14)), "to": str(today)}
    return [(name, path, params) for name, path in paths.items() for params in ({"jurisdiction": COUNTY}, narrow)]


def query_of(params: dict) -> Callable[[Session], worklists.Filters]:
    """The store's filters for a variant's parameters, made as the API makes them from the URL."""
    query = ListQuery.model_validate(params)
    return lambda session: filters_from(session, query, query.jurisdiction)


def time_store(make_session, name: str, unit: str, params: dict, repeat: int) -> list[float]:
    filters_for, read, times = query_of(params), READERS[name](unit), []
    for _ in range(repeat):
        started = time.perf_counter()
        with make_session() as session:
            read(session, filters_for(session), 50, 0)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def time_api(app, key: str, path: str, params: dict, repeat: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            response = await client.get(path, params=params)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return times


def figures(times: list[float]) -> dict:
    return {"p50_ms": round(quantile(times, 0.5), 2), "p99_ms": round(quantile(times, 0.99), 2)}


def main(
    cases: int = typer.Option(5000, min=1000, help="cases in the seeded register"),
    repeat: int = typer.Option(200, min=10, help="runs of each query"),
    database_url: str = typer.Option(None, help="a PostgreSQL server (a throwaway database is made on it); SQLite when unset"),
    seed_value: int = typer.Option(2026, "--seed", help="random seed: the same register every run"),
) -> None:
    """Seed a register, check the worklists return the right cases, and time them (see bench/README.md)."""
    now = datetime.now(timezone.utc)
    sealer = FieldSealer(decode_keys({"bench": new_key()}), "bench")  # the seeded parties are sealed as a deployment's are
    with tempfile.TemporaryDirectory(prefix="onedoor-worklists-") as folder, throwaway_register(
        database_url and Settings(database_url=database_url).register_url, Path(folder), "worklists"
    ) as url:
        engine = make_engine(url, sealer)
        make_session = make_sessions(engine)
        started = time.perf_counter()
        case_rows, clock_rows = seed(make_session, cases, random.Random(seed_value), now)
        seeded_s = time.perf_counter() - started
        if database_url:
            with engine.connect() as conn:  # PostgreSQL's statistics, as autovacuum keeps them; SQLite has none unless asked
                conn.execute(text("ANALYZE"))
                conn.commit()
        # The unit with the most open dispatches: the longest inbox.
        open_dispatch = Counter(c["unit_code"] for c in clock_rows if c["name"] in ("response", "feedback") and c["status"] in LIVE)
        unit = open_dispatch.most_common(1)[0][0]
        sizes = check(make_session, case_rows, clock_rows, unit)

        app = create_app(Settings(database_url=url))
        app.state.sessions = make_session  # the worklist routes need only the register: no Temporal, no lifespan
        with make_session() as session:  # a county supervisor: the county's lists, as a center's supervisor reads them
            key = users.issue_key(session, users.ensure_user(session, "bench-supervisor", name="县综治中心督办", role="supervisor", jurisdiction_code=COUNTY, active=True))
        today = as_shanghai(now).date()
        results = []
        for name, path, params in variants(unit, today):
            store_ms = time_store(make_session, name, unit, params, repeat)
            api_ms = asyncio.run(time_api(app, key, path, {**params, "limit": 50}, repeat))
            with make_session() as session:
                total = READERS[name](unit)(session, query_of(params)(session), 0, 0).total
            results.append({"list": name, "filters": params, "total": total, "store": figures(store_ms), "api": figures(api_ms)})
        csv_ms = asyncio.run(time_api(app, key, "/worklists/overdue", {"jurisdiction": COUNTY, "format": "csv"}, max(10, repeat // 10)))
        engine.dispose()

    summary = {
        "at": now.strftime("%Y%m%dT%H%M%SZ"), "machine": machine(), "register": "PostgreSQL" if database_url else "SQLite",
        "cases": cases, "clocks": len(clock_rows), "open_cases": sum(Stage(c["stage"]).is_open for c in case_rows),
        "seeded_s": round(seeded_s, 1), "inbox_unit": unit, "checked_totals": sizes, "repeat": repeat,
        "lists": results, "overdue_csv_all_rows": {"rows": sizes["overdue"], **figures(csv_ms)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"worklists-{summary['at']}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    console.print_json(json.dumps(summary, ensure_ascii=False, default=str))
    report(summary)


def report(summary: dict) -> None:
    table = Table(title=f"worklists {summary['at']} — register {summary['register']}, {summary['cases']} cases "
                        f"({summary['open_cases']} open, {summary['clocks']} clocks), {summary['repeat']} runs each, limit 50")
    for column in ("list", "filters", "total", "store p50 ms", "store p99 ms", "API p50 ms", "API p99 ms"):
        table.add_column(column)
    for r in summary["lists"]:
        scope = "county" if r["filters"] == {"jurisdiction": COUNTY} else "township + filters"
        table.add_row(r["list"], scope, str(r["total"]), *(str(r[via][q]) for via in ("store", "api") for q in ("p50_ms", "p99_ms")))
    csv_figures = summary["overdue_csv_all_rows"]
    table.add_row("overdue CSV", "county, all rows", str(csv_figures["rows"]), "", "", str(csv_figures["p50_ms"]), str(csv_figures["p99_ms"]))
    Console(width=160).print(table)  # wide enough for one line a row


if __name__ == "__main__":
    typer.run(main)
