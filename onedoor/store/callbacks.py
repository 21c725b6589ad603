"""Receipts of units' signed callbacks, by idempotency key: the same callback lands once; and
every signature seen, so the same signed bytes are acted on once whatever the answer."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from onedoor import signing
from onedoor.store.register import insert_ignoring_duplicates
from onedoor.store.tables import CallbackReceipt, SpentSignature

# A signature verifies only within TOLERANCE of its timestamp, which may itself be TOLERANCE ahead
# of its first sight: after twice that, no copy can verify again and its record may go.
SPENT_KEPT = timedelta(seconds=2 * signing.TOLERANCE)


def spend(session: Session, unit_code: str, signature: str) -> bool:
    """Record the signature as used; False when this unit's callback with it was seen before."""
    now = datetime.now(UTC)
    session.execute(delete(SpentSignature).where(SpentSignature.seen_at < now - SPENT_KEPT))
    spent = insert_ignoring_duplicates(session, SpentSignature, dict(unit_code=unit_code, signature=signature, seen_at=now), ["unit_code", "signature"])
    session.commit()
    return spent


def claim(session: Session, unit_code: str, key: str, case_no: str) -> bool:
    """Keep the receipt; False when this unit already sent a callback under this key."""
    claimed = insert_ignoring_duplicates(session, CallbackReceipt, dict(unit_code=unit_code, key=key, case_no=case_no), ["unit_code", "key"])
    session.commit()
    return claimed


def release(session: Session, unit_code: str, key: str) -> None:
    """Forget a receipt whose callback the case refused, so a corrected one under the same key can land."""
    session.execute(delete(CallbackReceipt).where(CallbackReceipt.unit_code == unit_code, CallbackReceipt.key == key))
    session.commit()
