"""The directory (jurisdictions, units, duty lists): data in the register, editable without a deploy."""

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import signing
from domain.case import Place
from domain.labels import Backstop, Category, Channel, Level, RiskGrade, UnitKind, UnitMode
from domain.messages import Routing
from domain.routing import LADDER, DutyEntry, handling_level, route
from store.tables import Case, DutyLine, GridWorker, Jurisdiction, Mediator, Unit

SEED = Path(__file__).parent / "seed" / "directory.json"


def seed_directory(session: Session, simulator_url: str | None, path: Path = SEED) -> None:
    """Upsert the seed directory; every seeded webhook unit's system is played by the simulator.

    A unit keeps the signing secret it has (its system holds a copy); a webhook unit without one
    gets a new one. Inbox units have no system, so no endpoint."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for row in data["jurisdictions"]:
        session.merge(Jurisdiction(**{"has_center": True, **row}))
        session.flush()  # one by one, parents first: PostgreSQL checks parent_code at each statement
    for row in data["units"]:
        row = {"kind": UnitKind.DEPARTMENT.value, "channel": Channel.WEBHOOK.value, **row}
        webhook = row["channel"] == Channel.WEBHOOK
        existing = session.get(Unit, row["code"])
        secret = existing.signing_secret if existing is not None and existing.signing_secret else (signing.new_secret() if webhook else None)
        endpoint = f"{simulator_url.rstrip('/')}/units/{row['code']}/dispatches" if simulator_url and webhook else None
        session.merge(Unit(**row, endpoint_url=endpoint, signing_secret=secret))
    session.flush()
    existing = {(d.jurisdiction_code, d.category, d.unit_code) for d in session.scalars(select(DutyLine))}
    for row in data["duty_list"]:
        if (row["jurisdiction_code"], row["category"], row["unit_code"]) not in existing:
            session.add(DutyLine(**{"lead": True, **row}))
    for row in data["mediators"]:
        session.merge(Mediator(**row))
    for row in data.get("grid_workers", []):
        session.merge(GridWorker(**row))
    session.commit()


def centers_above(session: Session, place_code: str) -> list[Jurisdiction]:
    """The jurisdictions with a center from a place up to the top of the directory."""
    centers: list[Jurisdiction] = []
    code: str | None = place_code
    while code is not None:
        jurisdiction = session.get(Jurisdiction, code)
        if jurisdiction is None:
            break
        if jurisdiction.has_center:
            centers.append(jurisdiction)
        code = jurisdiction.parent_code
    return centers


def ancestry(session: Session, code: str | None) -> list[str]:
    """The jurisdiction codes from a place up to the top: a scope covers a place when it is among them.
    One key lookup a level (four at most), not the whole directory: every scoped request asks."""
    chain = []
    while code is not None and code not in chain:
        chain.append(code)
        code = session.scalar(select(Jurisdiction.parent_code).where(Jurisdiction.code == code))
    return chain


def jurisdiction_and_below(session: Session, code: str) -> list[str]:
    """The jurisdiction's code and every code under it (a county: its townships and villages);
    empty when the directory does not know it. Walks the directory rather than trusting code prefixes."""
    tree = select(Jurisdiction.code).where(Jurisdiction.code == code).cte("tree", recursive=True)
    tree = tree.union_all(select(Jurisdiction.code).join(tree, Jurisdiction.parent_code == tree.c.code))
    return list(session.scalars(select(tree.c.code)))


def places(session: Session, scope: str | None) -> list[Jurisdiction]:
    """The townships and villages a scope covers (None: every one), in code order: where a dispute may arise."""
    query = select(Jurisdiction).where(Jurisdiction.level.in_((Level.TOWNSHIP.value, Level.VILLAGE.value)))
    if scope is not None:
        query = query.where(Jurisdiction.code.in_(jurisdiction_and_below(session, scope)))
    return list(session.scalars(query.order_by(Jurisdiction.code)))


def duty_list(session: Session, jurisdiction_code: str) -> list[DutyEntry]:
    lines = session.scalars(select(DutyLine).where(DutyLine.jurisdiction_code == jurisdiction_code).order_by(DutyLine.id))
    return [DutyEntry(jurisdiction_code=d.jurisdiction_code, category=d.category, unit_code=d.unit_code, lead=d.lead) for d in lines]


def rotas(session: Session, unit_codes: list[str]) -> dict[str, list[int]]:
    """轮驻: the duty weekdays (ISO) of the rotating units among these (resident and stationed units have none)."""
    units = session.scalars(select(Unit).where(Unit.code.in_(unit_codes), Unit.mode == UnitMode.ROTATING.value))
    return {unit.code: sorted(set(unit.rota_days)) for unit in units if unit.rota_days}


def names(session: Session, codes: list[str]) -> dict[str, str]:
    """The directory's names of these jurisdictions and units, by code (a code it does not know is left out)."""
    found = session.execute(select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(codes))).all()
    found += session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all()
    return dict(found)


def place_problem(session: Session, township_code: str, village_code: str | None) -> tuple[str, str] | None:
    """(field, message) when the place is not in the directory; None when it is."""
    township = session.get(Jurisdiction, township_code)
    if township is None or township.level != Level.TOWNSHIP:
        return "township_code", f"乡镇/街道代码 {township_code} 不在目录中 (unknown township)"
    if village_code is not None:
        village = session.get(Jurisdiction, village_code)
        if village is None or village.level != Level.VILLAGE or village.parent_code != township_code:
            return "village_code", f"村/社区代码 {village_code} 不属于 {township.name} (unknown village)"
    return None


def routing(session: Session, place: Place, grade: RiskGrade, category: Category, level: Level | None = None) -> Routing:
    """Where a case of this grade and category at this place goes: the handling level (by the grade
    unless `level` is given), its center's units by the duty list, the centers above and their
    leaders. Triage's reading (activities/register.py), and the intake form's preview of it.
    LookupError when the directory has no center or duty line for it."""
    chain = centers_above(session, place.village_code or place.township_code)
    centers = {Level(j.level): j.code for j in reversed(chain)}  # the nearest center of a level wins
    level = level or handling_level(grade, centers)
    if level not in centers:
        raise LookupError(f"no center at {level.label} for {place.township_code}")
    routed = route(duty_list(session, centers[level]), level, centers[level], category)
    routed.rotas = rotas(session, [routed.lead_unit, *routed.co_units])
    return Routing(
        route=routed,
        centers=centers,
        leaders={j.code: j.leaders or [] for j in chain},
        names=names(session, [*centers.values(), routed.lead_unit, *routed.co_units]),
    )


def pick_mediator(session: Session, jurisdiction_code: str, gold_first: bool, exclude: list[str]) -> Mediator | None:
    """The center's least-loaded active mediator (gold first when asked), not one who had the case."""
    load = (
        select(func.count()).select_from(Case)
        .where(Case.mediator_id == Mediator.id, Case.settled_at.is_(None))
        .scalar_subquery()
    )
    query = select(Mediator).where(Mediator.jurisdiction_code == jurisdiction_code, Mediator.active, Mediator.id.not_in(exclude))
    order = [Mediator.gold.desc()] if gold_first else []
    return session.scalars(query.order_by(*order, load, Mediator.id)).first()


def backstop_body(session: Session, kind: Backstop, centers: dict[Level, str]) -> Unit | None:
    """The nearest body of that kind, looking up the ladder from the lowest center."""
    for level in LADDER:
        if level in centers:
            body = session.scalars(select(Unit).where(Unit.jurisdiction_code == centers[level], Unit.backstop == kind.value).order_by(Unit.code)).first()
            if body is not None:
                return body
    return None


def replace_duty_list(session: Session, jurisdiction_code: str, lines: list[DutyEntry]) -> None:
    """A center's whole duty list at once, as its published 职责清单 is revised."""
    for line in session.scalars(select(DutyLine).where(DutyLine.jurisdiction_code == jurisdiction_code)):
        session.delete(line)
    session.flush()
    for line in lines:
        session.add(DutyLine(jurisdiction_code=jurisdiction_code, category=line.category, unit_code=line.unit_code, lead=line.lead))
    session.commit()


def link_unit(session: Session, kind: UnitKind, province_code: str | None = None) -> Unit | None:
    """The police platform, or the partner center of a province (跨省协作)."""
    query = select(Unit).where(Unit.kind == kind.value)
    if province_code is not None:
        query = query.where(Unit.province_code == province_code)
    return session.scalars(query.order_by(Unit.code)).first()
