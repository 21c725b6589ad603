"""The register's household files (家庭和谐服务档案): find-or-create by address, grid workers, visits,
and the mirror of each file's workflow."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onedoor.domain.household import FollowUpVisit, HouseholdRecord, HouseholdStatus, LinkedCase, address_key
from onedoor.store.register import insert_ignoring_duplicates
from onedoor.store.sealed import sealer_of
from onedoor.store.tables import Case, GridWorker, Household, HouseholdVisit


@dataclass
class Enrolment:
    household: Household
    grid_worker: GridWorker | None
    cases: list[LinkedCase]  # linked before this one: a reopened file counts them again
    visits: list[FollowUpVisit]


def household_for(session: Session, township_code: str, village_code: str | None, address: str, now: datetime) -> Household:
    """The household at this address, opened now if the register has none; ids are numbered per
    township (HH-<township>-000001), so they say nothing about the address. The address is sealed;
    the file is found by its keyed digest under any configured key (one opened before a rotation too)."""
    sealer, key = sealer_of(session), address_key(township_code, village_code, address)
    for _ in range(5):
        found = session.scalar(select(Household).where(Household.address_key.in_(sealer.digests(key))))
        if found is not None:
            return found
        number = session.scalar(select(func.count()).select_from(Household).where(Household.township_code == township_code)) + 1
        worker = pick_grid_worker(session, township_code)
        try:
            # ON CONFLICT on the address: the same family opened by a concurrent case is read back above;
            # a taken number (another family, concurrently) raises and is counted again.
            insert_ignoring_duplicates(session, Household, dict(
                id=f"HH-{township_code}-{number:06d}", address_key=sealer.digest(key), township_code=township_code, village_code=village_code,
                address=address.strip(), status=HouseholdStatus.OPEN.value, grid_worker_id=worker.id if worker else None,
                case_count=0, opened_at=now,
            ), ["address_key"])
            session.commit()
        except IntegrityError:
            session.rollback()
    raise RuntimeError("could not open a household file")


def pick_grid_worker(session: Session, township_code: str) -> GridWorker | None:
    """The township's active grid worker (网格员) with the fewest open household files."""
    load = (
        select(func.count()).select_from(Household)
        .where(Household.grid_worker_id == GridWorker.id, Household.status == HouseholdStatus.OPEN.value)
        .scalar_subquery()
    )
    query = select(GridWorker).where(GridWorker.jurisdiction_code == township_code, GridWorker.active)
    return session.scalars(query.order_by(load, GridWorker.id)).first()


def enrol(session: Session, case_no: str, township_code: str, village_code: str | None, address: str, now: datetime) -> Enrolment:
    """Link a case to its household (opening the file if need be) and read what the file already holds."""
    household = household_for(session, township_code, village_code, address, now)
    session.execute(update(Case).where(Case.case_no == case_no).values(household_id=household.id))
    session.commit()
    earlier = session.execute(
        select(Case.case_no, Case.grade, Case.received_at)
        .where(Case.household_id == household.id, Case.case_no != case_no, Case.grade.is_not(None))
        .order_by(Case.received_at)
    )
    return Enrolment(
        household=household,
        grid_worker=session.get(GridWorker, household.grid_worker_id) if household.grid_worker_id else None,
        cases=[LinkedCase(case_no=number, grade=grade, at=at) for number, grade, at in earlier],
        visits=[FollowUpVisit(seq=v.seq, at=v.at, visitor=v.visitor, notes=v.notes, risk=v.risk) for v in visits(session, household.id)],
    )


def mirror(session: Session, record: HouseholdRecord) -> None:
    """The file's state as its workflow last wrote it; a visit is written once, by (household, seq)."""
    if record.visit is not None:
        visit = record.visit
        insert_ignoring_duplicates(session, HouseholdVisit, dict(
            household_id=record.household_id, seq=visit.seq, at=visit.at, visitor=visit.visitor, notes=visit.notes,
            risk=visit.risk.value if visit.risk else None,
        ), ["household_id", "seq"])
    session.execute(
        update(Household).where(Household.id == record.household_id).values(
            risk=record.risk.value if record.risk else None, status=record.status.value, next_visit_at=record.next_visit_at,
            case_count=record.case_count, closed_at=record.closed_at,
        )
    )
    session.commit()


def visits(session: Session, household_id: str) -> list[HouseholdVisit]:
    return list(session.scalars(select(HouseholdVisit).where(HouseholdVisit.household_id == household_id).order_by(HouseholdVisit.seq)))


def case_numbers(session: Session, household_id: str) -> list[str]:
    return list(session.scalars(select(Case.case_no).where(Case.household_id == household_id).order_by(Case.received_at)))


def households(session: Session, townships: list[str] | None, risk: str | None, status: str | None, limit: int, offset: int) -> tuple[list[Household], int]:
    """One page of household files (of these townships, or all), riskiest and most urgent first, and how many match in all."""
    query = select(Household)
    if townships is not None:
        query = query.where(Household.township_code.in_(townships))
    for column, value in ((Household.risk, risk), (Household.status, status)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = [Household.status != HouseholdStatus.OPEN.value, Household.next_visit_at.is_(None), Household.next_visit_at, Household.id]
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset))), total
