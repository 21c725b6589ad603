"""The register's personal fields, sealed at rest in one place: columns of these types are sealed
as they are written and opened as they are read (codec.FieldSealer), so the register's code and
the API see clear values and the database file only ciphertext.

A sealed column cannot be compared in SQL (every seal has a fresh nonce): what a search needs is a
keyed digest in a column beside it (notices.recipient_digest, households.address_key)."""

import json

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from onedoor.codec import FieldSealer


class Keys:
    """The process's sealer: the API, the worker and `onedoor setup`/`up` set it from their settings
    before they touch the register (column types are built at import, settings come later)."""

    sealer: FieldSealer | None = None

    @classmethod
    def use(cls, sealer: FieldSealer) -> None:
        cls.sealer = sealer

    @classmethod
    def get(cls) -> FieldSealer:
        if cls.sealer is None:
            raise RuntimeError("the register's personal fields need the payload keys: store.sealed.Keys.use(codec.field_sealer(settings)) first")
        return cls.sealer


class SealedText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else Keys.get().seal(self.dumps(value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.loads(Keys.get().open(value))

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
