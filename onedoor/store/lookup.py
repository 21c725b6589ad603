"""便民服务 in the register: what lets a citizen look up their case's progress with its number and
the last four digits of a party's phone — a keyed digest of the two, written at registration, so
the check reads neither the parties nor a phone (which may be sealed at rest) — and the little a
lookup answers: never a party's data, nor a note."""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from onedoor.domain.case import Party
from onedoor.store.incidents import normalised_phone
from onedoor.store.register import insert_ignoring_duplicates
from onedoor.store.tables import Case, Jurisdiction, LookupDigest, Unit


def digest(key: bytes, case_no: str, last_four: str) -> str:
    # "lookup:" keeps these apart from the party marks made with the same key ("id:", "np:").
    return hmac.new(key, f"lookup:{case_no}:{last_four}".encode(), hashlib.sha256).hexdigest()


def digests(key: bytes, case_no: str, parties: Iterable[Party]) -> set[str]:
    """One per party phone: any party who left a phone may look the case up."""
    return {digest(key, case_no, normalised_phone(party.phone)[-4:]) for party in parties if party.phone}


def remember(session: Session, case_no: str, found: Iterable[str]) -> None:
    """Written, not committed: the caller commits them with the case row."""
    for value in found:
        insert_ignoring_duplicates(session, LookupDigest, dict(case_no=case_no, digest=value), ["case_no", "digest"])


@dataclass(frozen=True)
class Progress:
    case_no: str
    stage: str
    level: str | None
    jurisdiction_name: str | None  # the center handling it now
    lead_unit_name: str | None
    received_at: datetime
    closed_at: datetime | None


def progress(session: Session, key: bytes, case_no: str, last_four: str) -> Progress | None:
    """The case's progress when the number and the digits match a party's phone; None otherwise,
    alike for an unknown number and a wrong phone (one query either way)."""
    handling, township = aliased(Jurisdiction), aliased(Jurisdiction)
    matches = exists().where(LookupDigest.case_no == Case.case_no, LookupDigest.digest == digest(key, case_no, last_four))
    row = session.execute(
        # Before triage no level holds it: the township's center, where it was received.
        select(Case.case_no, Case.stage, Case.level, func.coalesce(handling.name, township.name), Unit.name, Case.received_at, Case.closed_at)
        .outerjoin(handling, handling.code == Case.jurisdiction_code)
        .outerjoin(township, township.code == Case.township_code)
        .outerjoin(Unit, Unit.code == Case.lead_unit)
        .where(Case.case_no == case_no, matches)
    ).first()
    return Progress(*row) if row else None
