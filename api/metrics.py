"""The API's metrics for Prometheus: its HTTP requests, and the register's caseload read at each scrape.

They are served on a port of their own (`settings.api_metrics_port`), never on the API's public
one: the counts carry no personal data but are internal, and the port is reached only from the
monitoring network (compose publishes the API's port alone), as the workers' SDK metrics are.
So Prometheus needs no key, and no key to Prometheus can be misused on the API."""

import time
from dataclasses import dataclass, field
from datetime import datetime
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onedoor.domain.labels import Labelled, Level, RiskGrade, Stage
from onedoor.domain.timezone import SHANGHAI
from onedoor.settings import Settings
from onedoor.store import metrics as counts

log = structlog.get_logger("api")

NONE = "none"  # the label of a grade, level or unit the register has not set
NO_UNIT = "无承办单位"  # a clock of no unit: the mediation's
# A decision's answer may wait up to decision_wait (10 s by default) for its case.
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class ApiMetrics:
    """One application's metrics, in a registry of its own (tests run several apps in one process)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self):
        # By the route's template, never the path itself: each case number would make a series of its own.
        self.requests = Counter("onedoor_http_requests", "HTTP requests answered, by method, route template and status", ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("onedoor_http_request_duration_seconds", "time to answer an HTTP request, by method and route template", ["method", "route"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        ProcessCollector(registry=self.registry)  # the API process's CPU, memory, open files


class HttpMetrics:
    """ASGI middleware: counts and times every HTTP request by its route template and status."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception escaping the app is answered 500 by Starlette's outermost handler

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # the router sets the route it matched
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.duration.labels(scope["method"], route).observe(time.perf_counter() - started)


class RegisterCollector:
    """The register's figures, counted when Prometheus scrapes: open cases, overdue now, breaches
    today (Beijing day) and ever. If the register does not answer, onedoor_register_up is 0 and the
    figures are left out (a gap, not a false zero); the HTTP metrics are served all the same."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def collect(self):
        up = GaugeMetricFamily("onedoor_register_up", "1 when the register answered this scrape's counts, 0 when it did not")
        try:
            with self.sessions() as session:
                families = list(self.families(session))
        except SQLAlchemyError as error:
            log.warning("metrics: register unavailable", error=str(error)[:200])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def families(self, session: Session):
        # Each code with its Chinese label beside it (one to one: no more series), for dashboards' legends.
        open_cases = GaugeMetricFamily("onedoor_open_cases", "open cases (not closed nor settled) by stage, grade and the level handling them",
                                       labels=["stage", "stage_name", "grade", "grade_name", "level", "level_name"])
        for stage, grade, level, number in counts.open_cases(session):
            open_cases.add_metric([*named(Stage, stage), *named(RiskGrade, grade), *named(Level, level)], number)
        overdue = GaugeMetricFamily("onedoor_overdue_cases", "open cases overdue now (a clock breached), by grade and level",
                                    labels=["grade", "grade_name", "level", "level_name"])
        for grade, level, number in counts.overdue_cases(session):
            overdue.add_metric([*named(RiskGrade, grade), *named(Level, level)], number)
        today = GaugeMetricFamily("onedoor_breaches_today", "clocks breached today (Beijing calendar day), by unit", labels=["unit", "unit_name"])
        for unit, name, number in counts.breaches(session, datetime.now(SHANGHAI).date()):
            today.add_metric([unit or NONE, name or NO_UNIT], number)
        ever = CounterMetricFamily("onedoor_breaches", "clocks breached, each with its supervision order (督办), by unit", labels=["unit", "unit_name"])
        for unit, name, number in counts.breaches(session):
            ever.add_metric([unit or NONE, name or NO_UNIT], number)
        return open_cases, overdue, today, ever


def named(labels: type[Labelled], code: str | None) -> tuple[str, str]:
    """A register code and its Chinese label: ("dispatched", "已派单待响应"); ("none", "未定") when unset."""
    if code is None:
        return NONE, "未定"
    try:
        return code, labels(code).label
    except ValueError:  # a code this version does not know (a newer worker wrote it): shown as it is
        return code, code


def serve(metrics: ApiMetrics, settings: Settings) -> WSGIServer | None:
    """Serve the metrics at http://metrics_host:api_metrics_port/metrics (a thread of this process);
    None when the port is 0, or taken (a warning: the API itself serves on)."""
    if not settings.api_metrics_port:
        return None
    try:
        server, _thread = start_http_server(settings.api_metrics_port, str(settings.metrics_host), metrics.registry)
    except OSError as error:
        log.warning("api metrics off: port unavailable", port=settings.api_metrics_port, error=str(error))
        return None
    log.info("api metrics", port=settings.api_metrics_port, host=str(settings.metrics_host))
    return server
