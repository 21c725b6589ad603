"""`onedoor up`: the whole embedded stack in the foreground, stopped together on Ctrl-C."""

import asyncio
import json
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx
import structlog
from sqlalchemy import select
from temporalio.client import Client

from onedoor import codec
from onedoor.domain.labels import Role
from onedoor.ops.schedules import prepare_schedules
from onedoor.ops.temporal import dev_server_command, ensure_namespace, ensure_search_attributes, until_ready
from onedoor.settings import Settings
from onedoor.store import users
from onedoor.store.db import make_engine, make_sessions, migrate, owner_only
from onedoor.store.directory import SEED, seed_directory
from onedoor.store.tables import Jurisdiction, Unit

log = structlog.get_logger("stack")


async def wait_for_temporal(settings: Settings, timeout: float = 60) -> Client:
    return await until_ready(lambda: Client.connect(settings.temporal_address, namespace=settings.temporal_namespace), timeout, "connect")


async def prepare_temporal(settings: Settings, wait: float = 60) -> None:
    """The namespace and onedoor's search attributes, once the server accepts them (within wait seconds)."""

    async def prepare() -> tuple[bool, list[str]]:
        client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        return await ensure_namespace(client, settings.temporal_namespace, settings.history_retention), await ensure_search_attributes(client, settings.temporal_namespace)

    created, added = await until_ready(prepare, wait, "namespace and search attributes")
    log.info("temporal ready", namespace_created=created, search_attributes_added=added)


def prepare_register(settings: Settings, directory: Path = SEED) -> None:
    """Migrate the register (with the payload keys, which seal its personal fields); seed the directory
    only into an empty one, never over edits."""
    migrate(settings.register_url, partial(codec.field_sealer, settings))
    engine = make_engine(settings.register_url)
    with make_sessions(engine)() as session:
        if session.query(Jurisdiction).first() is None:
            seed_directory(session, settings.simulator_url, directory)
            log.info("directory seeded", source=str(directory))
    engine.dispose()


def keep_secret(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(content)


def issue_admin_key(settings: Settings) -> str:
    """A fresh key for the embedded stack's admin, also kept in data_dir/admin-key for scripts."""
    engine = make_engine(settings.register_url)
    with make_sessions(engine)() as session:
        admin = users.ensure_user(session, "admin", name="管理员", role=Role.ADMIN.value, active=True)
        admin_key = users.issue_key(session, admin)
    engine.dispose()
    keep_secret(settings.admin_key_file, admin_key)
    return admin_key


def issue_simulator_keys(settings: Settings) -> list[str]:
    """A fresh key for each unit whose system the simulator plays (its endpoint is the simulator's),
    written with the unit's signing secret to data_dir/simulator-keys.json for the simulator.
    Returns the unit codes."""
    engine = make_engine(settings.register_url)
    with make_sessions(engine)() as session:
        simulated = dict(session.execute(select(Unit.code, Unit.signing_secret).where(Unit.endpoint_url.startswith(settings.simulator_url))).all())
        api_keys = users.issue_system_keys(session, list(simulated))
    engine.dispose()
    # The simulator plays these units' systems: it answers with their keys and checks (and makes) their signatures.
    keep_secret(settings.simulator_key_file, json.dumps({code: {"api_key": api_keys[code], "signing_secret": secret} for code, secret in simulated.items()}))
    return sorted(simulated)


def service(name: str, env: dict | None = None, output=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "onedoor.cli", name], start_new_session=True, env=env, stdout=output, stderr=subprocess.STDOUT)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):  # API first, Temporal last
        if process.poll() is None:
            process.terminate()  # SIGTERM: every service shuts down gracefully on it
    for process in reversed(processes):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def local_api(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def addresses(settings: Settings) -> dict[str, str]:
    """The pages `onedoor up` shows, by label: each answers once its service is up."""
    api = local_api(settings)
    return {"console": f"{api}/console", "Temporal UI": f"{api}/ui/signin", "API docs": f"{api}/docs", "simulator": f"{settings.simulator_url}/docs"}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, follow_redirects=True).status_code == 200  # the console leads to its sign-in
    except httpx.HTTPError:
        return False


def wait_healthy(settings: Settings, processes: list[subprocess.Popen], timeout: float = 90) -> None:
    """Until the API answers /healthz and every page the banner shows answers (a process started is
    not yet serving: the API takes seconds to import and bind); fails at once if a service has died."""
    waiting = [f"{local_api(settings)}/healthz", f"{settings.ui_upstream}/", *addresses(settings).values()]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError(f"a service of the stack stopped: {[p.args for p in processes if p.poll() is not None]}")
        waiting = [url for url in waiting if not answers(url)]
        if not waiting:
            return
        time.sleep(0.3)
    raise RuntimeError(f"the stack did not come up: no answer from {waiting}")


def interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def start(settings: Settings, env: dict | None = None, log_dir: Path | None = None) -> list[subprocess.Popen]:
    """Start Temporal, prepare it and the register, then the simulator, worker and API.
    Returns the processes in start order; `stop` ends them. Output goes to the terminal, or to
    one file per service in log_dir."""
    # Its files hold the parties' data and the stack's keys: the folder and each file are the owner's only.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)
    if not settings.codec_keys:
        codec.ensure_key_file(settings.codec_key_file)
    port = int(settings.temporal_address.rsplit(":", 1)[1])

    def output(name: str):
        return (log_dir / f"{name}.log").open("a") if log_dir else None

    processes = [
        subprocess.Popen(
            dev_server_command(settings.data_dir / "temporal.db", port, settings.temporal_ui_port),
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            stdout=output("temporal"),
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        asyncio.run(prepare_temporal(settings))
        owner_only(settings.data_dir / "temporal.db")  # the dev server makes it 0644; its WAL then takes this mode
        prepare_register(settings)
        issue_admin_key(settings)  # fresh keys at every start of the embedded stack
        issue_simulator_keys(settings)
        asyncio.run(prepare_schedules(settings))  # after the register: one schedule per township and county in it
        processes += [service(name, env=env, output=output(name)) for name in ("simulator", "worker", "api")]
    except BaseException:
        stop(processes)
        raise
    return processes


def up(settings: Settings) -> None:
    # Ctrl-C and SIGTERM both stop the stack, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    processes: list[subprocess.Popen] = []
    try:
        processes = start(settings)
        wait_healthy(settings, processes)  # the banner is a promise: whatever it shows answers already
        print(
            "\n  onedoor is up — 只进一扇门，最多跑一地\n"
            + "".join(f"    {label:<12} {url}\n" for label, url in addresses(settings).items())
            + f"    data         {settings.data_dir.resolve()}  (register: {settings.register_url.split('@')[-1]})\n"
            f"    admin key    {settings.admin_key_file.read_text()}  (Authorization: Bearer …; new at every start)\n"
            "    sign in      with a user's key (登录): the console for every role; supervisors also read their jurisdiction's cases in the Temporal UI\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        dead = [p.args for p in processes if p.poll() is not None]
        log.error("a service stopped, stopping the stack", stopped=dead)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        stop(processes)
        sys.stdout.flush()
