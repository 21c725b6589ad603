"""Engines, sessions and migrations for the register."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

HERE = Path(__file__).parent


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # SQLite has one writer at a time. One connection per process makes its threads queue for
        # it in order, instead of each polling the file lock with SQLite's growing sleeps.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=120)

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):
            # WAL lets the API read while the worker writes; busy_timeout queues writers instead of failing.
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # A write waiting on a row lock gives up after a while and is retried, rather than hang a worker thread.
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args={"options": "-c lock_timeout=20s"})


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(url: str) -> None:
    """Bring the register's schema to the newest Alembic revision."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@contextmanager
def throwaway_register(server_url: str | None, folder: Path, purpose: str, migrated: bool = True) -> Iterator[str]:
    """A migrated (or, migrated=False, a bare), empty register that is gone afterwards: a new database
    on the PostgreSQL server of server_url, or a SQLite file in folder. For tests and benchmarks."""
    if not server_url:
        url = f"sqlite:///{folder / f'{purpose}.db'}"
        if migrated:
            migrate(url)
        yield url
        return
    server = make_url(server_url)
    name = f"onedoor_{purpose}_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        if migrated:
            migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
