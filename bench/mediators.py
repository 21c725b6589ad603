"""How long choosing a mediator takes as a center's caseload grows.

`python -m bench.mediators` seeds a throwaway register with open cases shared by the mediators of
东关社区 (the village the bench's open caseload goes to) and a settled history beside them, then
times `store.directory.pick_mediator` as `assign_mediator` calls it for every new case: it counts
each candidate's unsettled cases, so its cost grows with the caseload (bench/README.md)."""

import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import typer
from sqlalchemy import insert, select

from bench.run import RESULTS, console, machine, quantile
from onedoor.codec import FieldSealer, decode_keys, new_key
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store.directory import pick_mediator, seed_directory
from onedoor.store.tables import Case, Mediator

VILLAGE, TOWNSHIP = "139001101201", "139001101"
BATCH = 5000


def seed(make_session, open_cases: int, settled: int, now: datetime) -> list[str]:
    """Cases spread evenly over the village's mediators, the settled ones first (a register's history)."""
    with make_session() as session:
        seed_directory(session, None)
        mediators = list(session.scalars(select(Mediator.id).where(Mediator.jurisdiction_code == VILLAGE)))
        for start in range(0, open_cases + settled, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, open_cases + settled)):
                is_settled = n < settled
                rows.append(dict(
                    case_no=f"139001-2026-{n:07d}", source="window", category="邻里", township_code=TOWNSHIP, village_code=VILLAGE,
                    summary="邻居加盖院墙遮挡采光", parties=[], stage="closed" if is_settled else "mediating", received_at=now - timedelta(days=1),
                    mediator_id=mediators[n % len(mediators)], settled_at=now if is_settled else None, overdue=False, escalation_count=0, last_step=1,
                ))
            session.execute(insert(Case), rows)
        session.commit()
    return mediators


def main(
    open_cases: int = typer.Option(50000, "--open", help="unsettled cases of the village's mediators"),
    settled: int = typer.Option(25000, help="settled cases beside them: about a year of a city's disputes"),
    repeat: int = typer.Option(200, min=10, help="mediator choices timed"),
    database_url: str = typer.Option(None, help="a PostgreSQL server (a throwaway database is made on it); SQLite when unset"),
) -> None:
    """Seed a register and time the choice of a mediator (see bench/README.md)."""
    now = datetime.now(timezone.utc)
    sealer = FieldSealer(decode_keys({"bench": new_key()}), "bench")  # the seeded cases are sealed as a deployment's are
    with tempfile.TemporaryDirectory(prefix="onedoor-mediators-") as folder, throwaway_register(
        database_url and Settings(database_url=database_url).register_url, Path(folder), "mediators"
    ) as url:
        engine = make_engine(url, sealer)
        make_session = make_sessions(engine)
        mediators = seed(make_session, open_cases, settled, now)
        times = []
        with make_session() as session:
            for _ in range(repeat):
                started = time.perf_counter()
                chosen = pick_mediator(session, VILLAGE, gold_first=False, exclude=[])
                times.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    summary = {
        "at": now.strftime("%Y%m%dT%H%M%SZ"), "machine": machine(), "register": "PostgreSQL" if database_url else "SQLite",
        "open_cases": open_cases, "settled_cases": settled, "mediators": mediators, "chosen": chosen and chosen.id, "repeat": repeat,
        "pick_ms": {"p50": quantile(times, 0.5), "p99": quantile(times, 0.99), "max": max(times)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"mediators-{summary['at']}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    console.print_json(json.dumps(summary, ensure_ascii=False, default=str))


if __name__ == "__main__":
    typer.run(main)
