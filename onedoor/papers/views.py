"""What each paper prints: pure functions from the register's record of a case (store.papers.CaseRecord)
to the paper's view — every code as the directory names it, every value as its Chinese label
(domain/labels.py), every time in Beijing time. The templates print these strings as they are."""

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from onedoor.domain.labels import (
    ActorRole, CaseField, ClockBasis, ClockName, ClockStatus, Level, NoticeKind, PartyRole, Result, RiskGrade, Source, Stage, StepKind,
)
from onedoor.domain.timezone import as_shanghai
from onedoor.store.papers import CaseRecord, RecordedChange, RecordedClock, RecordedOrder, RecordedStep

NONE = "—"


class NotApplicable(Exception):
    """The case has no such paper now (no agreement, not refused, not dispatched…): the API answers 409 with these words."""


class NoSuchOrder(Exception):
    """A supervision order the case does not have (the API answers 404, naming `order`)."""


# ── words ────────────────────────────────────────────────────────────────────────────────


def when(moment: datetime | None) -> str:
    return as_shanghai(moment).strftime("%Y-%m-%d %H:%M") if moment else NONE


def day(moment: datetime | date | None) -> str:
    """A date as a paper writes it: 2026年11月27日 (a time in Beijing's day)."""
    if moment is None:
        return NONE
    if isinstance(moment, datetime):
        moment = as_shanghai(moment).date()
    return f"{moment.year}年{moment.month}月{moment.day}日"


def label(enum: type[StrEnum], value: str | None) -> str:
    """The Chinese label of a code (a code that is none of the enum's is printed as it is)."""
    if value is None:
        return NONE
    try:
        return enum(value).label
    except ValueError:
        return value


def step_label(kind: str) -> str:
    """A timeline step's name. The gateway writes each document a unit's system accepted as a
    `delivered` step, which StepKind names by the revision-1 failure it also records: the note says which."""
    if kind == "delivered":
        return "文书投递"
    for enum in (StepKind, NoticeKind):  # the clocks' reminders and lapses and the red alerts are notices
        try:
            return enum(kind).label
        except ValueError:
            continue
    return kind


def yes_no(value: bool | None, yes: str = "是", no: str = "否") -> str:
    return NONE if value is None else yes if value else no


class Names:
    """The directory's names for a case's codes."""

    def __init__(self, record: CaseRecord):
        self.names = record.names
        codes = sorted(self.names, key=len, reverse=True)  # the longest first: 139001101 before 139001
        # A code stands alone: not inside a case number (139001-2026-…), an ID number or another code.
        self.pattern = re.compile(r"(?<![0-9A-Za-z_-])(" + "|".join(map(re.escape, codes)) + r")(?![0-9A-Za-z_-])") if codes else None

    def unit(self, code: str | None) -> str:
        """A unit or a mediator: its name, the code beside."""
        if code is None:
            return NONE
        return f"{self.names[code]}（{code}）" if code in self.names else code

    def center(self, code: str | None) -> str:
        """A jurisdiction's comprehensive governance center (综治中心)."""
        if code is None:
            return NONE
        return f"{self.names.get(code, code)}综治中心"

    def place(self, township: str, village: str | None) -> str:
        return " ".join(self.names.get(code, code) for code in (township, village) if code)

    def in_text(self, text: str) -> str:
        """A note's codes with their names beside, but where the note names one so already (the mediator's step: 赵立新（M-T101-1）)."""
        if self.pattern is None:
            return text

        def named(found: re.Match) -> str:
            code, name = found[0], self.names[found[0]]
            if text[: found.start()].endswith(f"{name}（"):
                return code
            in_brackets = text[found.start() - 1: found.start()] == "（" and text[found.end(): found.end() + 1] == "）"
            return f"{name} {code}" if in_brackets else f"{name}（{code}）"

        return self.pattern.sub(named, text)


# ── what several papers print ───────────────────────────────────────────────────────────


class PartyLine(BaseModel):
    role: str
    name: str
    id_number: str
    phone: str
    address: str


class CaseFacts(BaseModel):
    """The case as every paper introduces it."""

    received: str
    source: str
    category: str
    grade: str
    place: str
    summary: str
    handling: str
    stage: str
    parties: list[PartyLine]


class UnitLine(BaseModel):
    """A unit a dispatch reached, with its two clocks."""

    unit: str
    part: str  # 牵头 / 协办
    respond_by: str
    response: str
    feedback_by: str
    feedback: str


class Paper(BaseModel):
    kind: str
    title: str
    case_no: str
    issuer: str  # who issues it: a center, or a people's mediation committee
    dated: str  # the day it is issued on


def parties(record: CaseRecord) -> list[PartyLine]:
    return [
        PartyLine(role=label(PartyRole, party.get("role", PartyRole.APPLICANT)), name=party["name"], id_number=party.get("id_number") or NONE,
                  phone=party.get("phone") or NONE, address=party.get("address") or NONE)
        for party in record.parties
    ]


def addressees(record: CaseRecord) -> list[str]:
    """Whom a notice to the parties is addressed to: the applicants (every party when none is one)."""
    applicants = [party["name"] for party in record.parties if party.get("role", PartyRole.APPLICANT) == PartyRole.APPLICANT]
    return applicants or [party["name"] for party in record.parties]


def facts(record: CaseRecord, names: Names) -> CaseFacts:
    handling = f"{label(Level, record.level)}级 {names.center(record.jurisdiction_code)}" if record.jurisdiction_code else "尚未分流"
    return CaseFacts(
        received=when(record.received_at), source=label(Source, record.source), category=record.category,
        grade=label(RiskGrade, record.grade) + ("色" if record.grade else ""), place=names.place(record.township_code, record.village_code),
        summary=record.summary, handling=handling, stage=label(Stage, record.stage), parties=parties(record),
    )


def receiving_center(record: CaseRecord) -> str:
    """The center that received the case (its code): the registering operator's jurisdiction, else the township's."""
    received = next((step for step in record.steps if step.kind == "received"), None)
    return received.user_jurisdiction if received and received.user_jurisdiction in record.names else record.township_code


def last_step(record: CaseRecord, kind: str, having: str | None = None) -> RecordedStep | None:
    return next((step for step in reversed(record.steps) if step.kind == kind and (having is None or step.parts.get(having))), None)


def dispatch_units(record: CaseRecord, step: RecordedStep, names: Names) -> list[UnitLine]:
    """The units a dispatch reached, the lead first, each with its response and feedback clock as they stand
    (a dispatch recorded before its clocks were: none, its note says whom)."""
    clocks = {clock.clock_id: clock for clock in record.clocks}
    started = [clocks[clock_id] for clock_id in step.parts.get("clocks", []) if clock_id in clocks]
    lines: list[UnitLine] = []
    for response, feedback in zip(started[::2], started[1::2]):
        lines.append(UnitLine(
            unit=names.unit(response.unit_code), part="牵头" if not lines else "协办",
            respond_by=when(response.due_at), response=label(ClockStatus, response.status),
            feedback_by=when(feedback.due_at), feedback=label(ClockStatus, feedback.status),
        ))
    return lines


# ── 受理告知书 ───────────────────────────────────────────────────────────────────────────


class AcceptanceView(Paper):
    addressees: list[str]
    facts: CaseFacts
    units: list[UnitLine]
    mediator: str | None


def acceptance(record: CaseRecord) -> AcceptanceView:
    if last_step(record, "declined"):
        raise NotApplicable(f"案件 {record.case_no} 已决定不予受理，应出具不予受理告知书 (the case was refused: see the refusal paper)")
    names = Names(record)
    first = next((step for step in record.steps if step.kind == "dispatched"), None)
    return AcceptanceView(
        kind="acceptance", title="受理告知书", case_no=record.case_no, issuer=names.center(receiving_center(record)), dated=day(record.received_at),
        addressees=addressees(record), facts=facts(record, names), units=dispatch_units(record, first, names) if first else [],
        mediator=names.names.get(record.mediator_id) if record.mediator_id else None,
    )


# ── 派单/转办单 ──────────────────────────────────────────────────────────────────────────


class DispatchSection(BaseModel):
    heading: str  # 派单 the first, 转办 each later one (escalated, handed over, reopened)
    at: str
    center: str
    units: list[UnitLine]
    note: str


class DispatchView(Paper):
    facts: CaseFacts
    sections: list[DispatchSection]


def dispatch(record: CaseRecord) -> DispatchView:
    steps = [step for step in record.steps if step.kind == "dispatched"]
    if not steps:
        raise NotApplicable(f"案件 {record.case_no} 尚未派单，没有派单/转办单 (not dispatched yet)")
    names, clocks = Names(record), {clock.clock_id: clock for clock in record.clocks}
    sections = []
    for n, step in enumerate(steps):
        first = clocks.get((step.parts.get("clocks") or [None])[0])
        level = first.level if first else None
        center = f"{label(Level, level)}级 {names.center(record.centers.get(level))}" if level else NONE
        sections.append(DispatchSection(heading="派单" if n == 0 else f"转办（第 {n} 次）", at=when(step.at), center=center,
                                        units=dispatch_units(record, step, names), note=names.in_text(step.note)))
    return DispatchView(kind="dispatch", title="派单/转办单", case_no=record.case_no, issuer=names.center(record.jurisdiction_code or record.township_code),
                        dated=day(steps[-1].at), facts=facts(record, names), sections=sections)


# ── 督办单 ───────────────────────────────────────────────────────────────────────────────


class OrderLine(BaseModel):
    issued_at: datetime  # for the order of the orders
    issued: str
    issuer: str
    supervisor: str | None
    unit: str
    reason: str
    due: str
    text: str


def breach_order(record: CaseRecord, order: RecordedOrder, names: Names) -> OrderLine:
    """督办 a clock's breach raised: from the center above the late one (or the late level's own, at the top)."""
    level = order.to_level or order.from_level
    unit = names.unit(order.unit_code) if order.unit_code else f"{label(Level, order.from_level)}级 {names.center(record.centers.get(order.from_level))}"
    return OrderLine(issued_at=order.issued_at, issued=when(order.issued_at), issuer=names.center(record.centers.get(level)), supervisor=None, unit=unit,
                     reason=f"{label(ClockName, order.clock)}超时", due=when(order.due_at), text=names.in_text(order.text))


def supervisor_order(record: CaseRecord, step: RecordedStep, names: Names) -> OrderLine:
    """督办 a higher center's supervisor gave (POST /cases/{case_no}/supervision)."""
    issuer = names.center(step.user_jurisdiction) if step.user_jurisdiction in record.names else "上级综治中心"
    return OrderLine(issued_at=step.at, issued=when(step.at), issuer=issuer, supervisor=step.actor, unit=names.unit(step.body_code),
                     reason="上级督办", due=NONE, text=names.in_text(step.parts.get("order") or step.note))


def orders(record: CaseRecord) -> list[OrderLine]:
    """Every supervision order of the case, in the order they were issued: numbered 1, 2, 3 … from this list."""
    names = Names(record)
    raised = [breach_order(record, order, names) for order in record.orders]
    given = [supervisor_order(record, step, names) for step in record.steps if step.kind == "supervised"]
    return sorted(raised + given, key=lambda line: line.issued_at)


class SupervisionView(Paper):
    number: int
    total: int
    order: OrderLine
    facts: CaseFacts


def supervision(record: CaseRecord, number: int) -> SupervisionView:
    issued = orders(record)
    if not issued:
        raise NotApplicable(f"案件 {record.case_no} 没有督办记录，没有督办单 (no supervision order)")
    if not 1 <= number <= len(issued):
        raise NoSuchOrder(f"order: 案件 {record.case_no} 共有 {len(issued)} 份督办单，没有第 {number} 份 (no such order)")
    order, names = issued[number - 1], Names(record)
    return SupervisionView(kind="supervision", title="督办单", case_no=record.case_no, issuer=order.issuer, dated=day(order.issued_at),
                           number=number, total=len(issued), order=order, facts=facts(record, names))


# ── 调解协议书 (人民调解法 §29) ──────────────────────────────────────────────────────────


class AgreementView(Paper):
    parties: list[PartyLine]
    category: str
    summary: str
    terms: str
    performance: str
    mediator: str
    copies: int  # 当事人各执一份，人民调解委员会留存一份 (§29)


def agreement(record: CaseRecord) -> AgreementView:
    step = last_step(record, "mediation", having="terms")
    if step is None:
        raise NotApplicable(f"案件 {record.case_no} 没有达成调解协议，没有调解协议书 (no mediation agreement)")
    names = Names(record)
    # The mediation's step names its mediator as the directory does; the committee is the mediator's center's.
    mediator_id = next((code for code in record.mediator_centers if names.names.get(code) == step.actor), record.mediator_id)
    committee = names.names.get(record.mediator_centers.get(mediator_id) or record.jurisdiction_code or record.township_code, "")
    due = step.parts.get("performance_due")
    performance = f"于 {day(date.fromisoformat(due))} 前履行完毕" if due else "按上列协议内容所载的方式和期限履行"
    return AgreementView(
        kind="agreement", title="人民调解协议书", case_no=record.case_no, issuer=f"{committee}人民调解委员会", dated=day(step.at),
        parties=parties(record), category=record.category, summary=record.summary, terms=step.parts["terms"], performance=performance,
        mediator=step.actor or names.names.get(record.mediator_id, NONE), copies=len(record.parties) + 1,
    )


# ── 不予受理告知书 ───────────────────────────────────────────────────────────────────────


class RefusalView(Paper):
    addressees: list[str]
    facts: CaseFacts
    reason: str


def refusal(record: CaseRecord) -> RefusalView:
    step = last_step(record, "declined")
    if step is None:
        raise NotApplicable(f"案件 {record.case_no} 已受理办理，未作出不予受理决定，没有不予受理告知书 (the case was accepted)")
    names = Names(record)
    center = step.user_jurisdiction if step.user_jurisdiction in record.names else record.jurisdiction_code or record.township_code
    return RefusalView(kind="refusal", title="不予受理告知书", case_no=record.case_no, issuer=names.center(center), dated=day(step.at),
                       addressees=addressees(record), facts=facts(record, names), reason=step.parts.get("reason") or names.in_text(step.note))


# ── 案卷 (人民调解法 §27) ────────────────────────────────────────────────────────────────


class TimelineLine(BaseModel):
    at: str
    step: str
    note: str


class ClockLine(BaseModel):
    name: str
    unit: str
    level: str
    basis: str
    started: str
    due: str
    done: str
    status: str


class DocumentLine(BaseModel):
    at: str
    kind: str
    recipient: str
    receipt: str


class ChangeLine(BaseModel):
    at: str
    actor: str
    role: str
    action: str
    changes: list[str]


class ArchiveView(Paper):
    facts: CaseFacts
    outcome: list[tuple[str, str]]
    timeline: list[TimelineLine]
    clocks: list[ClockLine]
    orders: list[OrderLine]
    agreement: AgreementView | None
    documents: list[DocumentLine]
    changes: list[ChangeLine]
    archived: str


# The documents sent to outside systems, by the kind their idempotency key names (workflows/dispute_case.py).
DOCUMENT_KINDS = {"dispatch": "派单", "referral": "司法兜底转介", "supervision": "督办", "police": "警情回传", "partner": "跨省协作告知"}


def clock_line(clock: RecordedClock, names: Names) -> ClockLine:
    return ClockLine(name=label(ClockName, clock.name), unit=names.unit(clock.unit_code), level=label(Level, clock.level), basis=label(ClockBasis, clock.basis),
                     started=when(clock.started_at), due=when(clock.due_at), done=when(clock.done_at), status=label(ClockStatus, clock.status))


def document_line(step: RecordedStep, names: Names) -> DocumentLine:
    """A document a unit's system accepted; its step's key is "delivered-<kind>:<n>[:<recipient>]"."""
    kind, *rest = step.key.removeprefix("delivered-").split(":")
    recipient = names.unit(rest[1]) if len(rest) > 1 else "公安警情平台" if kind == "police" else NONE
    return DocumentLine(at=when(step.at), kind=DOCUMENT_KINDS.get(kind, kind), recipient=recipient, receipt=names.in_text(step.note))


def field_value(field: str, value, names: Names) -> str:
    """An audited field's value as the archive prints it."""
    if value is None:
        return NONE
    enums = {"stage": Stage, "grade": RiskGrade, "level": Level, "result": Result, "clock": ClockName, "status": ClockStatus}
    if field in enums:
        return label(enums[field], value)
    if field == "jurisdiction_code":
        return names.center(value)
    if field in ("lead_unit", "unit_code", "mediator_id"):
        return names.unit(value)
    if field == "satisfied":
        return yes_no(value, "满意", "不满意")
    if isinstance(value, bool):
        return yes_no(value)
    return str(value)


def change_line(change: RecordedChange, names: Names) -> ChangeLine:
    fields = list(dict.fromkeys([*change.before, *change.after]))
    said = [
        f"{label(CaseField, field)}：" + (f"{field_value(field, change.before[field], names)} → " if field in change.before else "")
        + field_value(field, change.after.get(field), names)
        for field in fields
    ]
    return ChangeLine(at=when(change.at), actor=names.in_text(change.actor), role=label(ActorRole, change.role), action=step_label(change.action), changes=said)


def archive(record: CaseRecord, archived_at: datetime) -> ArchiveView:
    names = Names(record)
    try:
        agreed = agreement(record)
    except NotApplicable:
        agreed = None
    outcome = [
        ("结案方式", label(Result, record.result)), ("回访意见", yes_no(record.satisfied, "满意", "不满意")),
        ("调解员", names.unit(record.mediator_id)), ("牵头单位", names.unit(record.lead_unit)),
        ("升级次数", str(record.escalation_count)), ("家庭和谐服务档案", record.household_id or NONE),
        ("结案时间", when(record.closed_at)), ("案结事了", when(record.settled_at)),
    ]
    return ArchiveView(
        kind="archive", title="矛盾纠纷调处案卷", case_no=record.case_no, issuer=names.center(record.jurisdiction_code or record.township_code),
        dated=day(archived_at), facts=facts(record, names), outcome=outcome,
        timeline=[TimelineLine(at=when(step.at), step=step_label(step.kind), note=names.in_text(step.note)) for step in record.steps],
        clocks=[clock_line(clock, names) for clock in record.clocks], orders=orders(record), agreement=agreed,
        documents=[document_line(step, names) for step in record.steps if step.kind == "delivered" and ":" in step.key],
        changes=[change_line(change, names) for change in record.changes], archived=when(archived_at),
    )
