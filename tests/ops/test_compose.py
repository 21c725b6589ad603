"""docker-compose.yml, checked without a container engine: what the file means (Temporal's address,
pinned images at the tested version, what is published, healthchecks, start order, secrets), and
the very commands of the onedoor services, run as compose runs them — its environment with the
compose network's addresses pointed at a Temporal dev server and the test PostgreSQL — from an
empty server to the first case."""

import ipaddress
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import make_url

from onedoor.ops.temporal import dev_server_command, temporal_cli
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions, throwaway_register
from onedoor.store.tables import Unit
from tests.cases import wage_arrears
from tests.conftest import CODEC_KEYS, free_port

ROOT = Path(__file__).parents[2]
COMPOSE_FILE, ENV_EXAMPLE = ROOT / "docker-compose.yml", ROOT / ".env.example"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
INCLUDED = [ROOT / (entry if isinstance(entry, str) else entry["path"]) for entry in COMPOSE.get("include", [])]
# Every service compose knows, the included files' (monitoring) with the main file's: each rule holds for all.
SERVICES: dict[str, dict] = {name: service for path in INCLUDED for name, service in yaml.safe_load(path.read_text())["services"].items()} | COMPOSE["services"]
SECRET = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|KEYS?$")
# $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+other}, $NAME
VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?+])([^}]*))?\}|(\w+))")


def environment(service: dict) -> dict[str, str]:
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) for item in given)
    return {key: "" if value is None else str(value) for key, value in given.items()}


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """value as compose reads it: ${…} from the env file, $$ a dollar."""

    def replace(match: re.Match) -> str:
        dollar, name, operator, argument, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        given = variables.get(name)
        unset = given is None or (operator or "").startswith(":") and given == ""
        if operator in (":?", "?") and unset:
            raise AssertionError(f"compose would refuse to start: {name}: {argument}")
        if operator in (":-", "-"):
            return argument if unset else given
        if operator in (":+", "+"):
            return "" if unset else argument
        return given or ""

    return VARIABLE.sub(replace, value)


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip("'\"")
    return values


def is_job(name: str) -> bool:
    """A one-shot that others wait to complete says so: restart "no" or "on-failure[:n]"."""
    restart = str(SERVICES[name].get("restart", ""))
    return restart == "no" or restart.startswith("on-failure")


def has_healthcheck(service: dict) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and not check.get("disable")


def ports(service: dict) -> list[tuple[str, int]]:
    """(host address, container port) of each published port, short or long syntax."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((port.get("host_ip", "0.0.0.0"), int(port["target"])))
            continue
        parts = str(port).split(":")
        found.append((":".join(parts[:-2]) if len(parts) > 2 else "0.0.0.0", int(parts[-1].split("/")[0])))
    return found


def mounts(service: dict) -> dict[str, str]:
    """Files and folders of the repository the service mounts: container path → path in the repository."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else str(volume).split(":")[:2]
        if source.startswith((".", "/")):
            found[target] = source
    return found


def versions_under_test() -> dict[str, str]:
    """The Temporal the tests run on: `temporal --version` → {"Server": "1.32.0", "UI": "2.54.1"}."""
    version = subprocess.run([temporal_cli(), "--version"], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"(Server|UI) (\d+\.\d+\.\d+)", version))


def test_temporal_listens_on_the_container_and_tells_its_cluster_an_ip_address():
    env = environment(SERVICES["temporal"])
    bind = env.get("BIND_ON_IP")
    assert bind is None or ipaddress.ip_address(bind)
    broadcast = env.get("TEMPORAL_BROADCAST_ADDRESS")
    if broadcast is not None:  # unset, the image's entrypoint announces the container's IP
        try:
            ipaddress.ip_address(broadcast)
        except ValueError:
            pytest.fail(f"TEMPORAL_BROADCAST_ADDRESS={broadcast}: ringpop refuses a host name ('malformed broadcastAddress param'); leave it unset")


def test_images_are_exact_releases_and_temporal_is_the_version_the_tests_run():
    for name, service in SERVICES.items():
        if "build" in service:
            continue  # our own image, built from this repository
        repository, _, tag = service["image"].rpartition(":")
        exact = r"\d+\.\d+" if repository == "postgres" else r"v?\d+\.\d+\.\d+"  # PostgreSQL numbers its releases major.minor
        assert repository and re.fullmatch(exact, tag), f"{name}: {service['image']} floats (latest, 1.29, 16): pin the release"
    tested = versions_under_test()
    images = {service["image"] for service in SERVICES.values() if "image" in service}
    assert {image for image in images if image.startswith(("temporalio/server:", "temporalio/admin-tools:"))} == {
        f"temporalio/server:{tested['Server']}", f"temporalio/admin-tools:{tested['Server']}"
    }
    assert f"temporalio/ui:{tested['UI']}" in images


def test_only_the_api_is_published_and_it_serves_the_temporal_ui():
    published = {name: ports(service) for name, service in SERVICES.items() if ports(service)}
    open_to_all = {name for name, found in published.items() if any(host != "127.0.0.1" for host, _ in found)}
    assert open_to_all == {"api"}, published
    assert "temporal-ui" not in published, published  # reached only through the API's sign-in
    assert environment(SERVICES["api"])["ONEDOOR_TEMPORAL_UI_URL"] == "http://temporal-ui:8080"
    inner = {7233, 7243, 5432}  # Temporal's frontend (gRPC and HTTP) and PostgreSQL: not even on localhost
    assert not {(name, port) for name, found in published.items() for _, port in found if port in inner}


def test_every_long_running_service_has_a_healthcheck():
    assert not [name for name, service in SERVICES.items() if not is_job(name) and not has_healthcheck(service)]


def test_every_dependency_waits_for_a_condition_the_dependency_can_meet():
    for name, service in SERVICES.items():
        needs = service.get("depends_on", {})
        assert isinstance(needs, dict), f"{name}: a depends_on list only waits for the containers to be created"
        for needed, how in needs.items():
            condition = (how or {}).get("condition")
            if condition == "service_healthy":
                assert not is_job(needed) and has_healthcheck(SERVICES[needed]), f"{name} waits for {needed} to be healthy"
            else:
                assert condition == "service_completed_successfully" and is_job(needed), f"{name} → {needed}: {how}"
            assert set(SERVICES[needed].get("profiles", [])) <= set(service.get("profiles", [])), f"{name} needs {needed} of another profile"


def test_the_monitoring_profile_is_part_of_the_compose_file_and_scrapes_ports_that_listen_beyond_the_container():
    assert ROOT / "docker-compose.monitoring.yml" in INCLUDED
    monitoring = {name for name, service in SERVICES.items() if "monitoring" in service.get("profiles", [])}
    assert monitoring == {"prometheus", "grafana"}
    scraped = yaml.safe_load((ROOT / "deploy/monitoring/prometheus.yml").read_text())["scrape_configs"]
    targets = {(name, config["port"]) for job in scraped for config in job["dns_sd_configs"] for name in config["names"]}
    defaults = Settings.model_fields
    assert targets == {("api", defaults["api_metrics_port"].default), ("worker", defaults["worker_metrics_port"].default)}
    for name in ("api", "worker"):  # bound to loopback, a port in a container is unreachable from Prometheus's
        assert environment(SERVICES[name]).get("ONEDOOR_METRICS_HOST") == "0.0.0.0", name


def test_secrets_come_from_the_env_file_without_defaults():
    text = "".join(path.read_text() for path in [COMPOSE_FILE, *INCLUDED])
    defaulted = {name for name, operator in re.findall(r"\$\{(\w+)(:?[-?+])?", text) if operator and operator.lstrip(":") == "-" and SECRET.search(name)}
    assert not defaulted, f"default values for secrets: {defaulted}"
    for name, service in SERVICES.items():
        for key, value in environment(service).items():
            # The secret itself, or the password inside a URL.
            for secret in [value] if SECRET.search(key) else re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", secret), f"{name}: {key} must be a required variable of the env file (${{NAME:?…}}), not {secret!r}"
    example = env_file(ENV_EXAMPLE)
    assert set(re.findall(r"\$\{(\w+)", text)) <= set(example), "every variable compose reads is in .env.example"
    assert {name: value for name, value in example.items() if SECRET.search(name) and value} == {}, "no password in .env.example"
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def filled_in(example: dict[str, str]) -> dict[str, str]:
    """.env.example as an operator fills it in."""
    return {**example, "POSTGRES_PASSWORD": "0e9c5b7ad61f4d2b8c3a", "GRAFANA_ADMIN_PASSWORD": "7f1d2c9e4b", "ONEDOOR_CODEC_KEYS": json.dumps(CODEC_KEYS)}


def test_the_env_file_a_county_fills_in_is_read_by_onedoor_as_well(tmp_path):
    """The one .env of a checkout holds compose's variables too; onedoor must not refuse them."""
    values = filled_in(env_file(ENV_EXAMPLE))
    assert not [name for name, value in values.items() if not value], "filled_in leaves one out"
    (tmp_path / ".env").write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
    settings = Settings(_env_file=tmp_path / ".env")
    assert settings.county_code == values["ONEDOOR_COUNTY_CODE"] and set(settings.codec_keys) == set(CODEC_KEYS)


def test_temporal_gets_its_dynamic_config_and_a_stated_shard_count():
    temporal = SERVICES["temporal"]
    path = environment(temporal).get("DYNAMIC_CONFIG_FILE_PATH", "/etc/temporal/config/dynamicconfig/docker.yaml")
    mounted = mounts(temporal)
    assert path in mounted, "the server image ships no dynamic config file and does not start without one"
    config = yaml.safe_load((ROOT / mounted[path]).read_text())
    assert config["matching.useNewMatcher"] == [{"value": True}]  # task-queue priority: red cases first
    for name, service in SERVICES.items():
        assert all((ROOT / source).exists() for source in mounts(service).values()), name
    shards = environment(temporal)["NUM_HISTORY_SHARDS"]  # the image's default is 4; it can never change later
    assert f"{shards} history shards" in " ".join((ROOT / "docs" / "operations.md").read_text().split())


# The onedoor services, run as compose runs them.

def local_server() -> str:
    """The test run's PostgreSQL server (DATABASE_URL, or the one CI starts on 127.0.0.1)."""
    given = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    if not given.startswith("postgres"):
        pytest.skip("compose runs onedoor on PostgreSQL: set DATABASE_URL to a PostgreSQL server")
    try:
        psycopg.connect(make_url(given).set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server at DATABASE_URL or 127.0.0.1:5432")
    return Settings(database_url=given).register_url


class Compose:
    """Each onedoor service's command and environment as compose gives them, at addresses on this machine."""

    def __init__(self, installed, register_url: str, folder: Path):
        self.installed, self.folder = installed, folder
        self.ports = {name: free_port() for name in ("temporal", "ui", "api", "simulator")}
        self.variables = filled_in(env_file(ENV_EXAMPLE))
        self.register_url = make_url(register_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.processes: list[subprocess.Popen] = []

    def env(self, name: str) -> dict[str, str]:
        service = SERVICES[name]
        env = {key: interpolate(value, self.variables) for key, value in environment(service).items()}
        database = make_url(env.pop("DATABASE_URL"))
        assert (database.host, database.port, database.database) == ("postgresql", 5432, "onedoor")
        here = {"temporal:7233": f"127.0.0.1:{self.ports['temporal']}", "http://simulator:8100": f"http://127.0.0.1:{self.ports['simulator']}",
                "http://api:8000": f"http://127.0.0.1:{self.ports['api']}", "http://temporal-ui:8080": f"http://127.0.0.1:{self.ports['ui']}", "0.0.0.0": "127.0.0.1"}
        for key, value in env.items():
            for there, local in here.items():
                value = value.replace(there, local)
            env[key] = value
        unmapped = {key: value for key, value in env.items() if re.search(r"\b(postgresql|temporal|temporal-ui|simulator|api):\d+", value)}
        assert not unmapped, f"{name} reaches a compose service this test does not map: {unmapped}"
        # In a container each service has its own port 8000/8100 and its own data folder (the image's
        # ONEDOOR_DATA_DIR, or the volume it mounts there); here they share one machine.
        volume = next((str(v).split(":")[0] for v in service.get("volumes", []) if ":/var/lib/onedoor" in str(v)), name)
        env.update(DATABASE_URL=self.register_url, ONEDOOR_API_PORT=str(self.ports["api"]), ONEDOOR_SIMULATOR_PORT=str(self.ports["simulator"]),
                   ONEDOOR_DATA_DIR=str(self.folder / volume))
        return self.installed.env(**env)

    def command(self, name: str) -> list[str]:
        return [self.installed.onedoor, *SERVICES[name]["command"]]

    def run(self, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = self.installed.run(*(self.command(name) + list(args)), env=self.env(name), timeout=timeout)
        assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"
        return done

    def start(self, name: str) -> subprocess.Popen:
        return self.started(name, self.command(name), self.env(name))

    def started(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.processes.append(self.installed.start(*command, env=env, log=self.folder / f"{name}.log"))
        return self.processes[-1]

    def healthy(self, name: str) -> bool:
        """The service's compose healthcheck, run beside it."""
        test = SERVICES[name]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "onedoor"], test
        return self.installed.run(self.installed.onedoor, *test[2:], env=self.env(name)).returncode == 0

    def until_healthy(self, name: str, process: subprocess.Popen, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy(name):
            assert process.poll() is None and time.monotonic() < deadline, (self.folder / f"{name}.log").read_text()
            time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def compose(installed_wheel, tmp_path):
    with throwaway_register(local_server(), tmp_path, "compose", migrated=False) as url:
        running = Compose(installed_wheel, url, tmp_path)
        try:
            yield running
        finally:
            running.stop()


def wait_for(read, done, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(0.3)
    return value


@pytest.mark.slow
def test_the_services_commands_take_an_empty_server_to_its_first_case(compose):
    # Setup is started before Temporal is up, as compose may start it on a cluster still warming up.
    setup = compose.start("onedoor-setup")
    setup_log = compose.folder / "onedoor-setup.log"
    wait_for(setup_log.read_text, lambda log: "temporal not ready yet, retrying" in log or setup.poll() is not None, timeout=120)
    assert setup.poll() is None, setup_log.read_text()  # waiting for Temporal, not failed
    temporal = dev_server_command(compose.folder / "temporal.db", compose.ports["temporal"], compose.ports["ui"])
    compose.started("temporal", temporal, compose.installed.env())
    assert setup.wait(timeout=300) == 0, setup_log.read_text()

    # The directory went into the empty register; setup again (every `compose up`) keeps an edit.
    engine = make_engine(compose.register_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with make_sessions(engine)() as session:
        unit = session.get(Unit, "T101-LDS")
        assert unit is not None, "setup seeded no directory into the empty register"
        unit.name = "城关镇劳动保障所（已改名）"
        session.commit()
    compose.run("onedoor-setup")
    with make_sessions(engine)() as session:
        assert session.scalar(select(Unit.name).where(Unit.code == "T101-LDS")) == "城关镇劳动保障所（已改名）"
    engine.dispose()

    # The first admin key, as docs/operations.md issues it: `docker compose exec api onedoor issue-key admin`.
    issued = compose.installed.run(compose.installed.onedoor, "issue-key", "admin", env=compose.env("api"))
    assert issued.returncode == 0, issued.stderr
    admin_key = issued.stdout.strip().splitlines()[-1]
    compose.run("simulator-keys")

    assert not compose.healthy("worker")  # the probe is not vacuous: no worker polls yet
    api = compose.start("api")
    worker = compose.start("worker")
    compose.until_healthy("api", api)
    compose.until_healthy("worker", worker)
    simulator = compose.start("simulator")
    compose.until_healthy("simulator", simulator)

    units = httpx.Client(base_url=f"http://127.0.0.1:{compose.ports['simulator']}", timeout=10)
    for unit in ("T101-LDS", "T101-SFS"):  # their systems answer through the API, with the keys simulator-keys issued
        assert units.put(f"/units/{unit}/script", json={"answer": "api", "respond_after": 0.2, "feedback_after": 0.4}).status_code == 200
    api_client = httpx.Client(base_url=f"http://127.0.0.1:{compose.ports['api']}", headers={"Authorization": f"Bearer {admin_key}"}, timeout=30)
    created = api_client.post("/cases", json=wage_arrears())
    assert created.status_code == 201, created.text
    case_no = created.json()["case_no"]
    assert case_no.startswith(compose.variables["ONEDOOR_COUNTY_CODE"] + "-")
    case = wait_for(lambda: api_client.get(f"/cases/{case_no}").json(), lambda c: c.get("assignments") and all(a["feedback"] for a in c["assignments"]))
    assert {a["unit_code"] for a in case["assignments"]} == {"T101-LDS", "T101-SFS"}

    compose.stop()
    assert worker.returncode == 0, (compose.folder / "worker.log").read_text()  # SIGTERM: in-flight work finished, then exit
