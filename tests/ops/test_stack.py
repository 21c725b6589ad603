"""The README's first command: `onedoor up` brings up the whole embedded stack, stops cleanly on
Ctrl-C, and keeps its data across a restart. And docker-compose.yml names what the code reads."""

import asyncio
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from temporalio.client import Client

from onedoor.cli import app as cli_app
from onedoor.ops.schedules import schedule_id
from onedoor.settings import Settings
from tests.cases import wage_arrears
from tests.conftest import free_port

ROOT = Path(__file__).parents[2]


@pytest.fixture
def start_stack():
    """Starts `onedoor up`; a stack a failed assertion left running is stopped after the test."""
    started = []

    def start(env: dict) -> subprocess.Popen:
        onedoor = Path(sys.executable).parent / "onedoor"
        started.append(subprocess.Popen([str(onedoor), "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            interrupt(process)


def interrupt(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    output, _ = process.communicate(timeout=60)
    return output


def until_banner(process: subprocess.Popen) -> str:
    """The stack's output up to the end of its "onedoor is up" banner ("" if it stopped before)."""
    read = []
    for line in process.stdout:
        read.append(line)
        if "Ctrl-C stops everything." in line:
            break
    return "".join(read)


def answers_now(urls: list[str]) -> dict[str, int | str]:
    """Each address's status to one GET sent at once: no retry, no waiting for it to come up."""
    answers = {}
    for url in urls:
        try:
            answers[url] = httpx.get(url, timeout=10, follow_redirects=True).status_code  # the console leads to its sign-in
        except httpx.HTTPError as error:
            answers[url] = type(error).__name__
    return answers


def signed_in(api: str, data_dir: Path) -> httpx.Client:
    """The API as the admin whose key this start of the stack printed (and kept in data_dir)."""
    return httpx.Client(base_url=api, headers={"Authorization": f"Bearer {(data_dir / 'admin-key').read_text()}"}, timeout=10)


def case_when(api: httpx.Client, case_no: str, stage: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = api.get(f"/cases/{case_no}").json()
        if case.get("stage") == stage:
            return case
        time.sleep(0.2)
    raise AssertionError(f"{case_no} never reached {stage}")


def weekly_report_time_zones(address: str, scopes: list[str]) -> set[str]:
    """The time zones of the seeded county's and townships' weekly report schedules (研判会); fails if one is missing."""

    async def describe() -> set[str]:
        client = await Client.connect(address)
        return {(await client.get_schedule_handle(schedule_id(scope)).describe()).schedule.spec.time_zone_name for scope in scopes}

    return asyncio.run(describe())


def still_answering_after_idle(urls: list[str], idle: float) -> list[bool]:
    """Whether each server answers again on its connection after it lay idle this long."""
    connections = [http.client.HTTPConnection(httpx.URL(url).host, httpx.URL(url).port, timeout=5) for url in urls]
    for connection in connections:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
    time.sleep(idle)
    answered = []
    for connection in connections:
        try:
            connection.request("GET", "/healthz")
            answered.append(connection.getresponse().status in (200, 404))  # the simulator has no /healthz
        except (http.client.RemoteDisconnected, ConnectionError):
            answered.append(False)
        connection.close()
    return answered


@pytest.mark.slow
def test_one_command_brings_up_the_stack_which_survives_a_restart(tmp_path, start_stack):
    ports = {name: free_port() for name in ("TEMPORAL", "UI", "API", "SIMULATOR")}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded default: SQLite
    env.update(
        ONEDOOR_DATA_DIR=str(tmp_path / "var"),
        ONEDOOR_TEMPORAL_ADDRESS=f"127.0.0.1:{ports['TEMPORAL']}",
        ONEDOOR_TEMPORAL_UI_PORT=str(ports["UI"]),
        ONEDOOR_API_PORT=str(ports["API"]),
        ONEDOOR_SIMULATOR_PORT=str(ports["SIMULATOR"]),
        ONEDOOR_SIMULATOR_URL=f"http://127.0.0.1:{ports['SIMULATOR']}",
    )
    url, data_dir = f"http://127.0.0.1:{ports['API']}", tmp_path / "var"

    stack = start_stack(env)
    banner = until_banner(stack)
    # The moment the banner shows, the API and every address it prints answer (they were still
    # starting when it printed as soon as the processes were launched).
    urls = [f"{url}/healthz", *re.findall(r"https?://\S+", banner.partition("onedoor is up")[2])]
    assert len(urls) == 5, banner  # and the console, the Temporal UI, the API docs, the simulator
    assert answers_now(urls) == dict.fromkeys(urls, 200)
    api = signed_in(url, data_dir)
    first_key = api.headers["Authorization"].removeprefix("Bearer ")
    assert httpx.post(f"{url}/cases", json=wage_arrears(), timeout=10).status_code == 401  # no key, no entry
    created = api.post("/cases", json=wage_arrears())
    assert created.status_code == 201, created.text
    case_no = created.json()["case_no"]
    case_when(api, case_no, "dispatched")
    assert weekly_report_time_zones(f"127.0.0.1:{ports['TEMPORAL']}", ["139001", "139001101", "139001102"]) == {"Asia/Shanghai"}
    assert httpx.get(f"http://127.0.0.1:{ports['UI']}/", timeout=5).status_code == 200  # the Temporal Web UI, which the API serves
    assert httpx.get(f"{url}/namespaces/default/workflows", timeout=5).headers["location"].startswith("/ui/signin")  # to a signed-in supervisor
    # A client's pool reuses a connection for 5 s (httpx), a proxy's for 60 s (nginx): the API and the
    # simulator keep theirs open longer, else a request sent as the server closes it is reset.
    assert still_answering_after_idle([url, env["ONEDOOR_SIMULATOR_URL"]], idle=6) == [True, True]
    # While it runs, the databases (with their WAL and shared memory) and the keys: the owner's only, in a folder that is too.
    files = {path.name: oct(path.stat().st_mode & 0o777) for path in data_dir.iterdir()}
    assert {"register.db", "register.db-wal", "temporal.db", "codec-keys.json", "admin-key", "simulator-keys.json"} <= set(files)
    assert files == dict.fromkeys(files, oct(0o600)) and oct(data_dir.stat().st_mode & 0o777) == oct(0o700)
    output = banner + interrupt(stack)
    assert stack.returncode is not None
    assert f"http://127.0.0.1:{ports['API']}/docs" in output and f"{url}/ui/signin" in output
    assert f"admin key    {first_key}" in output
    assert (data_dir / "temporal.db").exists() and (data_dir / "register.db").exists()
    with pytest.raises(httpx.HTTPError):  # everything stopped with it
        httpx.get(f"{url}/healthz", timeout=1)

    stack = start_stack(env)
    assert "onedoor is up" in until_banner(stack)
    assert api.get(f"/cases/{case_no}").status_code == 401  # a new start, a new admin key
    api = signed_in(url, data_dir)
    # The case, its clocks and its register row are all still there, and it goes on.
    assert api.get(f"/cases/{case_no}").json()["stage"] == "dispatched"
    assert api.get(f"/cases/{case_no}/register").json()["lead_unit"] == "T101-LDS"
    answered = api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘干事"})
    assert answered.status_code == 200, answered.text


def test_compose_runs_each_service_from_our_image_with_settings_the_code_reads():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgresql", "temporal-schema", "temporal", "temporal-ui", "onedoor-setup", "api", "worker"} <= set(services)
    assert "healthcheck" in services["postgresql"]
    assert not any("auto-setup" in s.get("image", "") for s in services.values())
    assert "temporal-sql-tool" in services["temporal-schema"]["command"][0]

    commands = {command.name or command.callback.__name__ for command in cli_app.registered_commands}
    known = {f"ONEDOOR_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    for name in ("onedoor-setup", "api", "worker", "simulator"):
        service = services[name]
        assert service["build"] == "." and service["command"][0] in commands, name
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets variables the code never reads: {unknown}"
    assert (ROOT / "Dockerfile").exists()
