"""The register's personal fields, sealed at rest in one place: columns of these types are sealed
as they are written and opened as they are read (codec.FieldSealer), so the register's code and
the API see clear values and the database file only ciphertext.

A sealed column cannot be compared in SQL (every seal has a fresh nonce): what a search needs is a
keyed digest in a column beside it (notices.recipient_digest, households.address_key)."""

import json
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from onedoor.codec import FieldSealer

# The payload keys of each engine, by its dialect: a column type is handed the dialect it runs on, not
# the engine, and create_engine makes a dialect of its own for every engine. So the keys go with an
# engine (store.db.make_engine), never with the process: two registers open side by side, each with
# its keys (a test's and a fault stack's), and what one sets cannot change what the other reads.
KEYS: WeakKeyDictionary[Dialect, FieldSealer] = WeakKeyDictionary()


def seal_with(engine: Engine, sealer: FieldSealer) -> None:
    """The keys this engine seals and opens the register's personal fields with; again after a rotation."""
    KEYS[engine.dialect] = sealer


def keys_of(dialect: Dialect) -> FieldSealer:
    try:
        return KEYS[dialect]
    except KeyError:
        raise RuntimeError("the register's personal fields need the payload keys: make_engine(url, sealer=codec.field_sealer(settings))") from None


def sealer_of(session: Session) -> FieldSealer:
    """The keys of the session's engine: for the digests a search or a write makes beside sealed values."""
    return keys_of(session.get_bind().dialect)


class SealedText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keys_of(dialect).seal(self.dumps(value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.loads(keys_of(dialect).open(value))

    @staticmethod
    def dumps(value) -> str:
        return value

    @staticmethod
    def loads(text: str):
        return text


class SealedJSON(SealedText):
    cache_ok = True  # not inherited: SQLAlchemy asks each TypeDecorator class

    @staticmethod
    def dumps(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    @staticmethod
    def loads(text: str):
        return json.loads(text)
