"""The notices register: every notification sent, once per idempotency key, and the lists people read."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from domain.messages import Notice
from store import tables
from store.register import insert_ignoring_duplicates
from store.sealed import Keys
from store.worklists import Filters as CaseFilters, narrowed_by


def already_sent(session: Session, key: str) -> bool:
    return session.scalar(select(tables.Notice.key).where(tables.Notice.key == key)) is not None


def record(session: Session, notice: Notice, channels: list[str], sent_at: datetime) -> bool:
    """The notice as sent through these channels; False when its key was recorded before."""
    values = notice.model_dump(include={"key", "case_no", "recipient", "kind", "text"})  # never the phone
    values |= dict(recipient_digest=Keys.get().digest(notice.recipient), audience=notice.audience.value, channels=channels, sent_at=sent_at)
    written = insert_ignoring_duplicates(session, tables.Notice, values, ["key"])
    session.commit()
    return written


@dataclass(frozen=True)
class Filters:
    """What narrows the list; None means "any". `places` and `recipients` are the caller's scope:
    a notice is in it when its case is in those places, or it is addressed to one of `recipients`."""

    case_no: str | None = None
    recipient: str | None = None
    audience: str | None = None
    kind: str | None = None
    kinds: Collection[str] | None = None  # any of these
    since: datetime | None = None  # inclusive, UTC
    places: Collection[str] | None = None
    recipients: Collection[str] | None = None


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[tables.Notice]


def listed(session: Session, filters: Filters, limit: int = 50, offset: int = 0) -> Page:
    """A page of notices, the newest first."""
    conditions = [*scoped_by(filters)]
    for column, wanted in ((tables.Notice.case_no, filters.case_no), (tables.Notice.audience, filters.audience), (tables.Notice.kind, filters.kind)):
        if wanted is not None:
            conditions.append(column == wanted)
    if filters.kinds is not None:
        conditions.append(tables.Notice.kind.in_(list(filters.kinds)))
    if filters.recipient is not None:
        conditions.append(addressed_to([filters.recipient]))
    if filters.since is not None:
        conditions.append(tables.Notice.sent_at >= filters.since)
    total = session.scalar(select(func.count()).select_from(tables.Notice).where(*conditions))
    rows = session.scalars(select(tables.Notice).where(*conditions).order_by(tables.Notice.sent_at.desc(), tables.Notice.key).limit(limit).offset(offset))
    return Page(total=total or 0, rows=list(rows))


def scoped_by(filters: Filters) -> list[ColumnElement[bool]]:
    if filters.places is None and filters.recipients is None:
        return []
    either = []
    if filters.places is not None:
        # The same reading of "a case in these places" as the worklists': where it arose or who handles it now.
        cases = select(tables.Case.case_no).where(*narrowed_by(CaseFilters(places=filters.places)))
        either.append(tables.Notice.case_no.in_(cases))
    if filters.recipients is not None:
        either.append(addressed_to(filters.recipients))
    return [or_(*either)]


def addressed_to(recipients: Collection[str]) -> ColumnElement[bool]:
    """Notices to any of these: by the recipient's digest under each configured key (the name itself is sealed)."""
    sealer = Keys.get()
    return tables.Notice.recipient_digest.in_([digest for recipient in recipients for digest in sealer.digests(recipient)])
