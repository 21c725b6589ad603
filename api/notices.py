"""Notices (通知记录): what was told to whom — parties, units, leaders, operators — read from the register."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, allow, effective_scope
from api.deps import sessions
from api.views import Problem, in_beijing_time
from onedoor.domain.bounds import Moment, Offset
from onedoor.domain.labels import Audience, Role
from onedoor.domain.timezone import as_utc
from onedoor.store import directory, notices

router = APIRouter(prefix="/notices", tags=["notices 通知记录"])
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Reader = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.SUPERVISOR, Role.UNIT))]
Word = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,32}$")]


class NoticeQuery(BaseModel):
    case_no: Word | None = Field(None, description="案件编号")
    recipient: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]*$")] | None = Field(
        None, description="接收方：单位代码、中心代码、领导或当事人姓名 (unit, center code, leader or party)"
    )
    audience: Audience | None = Field(None, description="接收对象类别")
    kind: Word | None = Field(None, description="通知类型 intake, progress, reminder, breach, supervision …")
    since: Moment | None = Field(None, description="发送时间起（含；不带时区按北京时间） sent at or after")
    limit: int = Field(50, ge=1, le=200, description="每页条数")
    offset: Offset = 0


class NoticeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    case_no: str | None
    audience: Audience
    recipient: str
    kind: str
    text: str
    channels: list[str] = Field(description="通知渠道 log, webhook, sms")
    sent_at: datetime = Field(description="北京时间 Beijing time")


class NoticeList(BaseModel):
    total: int = Field(description="notices matching the filters, over all pages")
    limit: int
    offset: int
    rows: list[NoticeView]


def scoped(session: Session, principal: Principal, query: NoticeQuery) -> notices.Filters:
    """A unit reads what was sent to it; operators and supervisors what concerns their jurisdiction:
    its cases, and notices to its centers (a center's code is its jurisdiction's); an admin everything."""
    wanted = dict(case_no=query.case_no, recipient=query.recipient, audience=query.audience and query.audience.value, kind=query.kind, since=query.since and as_utc(query.since))
    if principal.role == Role.UNIT:
        return notices.Filters(**wanted, recipients=[principal.unit_code] if principal.unit_code else [])
    jurisdiction = effective_scope(session, principal, None, "jurisdiction")
    if jurisdiction is None:
        return notices.Filters(**wanted)
    places = directory.jurisdiction_and_below(session, jurisdiction)
    return notices.Filters(**wanted, places=places, recipients=places)


@router.get("", response_model=NoticeList, summary="通知记录：发给当事人、单位、领导、受理员的通知 notices sent",
            responses={403: {"model": Problem, "description": "the caller's role does not read notices"}})
async def list_notices(query: Annotated[NoticeQuery, Query()], principal: Reader, make_session: Sessions) -> NoticeList:
    def load() -> notices.Page:
        with make_session() as session:
            return notices.listed(session, scoped(session, principal, query), query.limit, query.offset)

    page = await run_in_threadpool(load)
    rows = [NoticeView.model_validate(row) for row in page.rows]
    return NoticeList(total=page.total, limit=query.limit, offset=query.offset, rows=in_beijing_time(rows))
