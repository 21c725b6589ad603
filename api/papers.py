"""A case's papers (papers/): GET /cases/{case_no}/papers/{kind}, an A4 page to print from the browser
or its PDF. They hold the parties' personal data: read by those who read the archive, in their scope."""

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from onedoor import papers
from api.deps import sessions
from api.records import ARCHIVISTS
from api.views import Problem
from onedoor.papers.render import PdfUnavailable
from onedoor.papers.views import NoSuchOrder, NotApplicable, Paper
from onedoor.store.papers import case_record

router = APIRouter(prefix="/cases", tags=["cases 案件"])
PAGE_OR_PDF = {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@router.get(
    "/{case_no}/papers/{kind}",
    response_class=Response,
    dependencies=ARCHIVISTS,
    summary="案件文书：受理告知书、派单/转办单、督办单、调解协议书、不予受理告知书、案卷（A4 打印页或 PDF）a case's papers",
    description=(
        "kind：acceptance 受理告知书，dispatch 派单/转办单，supervision 督办单（order 为第几份，按签发先后），"
        "agreement 人民调解协议书（人民调解法第二十九条），refusal 不予受理告知书，archive 案卷（人民调解法第二十七条）。"
        "format=pdf 时返回 PDF，文件名含案件编号。"
    ),
    responses={
        200: {"content": PAGE_OR_PDF, "description": "the paper: a printable A4 page (html, the default) or its PDF"},
        404: {"model": Problem, "description": "not in the register or outside the caller's scope; or no such supervision order (order)"},
        409: {"model": Problem, "description": "the case has no such paper now: no agreement, not refused (or refused: no acceptance), not dispatched, no supervision order"},
        503: {"model": Problem, "description": "PDF only: WeasyPrint's libraries (Pango) are not installed on the server; the page (html) prints"},
    },
)
async def get_paper(
    case_no: str,
    kind: papers.Kind,
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
    format: Annotated[Literal["html", "pdf"], Query(description="html：打印页；pdf：PDF 文件")] = "html",
    order: Annotated[int, Query(ge=1, le=10_000, description="督办单：本案第几份督办单（1 为最先签发的）")] = 1,
) -> Response:
    return await paper_response(make_session, case_no, kind, format, order)


async def paper_response(make_session: sessionmaker[Session], case_no: str, kind: papers.Kind, format: Literal["html", "pdf"], order: int = 1) -> Response:
    """The paper as the route answers it, for the route and the console's print links alike (the caller
    has checked who may read it)."""
    def build() -> Paper:
        with make_session() as session:
            record = case_record(session, case_no)
        if record is None:
            raise HTTPException(404, f"登记簿中没有案件 {case_no} (not in the register)")
        try:
            return papers.build(kind, record, order)
        except NotApplicable as refused:
            raise HTTPException(409, str(refused))
        except NoSuchOrder as missing:
            raise HTTPException(404, str(missing))

    view = await run_in_threadpool(build)
    if format == "html":
        return HTMLResponse(await run_in_threadpool(papers.render_paper, view, "html"))
    try:
        pdf = await run_in_threadpool(papers.render_paper, view, "pdf")
    except PdfUnavailable:
        raise HTTPException(503, "服务器未安装 PDF 排版所需的 Pango 库，请改用 format=html 打印 (PDF unavailable: Pango is not installed)")
    # The title in UTF-8 (RFC 6266) for browsers, an ASCII name beside for the rest; both carry the case number.
    disposition = f"inline; filename=\"{kind}-{case_no}.pdf\"; filename*=UTF-8''{quote(f'{view.title}-{case_no}.pdf')}"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
