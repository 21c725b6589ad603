"""The README's first command: `onedoor up` brings up the whole embedded stack, stops cleanly on
Ctrl-C, and keeps its data across a restart. And docker-compose.yml names what the code reads."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from cli import app as cli_app
from ops.stack import wait_healthy
from settings import Settings
from tests.cases import wage_arrears
from tests.conftest import free_port

ROOT = Path(__file__).parent.parent


def start_stack(env: dict) -> subprocess.Popen:
    onedoor = Path(sys.executable).parent / "onedoor"
    return subprocess.Popen([str(onedoor), "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def interrupt(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    output, _ = process.communicate(timeout=60)
    return output


def case_when(api: str, case_no: str, stage: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = httpx.get(f"{api}/cases/{case_no}", timeout=5).json()
        if case.get("stage") == stage:
            return case
        time.sleep(0.2)
    raise AssertionError(f"{case_no} never reached {stage}")


@pytest.mark.slow
def test_one_command_brings_up_the_stack_which_survives_a_restart(tmp_path):
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
    api = f"http://127.0.0.1:{ports['API']}"

    stack = start_stack(env)
    wait_healthy(api, [stack])
    created = httpx.post(f"{api}/cases", json=wage_arrears(), timeout=10)
    assert created.status_code == 201, created.text
    case_no = created.json()["case_no"]
    case_when(api, case_no, "dispatched")
    assert httpx.get(f"http://127.0.0.1:{ports['UI']}/", timeout=5).status_code == 200  # the Temporal Web UI
    output = interrupt(stack)
    assert stack.returncode is not None
    assert f"http://127.0.0.1:{ports['API']}/docs" in output and f"http://localhost:{ports['UI']}" in output
    assert (tmp_path / "var" / "temporal.db").exists() and (tmp_path / "var" / "register.db").exists()
    with pytest.raises(httpx.HTTPError):  # everything stopped with it
        httpx.get(f"{api}/healthz", timeout=1)

    stack = start_stack(env)
    try:
        wait_healthy(api, [stack])
        # The case, its clocks and its register row are all still there, and it goes on.
        assert httpx.get(f"{api}/cases/{case_no}", timeout=10).json()["stage"] == "dispatched"
        assert httpx.get(f"{api}/cases/{case_no}/register", timeout=10).json()["lead_unit"] == "T101-LDS"
        answered = httpx.post(f"{api}/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘干事"}, timeout=10)
        assert answered.status_code == 200, answered.text
    finally:
        interrupt(stack)


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
