"""What the register holds about one case for its papers (papers/): the case's row, its timeline with
the parts of its steps, its clocks, supervision orders and audit, and the directory's names of every
code they mention. Read in one session; the papers are built from it without touching the register."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from onedoor.store import directory, register
from onedoor.store.tables import Case, Jurisdiction, Mediator, SupervisionOrder, Unit


class RecordedStep(BaseModel):
    """A step of the timeline, with who took it as its audit entry says (the clocks' notices have none)."""

    key: str
    at: datetime
    kind: str
    note: str
    body_code: str | None = None
    parts: dict = {}
    actor: str | None = None
    role: str | None = None
    user_jurisdiction: str | None = None


class RecordedClock(BaseModel):
    clock_id: int
    name: str
    unit_code: str | None
    level: str | None
    basis: str
    started_at: datetime
    due_at: datetime
    status: str
    breached_at: datetime | None
    done_at: datetime | None


class RecordedOrder(BaseModel):
    """督办 raised by a clock's breach (the register's supervision_orders)."""

    clock: str
    unit_code: str | None
    from_level: str
    to_level: str | None
    due_at: datetime
    issued_at: datetime
    text: str


class RecordedChange(BaseModel):
    """An audit entry: who changed what."""

    at: datetime
    actor: str
    role: str
    action: str
    before: dict
    after: dict


class CaseRecord(BaseModel):
    """One case as the register has it, and the directory's names for its codes."""

    case_no: str
    source: str
    category: str
    township_code: str
    village_code: str | None
    summary: str
    parties: list[dict]
    stage: str
    grade: str | None
    level: str | None
    jurisdiction_code: str | None
    lead_unit: str | None
    mediator_id: str | None
    result: str | None
    satisfied: bool | None
    household_id: str | None
    received_at: datetime
    dispatched_at: datetime | None
    closed_at: datetime | None
    settled_at: datetime | None
    escalation_count: int
    steps: list[RecordedStep]
    clocks: list[RecordedClock]
    orders: list[RecordedOrder]
    changes: list[RecordedChange]
    names: dict[str, str] = {}  # jurisdictions', units' and mediators' names by code
    centers: dict[str, str] = {}  # the place's centers by level (village … city), as the directory has them now
    mediator_centers: dict[str, str] = {}  # each mediator's center (its people's mediation committee), by mediator id


def case_record(session: Session, case_no: str) -> CaseRecord | None:
    """The case's record, or None when it is not in the register."""
    row = session.get(Case, case_no)
    if row is None:
        return None
    audit = {entry.key: entry for entry in register.audit_trail(session, case_no)}
    steps = []
    for event in register.timeline(session, case_no):
        entry = audit.get(event.key)
        steps.append(RecordedStep(
            key=event.key, at=event.at, kind=event.kind, note=event.note, body_code=event.body_code, parts=event.parts or {},
            actor=entry and entry.actor, role=entry and entry.role, user_jurisdiction=entry and entry.user_jurisdiction,
        ))
    clocks = [RecordedClock.model_validate(clock, from_attributes=True) for clock in register.clocks(session, case_no)]
    orders = [RecordedOrder.model_validate(order, from_attributes=True)
              for order in session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_no == case_no).order_by(SupervisionOrder.issued_at, SupervisionOrder.id))]
    changes = [RecordedChange.model_validate(entry, from_attributes=True) for entry in audit.values()]
    place = row.village_code or row.township_code
    centers = {center.level: center.code for center in reversed(directory.centers_above(session, place))}
    mediator_ids = {row.mediator_id} | {change.after.get("mediator_id") for change in changes} | {change.before.get("mediator_id") for change in changes}
    mediators = session.execute(select(Mediator.id, Mediator.name, Mediator.jurisdiction_code).where(Mediator.id.in_(mediator_ids - {None}))).all()
    fields = {name: getattr(row, name) for name in CaseRecord.model_fields if hasattr(row, name)}
    return CaseRecord(
        **fields, steps=steps, clocks=clocks, orders=orders, changes=changes,
        names=directory_names(session) | {m.id: m.name for m in mediators},
        centers=centers, mediator_centers={m.id: m.jurisdiction_code for m in mediators},
    )


def directory_names(session: Session) -> dict[str, str]:
    """Every jurisdiction's and unit's name by code: a case's notes may name any unit of the county and
    above (the directory is a few hundred rows)."""
    return dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)).all()) | dict(session.execute(select(Unit.code, Unit.name)).all())

