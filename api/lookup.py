"""便民服务: a citizen looks up their case's progress — public, no API key — with its number and the
last four digits of the phone a party left at registration (the party's SMS promises
可凭编号查询办理进度). The answer is the stage in plain words, who handles it, what comes next and
when it was registered: never a party's data, not even the asker's own name, nor a note. A wrong
number and a wrong phone get the same answer, so neither tells which was wrong; and lookups are
limited per client address and per case number (`limits`), so the four digits cannot be guessed.

`POST /lookup/progress` answers JSON; `/lookup` is the same as a page with a form (GET, POST)."""

import math
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.deps import party_marks_key, sessions, settings
from api.errors import REFUSED_AS_PAGE
from api.views import Problem, in_beijing_time
from onedoor.domain.case_number import PATTERN as CASE_NUMBER
from onedoor.domain.labels import Stage
from onedoor.domain.progress import progress_words
from onedoor.domain.timezone import as_shanghai
from onedoor.settings import Settings
from onedoor.store import lookup

router = APIRouter(tags=["public 便民服务"])
templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())
NOT_FOUND = "未查到该案件：请核对案件编号和手机号后四位。如仍查不到，请到受理窗口或拨打热线咨询。"


class ProgressQuery(BaseModel):
    case_no: str = Field(pattern=CASE_NUMBER.pattern, description="案件编号，如 139001-2026-000042 (the case number the registration SMS gave)")
    phone_last4: str = Field(pattern=r"^\d{4}$", description="登记时所留手机号的后四位 (last four digits of a party's phone)")


class CaseProgress(BaseModel):
    """What a citizen may know of the case: nothing about its parties, no notes."""

    case_no: str
    stage: Stage
    stage_text: str = Field(description="where the case is, in plain Chinese")
    handled_by: str = Field(description="承办单位 or the center handling it, by name")
    next_step: str = Field(description="下一步 what comes next")
    received_at: datetime = Field(description="登记受理时间 (Beijing time)")
    closed_at: datetime | None = Field(description="办结时间 once closed")


@dataclass(frozen=True)
class Limits:
    limiter: MovingWindowRateLimiter
    per_client: RateLimitItem
    per_case: RateLimitItem

    def wait(self, client: str, case_no: str) -> int | None:
        """Counts this lookup; the seconds until another is allowed, when one limit is spent."""
        for item, key in ((self.per_client, f"client:{client}"), (self.per_case, f"case:{case_no}")):
            if not self.limiter.hit(item, "lookup", key):
                reset_at = self.limiter.get_window_stats(item, "lookup", key).reset_time
                return max(1, math.ceil(reset_at - time.time()))
        return None


@lru_cache(maxsize=4)
def limits_for(per_client: str, per_case: str, storage: str) -> Limits:
    """One limiter per configuration (the counts live in its storage): built once, at the first lookup."""
    return Limits(MovingWindowRateLimiter(storage_from_string(storage)), parse(per_client), parse(per_case))


class Limited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return f"查询过于频繁，请 {math.ceil(self.retry_after / 60)} 分钟后再试。"


def find(make_session: sessionmaker[Session], config: Settings, key: bytes, client: str, query: ProgressQuery) -> CaseProgress | None:
    """The case's progress, or None (unknown number, or the digits match no party's phone); Limited first when a limit is spent."""
    limited = limits_for(config.lookup_limit_per_client, config.lookup_limit_per_case, config.lookup_limit_storage).wait(client, query.case_no)
    if limited is not None:
        raise Limited(limited)
    with make_session() as session:
        found = lookup.progress(session, key, query.case_no, query.phone_last4)
    if found is None:
        return None
    stage = Stage(found.stage)
    stage_text, next_step = progress_words(stage)
    # Before triage no unit holds it: the center that received it.
    handled_by = found.lead_unit_name or f"{found.jurisdiction_name or ''}综治中心"
    return in_beijing_time(CaseProgress(case_no=found.case_no, stage=stage, stage_text=stage_text, handled_by=handled_by, next_step=next_step,
                                        received_at=found.received_at, closed_at=found.closed_at))


async def answer(request: Request, query: ProgressQuery) -> CaseProgress | None:
    client = request.client.host if request.client else "unknown"
    return await run_in_threadpool(find, sessions(request), settings(request), party_marks_key(request), client, query)


RESPONSES = {
    404: {"model": Problem, "description": "no case with this number and phone (the same answer for either wrong)"},
    429: {"model": Problem, "description": "too many lookups from this address or of this case number: Retry-After says when to try again"},
}


@router.post("/lookup/progress", response_model=CaseProgress, responses=RESPONSES, summary="便民服务：凭案件编号和手机号后四位查询办理进度 a citizen's progress lookup")
async def progress(query: ProgressQuery, request: Request) -> CaseProgress:
    try:
        found = await answer(request, query)
    except Limited as limited:
        raise HTTPException(429, limited.message, headers={"Retry-After": str(limited.retry_after)})
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


def page(status: int = 200, headers: dict | None = None, **shown) -> HTMLResponse:
    return HTMLResponse(templates.get_template("lookup.html").render(**shown), status_code=status, headers=headers)


@router.get("/lookup", response_class=HTMLResponse, summary="便民服务：办理进度查询页面 the lookup page")
async def lookup_page() -> HTMLResponse:
    return page()


@router.post("/lookup", response_class=HTMLResponse,
             responses={422: {"description": "a malformed case number or digits, named on the page", **REFUSED_AS_PAGE},
                        **{status: {"description": response["description"], **REFUSED_AS_PAGE} for status, response in RESPONSES.items()}},
             summary="便民服务：查询表单提交 the lookup page's form",
             openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": ProgressQuery.model_json_schema()}}, "required": True}})
async def lookup_form(request: Request) -> HTMLResponse:
    # The form read by hand (parse_qs): the two fields need no multipart parser.
    try:
        form = {name: values[0].strip() for name, values in parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10).items()}
    except ValueError:  # more fields than any form of ours sends
        return page(422, message="请只填写案件编号和手机号后四位。")
    case_no = form.get("case_no", "")
    try:
        query = ProgressQuery(case_no=case_no, phone_last4=form.get("phone_last4", ""))
    except ValidationError as error:
        fields = {str(e["loc"][0]) for e in error.errors()}
        message = "案件编号格式不对，应如 139001-2026-000042。" if "case_no" in fields else "请填写手机号的后四位数字。"
        return page(422, case_no=case_no, message=message)
    try:
        found = await answer(request, query)
    except Limited as limited:
        return page(429, case_no=case_no, message=limited.message, headers={"Retry-After": str(limited.retry_after)})
    if found is None:
        return page(404, case_no=case_no, message=NOT_FOUND)
    return page(case_no=case_no, found=found)


templates.filters["when"] = lambda at: as_shanghai(at).strftime("%Y年%-m月%-d日 %H:%M") if at else ""
