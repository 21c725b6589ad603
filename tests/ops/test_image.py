"""The image is built from the package itself: the wheel the Dockerfile builds holds every module and
data file of the project, and installed on its own (a fresh virtualenv, run from outside the
repository) every module imports and every service starts. No container engine runs here, so the
Dockerfile's build stage is replayed on the build context Docker would send (tests/image.py)."""

import asyncio
import json
import os
import time
import uuid
import zipfile

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from onedoor.settings import Settings
from onedoor.store.db import throwaway_register
from tests.conftest import CODEC_KEYS, free_port
from tests.image import build_context
from workflows.search_attributes import ALL

pytestmark = pytest.mark.slow  # builds a wheel and a virtualenv, starts processes (runs in CI)

# Every module of the wheel, imported from the install alone; prints what failed and what came from elsewhere.
IMPORT_EVERY_MODULE = """
import importlib, json, sys, traceback
from pathlib import Path
venv, failed, elsewhere = Path(sys.prefix).resolve(), {}, {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except BaseException:
        failed[name] = traceback.format_exc().strip().splitlines()[-1]
        continue
    if not Path(module.__file__).resolve().is_relative_to(venv):
        elsewhere[name] = module.__file__
print(json.dumps({"failed": failed, "elsewhere": elsewhere}))
"""


def wheel_files(installed_wheel) -> set[str]:
    with zipfile.ZipFile(installed_wheel.wheel) as wheel:
        return {name for name in wheel.namelist() if ".dist-info/" not in name}


def modules(files: set[str]) -> list[str]:
    """The importable modules among the wheel's files: .py files whose every folder is a package
    (onedoor/store/migrations/ holds Alembic's scripts, which only Alembic runs)."""
    packages = {name.rsplit("/", 1)[0] for name in files if name.endswith("/__init__.py")}
    found = []
    for name in files:
        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        parts = folder.split("/") if folder else []
        if name.endswith(".py") and all("/".join(parts[: n + 1]) in packages for n in range(len(parts))):
            found.append(name.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
    return sorted(found)


def test_the_wheel_holds_every_module_and_data_file_of_the_project(installed_wheel):
    """A module or a template added to the tree is in the image without anyone listing it."""
    context = build_context()
    packages = {path.split("/")[0] for path in context if path.count("/") == 1 and path.endswith("/__init__.py")}
    expected = {path for path in context if ("/" not in path and path.endswith(".py")) or (path.split("/")[0] in packages and not path.endswith(".md"))}
    assert {"worker.py", "onedoor/signing.py", "onedoor/notifications/__init__.py", "onedoor/store/migrations/env.py", "onedoor/store/seed/directory.json", "onedoor/papers/templates/paper.css"} <= expected
    missing = expected - wheel_files(installed_wheel)
    assert not missing, f"in the tree but not in the wheel (pyproject.toml: py-modules, packages, package-data): {sorted(missing)}"


def test_every_module_imports_from_the_installed_wheel_alone(installed_wheel):
    names = modules(wheel_files(installed_wheel))
    answer = installed_wheel.run(installed_wheel.python, "-c", IMPORT_EVERY_MODULE, *names, timeout=300)
    assert answer.returncode == 0, answer.stderr
    outcome = json.loads(answer.stdout.strip().splitlines()[-1])
    assert outcome == {"failed": {}, "elsewhere": {}}
    assert {"onedoor.cli", "onedoor.signing", "onedoor.notifications", "api.app", "worker", "onedoor.simulator.app", "onedoor.ops.stack"} <= set(names)


def test_every_service_command_answers_help(installed_wheel):
    for command in ([], ["setup"], ["api"], ["worker"], ["simulator"]):
        answer = installed_wheel.run(installed_wheel.onedoor, *command, "--help")
        assert answer.returncode == 0 and "Usage" in answer.stdout, (command, answer.stdout, answer.stderr)


@pytest.fixture
def empty_register(tmp_path):
    """A database with nothing in it, on the test run's PostgreSQL server (or a SQLite file)."""
    given = os.environ.get("DATABASE_URL")
    with throwaway_register(given and Settings(database_url=given).register_url, tmp_path, "image", migrated=False) as url:
        yield url


def test_setup_and_the_api_start_from_the_install_against_the_test_stack(installed_wheel, temporal, empty_register, tmp_path):
    """`onedoor setup` prepares a namespace it registers itself, as on a new cluster, and an empty register;
    then `onedoor api` serves."""
    namespace, api_port = f"image-{uuid.uuid4().hex[:8]}", free_port()
    env = installed_wheel.env(
        ONEDOOR_TEMPORAL_ADDRESS=temporal.client.service_client.config.target_host,
        ONEDOOR_TEMPORAL_NAMESPACE=namespace,
        ONEDOOR_TASK_QUEUE=f"image-{uuid.uuid4().hex[:6]}",
        DATABASE_URL=empty_register,
        ONEDOOR_CODEC_KEYS=json.dumps(CODEC_KEYS),
        ONEDOOR_DATA_DIR=str(tmp_path / "var"),
        ONEDOOR_API_PORT=str(api_port),
    )
    setup = installed_wheel.run(installed_wheel.onedoor, "setup", env=env, timeout=300)
    assert setup.returncode == 0, setup.stdout + setup.stderr

    assert {key.name for key in ALL} <= asyncio.run(search_attributes(env["ONEDOOR_TEMPORAL_ADDRESS"], namespace))
    api = installed_wheel.start(installed_wheel.onedoor, "api", env=env, log=tmp_path / "api.log")
    try:
        deadline = time.monotonic() + 60
        while not answers(f"http://127.0.0.1:{api_port}/healthz") and api.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert answers(f"http://127.0.0.1:{api_port}/healthz"), (tmp_path / "api.log").read_text()
    finally:
        api.terminate()
        api.wait(timeout=30)
    # uvicorn shuts down on SIGTERM, then re-raises it: the exit status is the signal's.
    assert "Application shutdown complete." in (tmp_path / "api.log").read_text()


async def search_attributes(address: str, namespace: str) -> set[str]:
    client = await Client.connect(address, namespace=namespace)
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return set(listed.custom_attributes)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
