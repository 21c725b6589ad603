"""Logs never print a party's ID number or phone, from our code or from Temporal's loggers."""

import io
import json
import logging

import pytest
import structlog

import logs


@pytest.fixture
def lines():
    stream = io.StringIO()
    logs.configure("INFO")
    logging.getLogger().handlers[0].stream = stream
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def test_id_numbers_and_phones_are_masked_in_messages_fields_and_tracebacks(lines):
    structlog.get_logger("api").info("当事人 王建国 130123198001011234 电话 13800138000", phone="+86 13912345678", parties=[{"id_number": "13012319800101123X"}])
    logging.getLogger("temporalio.activity").warning("联系 0311-87654321", extra={"note": "身份证 130123198001011234"})
    try:
        raise ValueError("bad id 130123198001011234")
    except ValueError:
        structlog.get_logger("worker").exception("failed")
    text = json.dumps(lines(), ensure_ascii=False)
    for secret in ("130123198001011234", "13012319800101123X", "13800138000", "13912345678", "87654321"):
        assert secret not in text, secret
    first, second, third = lines()
    assert first["event"] == "当事人 王建国 **************1234 电话 1**-****-8000"
    assert first["phone"] == "1**-****-5678" and first["parties"][0]["id_number"] == "**************123X"
    assert second["event"] == "联系 0***-****4321" and second["note"] == "身份证 **************1234"
    assert "ValueError" in third["exception"]


def test_case_numbers_amounts_and_dates_are_left_alone():
    text = "案件 139001-2026-000001 金额 24000 元，2026-11-27 09:30，单位 T101-LDS"
    assert logs.mask(text) == text
