"""structlog JSON logs for every process; stdlib records (Temporal's workflow and activity loggers) too."""

import logging
import sys

import structlog


def temporal_context(_logger, _name, event: dict) -> dict:
    """Flatten what Temporal's loggers attach, so every line carries case_no, workflow_id and run_id."""
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if info:
            event.setdefault("workflow_id", info.get("workflow_id"))
            event.setdefault("run_id", info.get("run_id") or info.get("workflow_run_id"))
            if "activity_type" in info:
                event.setdefault("activity", info["activity_type"])
    if event.get("workflow_id") and "case_no" not in event:
        event["case_no"] = event["workflow_id"]  # the workflow id is the case number
    return event


def configure(level: str = "INFO") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        temporal_context,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
