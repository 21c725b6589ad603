"""`onedoor` command line: the embedded stack, and each service on its own (as compose runs them)."""

import asyncio

import typer

import logs
from settings import Settings

app = typer.Typer(help="onedoor — 只进一扇门，最多跑一地", no_args_is_help=True, add_completion=False)


@app.command()
def up() -> None:
    """Start Temporal dev server, register, simulator, worker and API in the foreground."""
    from ops.stack import up as run_stack

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
    from simulator.app import main

    main()


@app.command()
def migrate() -> None:
    """Bring the register database to the newest schema."""
    from store.db import migrate as run_migrations

    run_migrations(Settings().register_url)


@app.command()
def seed(simulator_url: str = typer.Option(None, help="point the seeded units at this simulator")) -> None:
    """Upsert the demo directory (jurisdictions, units, duty lists) into the register."""
    from store.db import make_engine, make_sessions
    from store.directory import seed_directory

    settings = Settings()
    with make_sessions(make_engine(settings.register_url))() as session:
        seed_directory(session, simulator_url or settings.simulator_url)


@app.command()
def setup() -> None:
    """Idempotent setup for a server deployment: Temporal namespace, search attributes, register schema."""
    from ops.stack import prepare_temporal
    from store.db import migrate as run_migrations

    settings = Settings()
    logs.configure(settings.log_level)
    asyncio.run(prepare_temporal(settings))
    run_migrations(settings.register_url)


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
    from bench.run import report, run

    options = dict(idle=idle, intake=intake, lifecycle=lifecycle, storm=storm, open=open_cases, concurrency=concurrency)
    report([run(options, database_url) for _ in range(repeat)])


if __name__ == "__main__":
    app()
