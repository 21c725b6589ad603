"""Engines, sessions and migrations for the register."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from onedoor.codec import FieldSealer
from onedoor.store.sealed import seal_with

HERE = Path(__file__).parent


def owner_only(database: Path) -> None:
    """A SQLite database (the register: the parties' data, the users' key hashes) readable by its
    owner only: the file is made 0600 before SQLite opens it, and SQLite gives its WAL and
    shared-memory files the database file's mode; files an older version left 0644 are narrowed."""
    database.parent.mkdir(parents=True, exist_ok=True)
    database.touch(mode=0o600)
    for file in (database, database.with_name(f"{database.name}-wal"), database.with_name(f"{database.name}-shm")):
        if file.exists():
            file.chmod(0o600)


def sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def make_engine(url: str, sealer: FieldSealer | None = None) -> Engine:
    """An engine on the register at url; `sealer`, the payload keys its personal fields are sealed and
    opened with (store/sealed.py): an engine without them reads and writes every other column."""
    engine = sqlite_engine(url) if url.startswith("sqlite") else postgresql_engine(url)
    if sealer is not None:
        seal_with(engine, sealer)
    return engine


def sqlite_engine(url: str) -> Engine:
    if database := sqlite_file(url):
        owner_only(database)
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


def postgresql_engine(url: str) -> Engine:
    # A write waiting on a row lock gives up after a while and is retried, rather than hang a worker thread.
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args={"options": "-c lock_timeout=20s"})


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str, sealer: Callable[[], FieldSealer] | None = None) -> Config:
    """Alembic's configuration for the register at url. `sealer` gives the payload keys to a revision
    that seals rows already written (0009); it is asked only if there are such rows."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if sealer is not None:
        config.attributes["field_sealer"] = sealer
    return config


def migrate(url: str, sealer: Callable[[], FieldSealer] | None = None) -> None:
    """Bring the register's schema to the newest Alembic revision."""
    if database := sqlite_file(url):
        owner_only(database)
    command.upgrade(alembic_config(url, sealer), "head")


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
