"""Logs never print a party's ID number, phone or name, from our code, Temporal's loggers or the
access log."""

import asyncio
import io
import json
import logging
from urllib.parse import quote

import pytest
import structlog

from onedoor import logs
from tests.cases import register_case, someone, typed_everywhere, wage_arrears


@pytest.fixture
def lines():
    stream = io.StringIO()
    logs.configure("INFO")
    # Not cached: the modules' loggers this test uses must follow later tests' configuration (capture_logs).
    structlog.configure(cache_logger_on_first_use=False)
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


def test_query_values_are_masked_and_their_names_kept():
    line = '127.0.0.1:5000 - "GET /notices?recipient=%E6%AC%A7%E9%98%B3&limit=5 HTTP/1.1" 200'
    assert logs.mask(line) == '127.0.0.1:5000 - "GET /notices?recipient=*&limit=* HTTP/1.1" 200'


async def test_a_partys_name_reaches_no_log_line_from_its_notice_or_a_search_for_it(lines, api):
    """A whole case: registered with the party 欧阳测试, who is told (the log channel), and whose
    notices an operator looks up by name (the access log keeps the path, not the query's values)."""
    name = "欧阳测试"
    form = wage_arrears(parties=[{**someone(name), "role": "applicant"}, {"name": "某建筑公司", "role": "respondent"}])
    case_no = await register_case(api, form)
    for _ in range(100):
        found = (await api.get("/notices", params={"recipient": name, "case_no": case_no})).json()
        if found["rows"]:
            break
        await asyncio.sleep(0.2)
    assert found["rows"][0]["recipient"] == name  # the register keeps it, for those who may read it
    text = json.dumps(lines(), ensure_ascii=False)
    for secret in (name, quote(name), quote(name).lower(), form["parties"][0]["id_number"], form["parties"][0]["phone"]):
        assert secret not in text, secret
    assert any(line["event"] == "notice" and line["recipient"] == "欧**" and line["case_no"] == case_no for line in lines())
    assert any("GET /notices?recipient=*&case_no=*" in line["event"] for line in lines())


async def test_words_typed_into_every_field_of_a_whole_case_reach_no_log_line(lines, api):
    """A name, an ID number and a phone typed into the summary and every free-text field of a case, from
    intake to its return visit: the API's, the worker's and the workflows' lines keep none of them."""
    words = "欧阳明珠（身份证 13012319900307442X，电话 13912345678）"
    case_no = await register_case(api, wage_arrears(summary=f"{words}被拖欠工资"))
    await typed_everywhere(api, case_no, words)
    logged = lines()
    assert any(line["event"] == "case step" and line.get("case_no") == case_no for line in logged), "the workflows' lines were not captured"
    text = json.dumps(logged, ensure_ascii=False)
    for secret in ("欧阳明珠", quote("欧阳明珠"), "13012319900307442X", "13912345678"):
        assert secret not in text, secret
