"""`onedoor` command line: the embedded stack, and each service on its own (as compose runs them)."""

import asyncio
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer

from onedoor import logs
from onedoor.domain.labels import Role
from onedoor.settings import Settings

app = typer.Typer(help="onedoor — 只进一扇门，最多跑一地", no_args_is_help=True, add_completion=False)


def leave(code: int) -> NoReturn:
    """End a short command that used a Temporal client without the interpreter's finalization: the
    client's Rust threads may call into Python while it finalizes, and the process then aborts
    ("PyGILState_Release: thread state … must be current", temporalio/sdk-python#300), turning a
    setup that succeeded, or a healthy probe, into an abort (SIGABRT)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def up() -> None:
    """Start Temporal dev server, register, simulator, worker and API in the foreground."""
    from onedoor.ops.stack import up as run_stack

    settings = Settings()
    logs.configure(settings.log_level)
    run_stack(settings)


@app.command()
def worker() -> None:
    """Run a worker (production runs N of these)."""
    from worker import main

    asyncio.run(main())


@app.command()
def api() -> None:
    """Serve the HTTP API."""
    from api.app import main

    main()


@app.command()
def simulator() -> None:
    """Serve the department system simulator."""
    from onedoor.simulator.app import main

    main()


@app.command()
def migrate() -> None:
    """Bring the register database to the newest schema."""
    from functools import partial

    from onedoor.codec import field_sealer
    from onedoor.store.db import migrate as run_migrations

    settings = Settings()
    run_migrations(settings.register_url, partial(field_sealer, settings))  # the keys seal rows written before 0009


@app.command()
def reseal() -> None:
    """Seal the register's personal data again under the current payload key (ONEDOOR_CODEC_KEY_ID),
    after a rotation: then a retired key is no longer needed by the register. Safe while the stack runs."""
    from onedoor.codec import field_sealer
    from onedoor.store.db import make_engine, make_sessions
    from onedoor.store.reseal import reseal as reseal_register

    settings = Settings()
    sealer = field_sealer(settings)
    with make_sessions(make_engine(settings.register_url, sealer))() as session:
        rows = reseal_register(session)
    typer.echo(f"{rows} rows sealed under key {sealer.current}")


@app.command()
def seed(simulator_url: str = typer.Option(None, help="point the seeded units at this simulator")) -> None:
    """Upsert the demo directory (jurisdictions, units, duty lists) into the register."""
    from onedoor.store.db import make_engine, make_sessions
    from onedoor.store.directory import seed_directory

    settings = Settings()
    with make_sessions(make_engine(settings.register_url))() as session:
        seed_directory(session, simulator_url or settings.simulator_url)


@app.command()
def setup(
    directory: Path = typer.Option(None, help="the directory (JSON, as store/seed/directory.json) seeded into an empty register; default: the demo county"),
    wait: float = typer.Option(300, help="seconds to wait for a Temporal cluster that is still starting"),
) -> None:
    """Idempotent setup for a server deployment: Temporal namespace, search attributes, register schema,
    the directory seeded into an empty register (never over one that has it), and the weekly report
    schedules of the register's townships and counties. Retries while Temporal is starting."""
    from onedoor.ops.schedules import prepare_schedules
    from onedoor.ops.stack import prepare_register, prepare_temporal
    from onedoor.store.directory import SEED

    settings = Settings()
    logs.configure(settings.log_level)
    asyncio.run(prepare_temporal(settings, wait))
    prepare_register(settings, directory or SEED)
    asyncio.run(prepare_schedules(settings, wait))
    leave(0)


@app.command("simulator-keys")
def simulator_keys() -> None:
    """Issue the keys of the unit systems the simulator plays and write them, with the units' signing
    secrets, where the simulator reads them (ONEDOOR_DATA_DIR/simulator-keys.json). `onedoor up` does
    this at every start; compose's demo profile runs it before the simulator."""
    from onedoor.ops.stack import issue_simulator_keys

    settings = Settings()
    units = issue_simulator_keys(settings)
    if not units:
        typer.echo(f"no unit in the register has its system at {settings.simulator_url} (ONEDOOR_SIMULATOR_URL): run `onedoor setup` first", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(units)} unit keys written to {settings.simulator_key_file}")


class Probed(StrEnum):
    API = "api"
    WORKER = "worker"
    SIMULATOR = "simulator"


@app.command()
def healthcheck(service: Probed = typer.Argument(help="the service running beside this probe")) -> None:
    """Exit 0 when the service is healthy (compose's healthcheck): the API is ready (/readyz: Temporal
    and the register answer it), the simulator answers over HTTP; a worker of this host has polled
    its task queue in the last two minutes."""
    from onedoor.ops import health

    settings = Settings()
    healthy = {
        Probed.API: lambda: health.api_answers(settings),
        Probed.SIMULATOR: lambda: health.simulator_answers(settings),
        Probed.WORKER: lambda: asyncio.run(health.worker_polls(settings)),
    }[service]()
    leave(0 if healthy else 1)


@app.command("issue-key")
def issue_key(
    user_id: str = typer.Argument(help="e.g. admin, or a staff member's login"),
    role: Role = typer.Option(Role.ADMIN.value, help="what the user may do (docs/security.md)"),
    name: str = typer.Option("管理员", help="shown in logs and the audit trail"),
    jurisdiction: str = typer.Option(None, help="scope of an operator or supervisor (township or county code)"),
    unit: str = typer.Option(None, help="a unit staff member's unit"),
    mediator: str = typer.Option(None, help="a mediator's id in the directory"),
) -> None:
    """Create or update a user and print a new API key for them (the first admin of a deployment;
    afterwards admins use PUT /users/{id}). The key is shown once; the register keeps its hash."""
    from onedoor.store import users
    from onedoor.store.db import make_engine, make_sessions

    settings = Settings()
    with make_sessions(make_engine(settings.register_url))() as session:
        user = users.ensure_user(session, user_id, name=name, role=role.value, jurisdiction_code=jurisdiction, unit_code=unit, mediator_id=mediator, active=True)
        typer.echo(users.issue_key(session, user))


@app.command()
def contracts(write: bool = typer.Option(False, "--write", help="update docs/contracts.md and the JSON schemas in contracts/ instead of printing")) -> None:
    """The documents exchanged with outside systems, rendered for docs/contracts.md (对外接口文档格式)."""
    from onedoor.domain.contracts import render, schema_file, schema_text, with_block
    from onedoor.domain.documents import CONTRACTS

    if not write:
        typer.echo(render(), nl=False)
        return
    root = Path(__file__).resolve().parents[1]  # the checkout: onedoor/cli.py
    page = root / "docs" / "contracts.md"
    page.write_text(with_block(page.read_text(encoding="utf-8"), render()), encoding="utf-8")
    folder = root / "contracts"
    folder.mkdir(exist_ok=True)
    current = {schema_file(model): schema_text(model) for model in CONTRACTS}
    for stale in {p.name for p in folder.glob("*.json")} - set(current):  # a retired version goes; git keeps it
        (folder / stale).unlink()
    for name, text in current.items():
        (folder / name).write_text(text, encoding="utf-8")
    typer.echo(f"docs/contracts.md and contracts/ ({len(current)} schemas) updated")


class Page(StrEnum):
    CONFIGURATION = "configuration"


@app.command()
def docs(page: Page = typer.Argument(..., help="the page of docs/ to print: configuration")) -> None:
    """A generated page of docs/, printed: `onedoor docs configuration > docs/configuration.md`."""
    from onedoor.settings import configuration_page

    typer.echo({Page.CONFIGURATION: configuration_page}[page](), nl=False)


@app.command()
def bench(
    idle: int = typer.Option(20, help="single cases, one after another"),
    intake: int = typer.Option(2000, help="cases in the intake burst"),
    lifecycle: int = typer.Option(300, help="cases taken through the whole lifecycle"),
    storm: int = typer.Option(2000, help="response deadlines due in the same second"),
    open_cases: int = typer.Option(50000, "--open", help="open cases to ramp to (0 skips)"),
    concurrency: int = typer.Option(50, help="requests in flight"),
    repeat: int = typer.Option(1, help="runs, each on a fresh stack; the table shows median and min–max"),
    database_url: str = typer.Option(None, help="register database (SQLite under the bench's folder when unset)"),
) -> None:
    """Benchmark onedoor through its API against bare Temporal on the same server (see bench/README.md)."""
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "bench" / "run.py").is_file():
        raise typer.BadParameter("基准测试需在源码目录中运行：pip install -e '.[bench]' (the benchmark runs from a checkout; bench/ is not installed)")
    sys.path.insert(0, str(checkout))  # bench/ lives beside the package, outside what the wheel installs
    from bench.run import report, run

    options = dict(idle=idle, intake=intake, lifecycle=lifecycle, storm=storm, open=open_cases, concurrency=concurrency)
    report([run(options, database_url) for _ in range(repeat)])


if __name__ == "__main__":
    app()
