"""Metrics and probes: the worker's Temporal SDK exporter and the API's own metrics port, scraped
after real cases ran; /readyz against the test stack and against a register that is not there;
and the Grafana dashboard asking only for what those scrapes expose."""

import asyncio
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from onedoor.settings import Settings
from onedoor.store.tables import IntakeRequest
from tests.cases import decide, register_case, wage_arrears, wait_for
from tests.conftest import CODEC_KEYS, free_port, serve

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "deploy/monitoring/grafana/dashboards/onedoor.json"
PROMETHEUS = ROOT / "deploy/monitoring/prometheus.yml"
CO_UNIT = "T101-SFS"  # the justice office assists the labour station on a wage case in 城关镇

# What the SDK's exporter serves once a worker has run cases: the figures bench/NOTES.md tunes by.
SDK_METRICS = {
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "temporal_activity_schedule_to_start_latency_bucket",
    "temporal_workflow_task_execution_latency_bucket",
    "temporal_sticky_cache_size",
    "temporal_worker_task_slots_available",
    "temporal_worker_task_slots_used",
    "temporal_num_pollers",
}
API_METRICS = {
    "onedoor_http_requests_total",
    "onedoor_http_request_duration_seconds_bucket",
    "onedoor_register_up",
    "onedoor_open_cases",
    "onedoor_overdue_cases",
    "onedoor_breaches_today",
    "onedoor_breaches_total",
    "process_resident_memory_bytes",
}


@dataclass
class Scrape:
    text: str

    @property
    def samples(self) -> list:
        return [sample for family in text_string_to_metric_families(self.text) for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of this name whose labels include these (0 when none)."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    @property
    def names(self) -> set[str]:
        """The series names as Prometheus stores them: read from the text itself (the client's parser
        would add _total to the SDK's counters, which the SDK does not). A family with no sample
        yet (no breach today) by its TYPE line."""
        names = set(re.findall(r"^([a-zA-Z_:][\w:]*)", self.text, re.MULTILINE))
        for name, kind in re.findall(r"^# TYPE (\S+) (\w+)", self.text, re.MULTILINE):
            names |= {name + suffix for suffix in ("_bucket", "_sum", "_count")} if kind == "histogram" else {name}
        return names


async def scrape(port: int) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200, response.text
    return Scrape(response.text)


async def scrape_until(port: int, names: set[str], timeout: float = 15) -> Scrape:
    """Scrape until every name is served: the SDK records a figure as the worker's tasks complete,
    a moment after the case shows their effect."""
    deadline = time.monotonic() + timeout
    while not names <= (scraped := await scrape(port)).names and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return scraped


async def test_the_worker_exports_the_sdks_metrics(api, settings):
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    worker = await scrape_until(settings.worker_metrics_port, SDK_METRICS)
    assert SDK_METRICS <= worker.names, SDK_METRICS - worker.names
    assert worker.value("temporal_sticky_cache_size", task_queue=settings.task_queue) >= 1  # the case waits in the cache
    # Bounds fine enough for a p99 between an idle worker's milliseconds and a storm's tens of seconds.
    bounds = {s.labels["le"] for s in worker.samples if s.name == "temporal_workflow_task_schedule_to_start_latency_bucket"}
    assert {"25", "2500", "30000"} <= bounds, bounds


async def test_the_api_counts_requests_by_route_and_the_registers_cases_overdue_and_breaches(api, settings, clocks):
    breached_before = (await scrape(settings.api_metrics_port)).value("onedoor_breaches_total", unit=CO_UNIT)
    clocks(response=3)
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    # The lead unit answers; the assisting unit's breach keeps the case where it is, overdue.
    await decide(api, case_no, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    record = await wait_for(api, case_no, lambda r: r["overdue"], timeout=15, view="/register")

    scraped = await scrape(settings.api_metrics_port)
    assert API_METRICS <= scraped.names, API_METRICS - scraped.names
    assert scraped.value("onedoor_register_up") == 1
    where = dict(grade=record["grade"], level=record["level"])
    assert scraped.value("onedoor_open_cases", stage=record["stage"], **where) >= 1
    assert scraped.value("onedoor_overdue_cases", **where) >= 1
    assert scraped.value("onedoor_breaches_today", unit=CO_UNIT) >= 1
    assert scraped.value("onedoor_breaches_total", unit=CO_UNIT) >= breached_before + 1
    names = {s.labels["stage_name"] for s in scraped.samples if s.name == "onedoor_open_cases"}
    assert names and all(re.search(r"[\u4e00-\u9fff]", name) for name in names)  # the dashboard's legends are Chinese
    # Requests by the route's template, never the path: a case number would be a series of its own.
    assert scraped.value("onedoor_http_requests_total", method="POST", route="/cases", status="201") >= 1
    assert scraped.value("onedoor_http_requests_total", method="GET", route="/cases/{case_no}/register", status="200") >= 1
    assert not [s for s in scraped.samples if case_no in s.labels.get("route", "")]
    # Not on the API's public port.
    assert (await api.get("/metrics")).status_code == 404


async def test_ready_when_temporal_and_the_register_answer(api):
    # (its `detail` warns while next year's holidays are unknown: tests/api/test_calendars.py)
    assert (await api.get("/healthz", headers={"Authorization": ""})).json()["status"] == "ok"
    ready = await api.get("/readyz", headers={"Authorization": ""})  # probes need no key
    assert ready.status_code == 200 and ready.json()["checks"] == {"temporal": "ok", "database": "ok"}, ready.text


async def test_not_ready_names_the_register_it_cannot_reach(stack, settings):
    """An API whose register is a PostgreSQL port nothing listens on: alive, not ready, and says why."""
    port = free_port()
    nowhere = Settings(
        temporal_address=settings.temporal_address, database_url=f"postgresql://onedoor@127.0.0.1:{free_port()}/nowhere",
        codec_keys=CODEC_KEYS, codec_key_id="test-1", api_port=port, api_metrics_port=0,
    )
    server, task = await serve(create_app(nowhere), port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert (await client.get("/healthz")).status_code == 200
            answer = await client.get("/readyz")
    finally:
        server.should_exit = True
        await task
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["checks"] == {"temporal": "ok", "database": "unreachable"}
    assert "数据库" in body["detail"] and "database" in body["detail"]


async def test_while_temporal_does_not_answer_the_api_says_retry_at_once(stack, settings, keys, sessions):
    """An API whose Temporal is a port nothing listens on starts all the same (it connects lazily);
    its watch of Temporal's health sees it down, so a registration is answered 503 with Retry-After
    at once — not after the client's retries (6–10 s an answer, an operator's window frozen) — and
    nothing is registered; /readyz names Temporal."""
    port = free_port()
    away = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}", "api_port": port, "api_metrics_port": 0})
    app = create_app(away)
    form = wage_arrears()
    server, task = await serve(app, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=30) as client:
            started = time.monotonic()
            answer = await client.post("/cases", json=form)
            took = time.monotonic() - started
            ready = await client.get("/readyz")
        watched = app.state.temporal_watch.up
    finally:
        server.should_exit = True
        await task
    assert watched is False
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1" and "temporal" in answer.json()["detail"], answer.text
    assert took < 5, took  # a loose guard only: the mechanism is the watch above
    with sessions() as session:
        assert session.get(IntakeRequest, form["client_request_id"]) is None
    assert ready.status_code == 503 and ready.json()["checks"]["temporal"] == "unreachable", ready.text


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset"}
PROMETHEUS_MADE = {"up"}  # Prometheus records it for every target it scrapes


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: its identifiers less strings, label matchers,
    ranges, label lists, function names and keywords."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    return {name for name in re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()", expr) if name not in PROMQL_WORDS}


def labels_of(scraped: Scrape) -> set[tuple[str, str]]:
    """(series name, label) of every sample, by the names Prometheus stores."""
    return {(name, label) for name, labels in re.findall(r"^([a-zA-Z_:][\w:]*)\{(.*)\}", scraped.text, re.MULTILINE)
            for label in re.findall(r'(\w+)="(?:[^"\\]|\\.)*"', labels)}


def grouping_labels(expr: str) -> set[str]:
    return {label.strip() for group in re.findall(r"\bby\s*\(([^)]*)\)", expr) for label in group.split(",")} - {"le", "instance", "job"}


def panels(items: list) -> list:
    return [panel for item in items for panel in [item, *panels(item.get("panels", []))]]


async def test_the_dashboard_asks_only_for_what_the_api_and_the_workers_expose(api, settings):
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    scrapes = [await scrape(settings.api_metrics_port), await scrape_until(settings.worker_metrics_port, SDK_METRICS)]
    names = set().union(*(scraped.names for scraped in scrapes)) | PROMETHEUS_MADE
    labels = {(name, label) for scraped in scrapes for name, label in labels_of(scraped)}

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [(panel["title"], target["expr"]) for panel in panels(dashboard["panels"]) for target in panel.get("targets", [])]
    assert len(queries) >= 15
    for title, expr in queries:
        used = metric_names(expr)
        assert used and used <= names, f"{title}: {expr} reads {used - names}, which no scrape exposes"
        if any(name for name, _ in labels if name in used):  # a family with no sample yet shows no labels
            for label in grouping_labels(expr):
                assert any((name, label) in labels for name in used), f"{title}: no metric of {expr} has the label {label}"
    titles = [panel["title"] for panel in panels(dashboard["panels"]) if panel["type"] != "row"]
    assert all(re.search(r"[\u4e00-\u9fff]", title) for title in titles)  # Chinese titles, English in the descriptions

    # Prometheus scrapes the ports the API and the workers serve by default.
    jobs = {job["job_name"]: job["dns_sd_configs"][0]["port"] for job in yaml.safe_load(PROMETHEUS.read_text())["scrape_configs"]}
    defaults = Settings.model_fields
    assert jobs == {"onedoor-api": defaults["api_metrics_port"].default, "onedoor-worker": defaults["worker_metrics_port"].default}
