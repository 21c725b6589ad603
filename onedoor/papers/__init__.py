"""The papers a case needs, A4, printable from the browser and as PDF: 受理告知书 (acceptance), 派单/转办单
(dispatch), 督办单 (supervision, one per order), 人民调解协议书 (agreement, 人民调解法 §29), 不予受理告知书
(refusal) and the case file (archive, 人民调解法 §27).

Three steps, each usable alone (the API's /cases/{case_no}/papers/{kind} and the console take them in turn):

    record = store.papers.case_record(session, case_no)     # the register's record and the directory's names
    view = papers.build(kind, record, order=1)              # pure: the paper's view (papers/views.py)
    body = papers.render_paper(view, "html" | "pdf")         # str, or the PDF's bytes (papers/render.py)

`build` raises views.NotApplicable when the case has no such paper now (no agreement, not refused, not
dispatched, no supervision order: the API's 409) and views.NoSuchOrder for an order it does not have (404);
`render_paper` raises render.PdfUnavailable where WeasyPrint's libraries are missing.
"""

from datetime import UTC, datetime
from typing import Literal

from onedoor.papers.render import render_paper
from onedoor.papers.views import Paper, acceptance, agreement, archive, dispatch, refusal, supervision
from onedoor.store.papers import CaseRecord

Kind = Literal["acceptance", "dispatch", "supervision", "agreement", "refusal", "archive"]


def build(kind: Kind, record: CaseRecord, order: int = 1) -> Paper:
    """The paper's view; `order`: which supervision order (1 the first issued)."""
    if kind == "supervision":
        return supervision(record, order)
    if kind == "archive":
        return archive(record, datetime.now(UTC))
    return {"acceptance": acceptance, "dispatch": dispatch, "agreement": agreement, "refusal": refusal}[kind](record)


__all__ = ["Kind", "build", "render_paper"]
