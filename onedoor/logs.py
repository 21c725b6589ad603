"""structlog JSON logs for every process; stdlib records (Temporal's workflow and activity loggers) too."""

import logging
import re
import sys

import structlog

from onedoor.domain.case_number import is_case_number

# 居民身份证号 (GB 11643: 17 digits and a check digit) and phone numbers (mobile, or a landline with
# its area code) are shown only by their last four characters, the way a counter clerk reads them out.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{14}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{5}(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{3,4}(\d{4})(?!\d)")
# A URL's query values (the access log's `GET /notices?recipient=<a party's name>`): only the names stay.
QUERY_VALUE = re.compile(r"(?<=[?&])([^=&?#\s\"']+)=[^&#\s\"']*")


def mask_name(name: str) -> str:
    """A person's name shown by its first character only, as a public list writes 王**."""
    return name[:1] + "**"


def mask(value):
    """The value with every ID number, phone number and URL query value in it masked, however deeply nested."""
    if isinstance(value, str):
        value = QUERY_VALUE.sub(r"\1=*", value)
        value = ID_NUMBER.sub(lambda m: "*" * 14 + m[1], value)
        value = MOBILE.sub(lambda m: "1**-****-" + m[1], value)
        return LANDLINE.sub(lambda m: "0***-****" + m[1], value)
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value


def mask_personal_data(_logger, _name, event: dict) -> dict:
    """Logs never carry a party's ID or phone number, or what a URL's query held, whoever wrote the
    line (ours or a library's: uvicorn's access log, httpx's requests)."""
    return mask(event)


def temporal_context(_logger, _name, event: dict) -> dict:
    """Flatten what Temporal's loggers attach, so every line carries case_no, workflow_id and run_id."""
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if info:
            event.setdefault("workflow_id", info.get("workflow_id"))
            event.setdefault("run_id", info.get("run_id") or info.get("workflow_run_id"))
            if "activity_type" in info:
                event.setdefault("activity", info["activity_type"])
    if is_case_number(event.get("workflow_id") or "") and "case_no" not in event:
        event["case_no"] = event["workflow_id"]  # a case's workflow id is its number
    return event


def configure(level: str = "INFO") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        temporal_context,
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger used before a later configure (a test's capture, `onedoor up` setting the
        # level) would keep writing where it first did. Building one per call costs microseconds.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                mask_personal_data,  # a traceback can quote a party's data too
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
