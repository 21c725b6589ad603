"""API users and their keys. A key is shown once, when issued; the register keeps only its SHA-256
(a random 256-bit key needs no slow hash: there is nothing to guess)."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onedoor.store.tables import UiSession, User

KEY_PREFIX = "od_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session: Session, user: User) -> str:
    """A new key for the user; the old one stops working at once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    user.key_hash = key_hash(key)
    session.commit()
    return key


def user_for_key(session: Session, key: str) -> User | None:
    return session.scalar(select(User).where(User.key_hash == key_hash(key), User.active.is_(True)))


def ensure_user(session: Session, user_id: str, **fields) -> User:
    """The user with this id, created or updated to these fields."""
    user = session.get(User, user_id) or User(id=user_id, created_at=datetime.now(UTC))
    for name, value in fields.items():
        setattr(user, name, value)
    session.add(user)
    session.commit()
    return user


def is_last_active_admin(session: Session, user_id: str) -> bool:
    """Whether this user is the only active admin. Every active admin's row is locked (PostgreSQL) until
    the caller commits, in one order: two admins revoking each other at once are taken one after the other."""
    admins = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).with_for_update()).all()
    return admins == [user_id]


def issue_system_keys(session: Session, unit_codes: list[str]) -> dict[str, str]:
    """A fresh key for each unit's system account (`sys-<unit>`), by unit code."""
    keys = {}
    for code in unit_codes:
        user = ensure_user(session, f"sys-{code}"[:32], name=f"{code} 系统", role="unit", unit_code=code, jurisdiction_code=None, mediator_id=None, active=True)
        keys[code] = issue_key(session, user)
    return keys


def open_ui_session(session: Session, user: User, lasts: timedelta) -> str:
    """A new session id for the user's browser (shown once, in its cookie); expired ones are cleared."""
    now = datetime.now(UTC)
    session.execute(delete(UiSession).where(UiSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(UiSession(id_hash=key_hash(token), user_id=user.id, created_at=now, expires_at=now + lasts))
    session.commit()
    return token


def user_for_ui_session(session: Session, token: str) -> User | None:
    """The active user of an unexpired session."""
    return session.scalar(
        select(User).join(UiSession, UiSession.user_id == User.id)
        .where(UiSession.id_hash == key_hash(token), UiSession.expires_at > datetime.now(UTC), User.active.is_(True))
    )


def close_ui_session(session: Session, token: str) -> None:
    session.execute(delete(UiSession).where(UiSession.id_hash == key_hash(token)))
    session.commit()
