"""Receipts of units' signed callbacks, by idempotency key: the same callback lands once."""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from store.register import insert_ignoring_duplicates
from store.tables import CallbackReceipt


def claim(session: Session, unit_code: str, key: str, case_no: str) -> bool:
    """Keep the receipt; False when this unit already sent a callback under this key."""
    claimed = insert_ignoring_duplicates(session, CallbackReceipt, dict(unit_code=unit_code, key=key, case_no=case_no), ["unit_code", "key"])
    session.commit()
    return claimed


def release(session: Session, unit_code: str, key: str) -> None:
    """Forget a receipt whose callback the case refused, so a corrected one under the same key can land."""
    session.execute(delete(CallbackReceipt).where(CallbackReceipt.unit_code == unit_code, CallbackReceipt.key == key))
    session.commit()
