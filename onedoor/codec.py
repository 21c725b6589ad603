"""Personal data never reaches Temporal's database in clear: every payload the worker and the API
send is sealed with AES-256-GCM under a named key. New payloads use the current key; any key still
configured opens old ones, so keys rotate without re-encrypting history."""

import base64
import dataclasses
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import ActivitySerializationContext, DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec, SerializationContext, WithSerializationContext, WorkflowSerializationContext

from onedoor.settings import Settings

ENCODING = b"binary/encrypted"
NONCE_BYTES = 12
CASE = "case"  # metadata naming the case a payload was sealed for: the codec endpoint checks it against the reader's scope
# What an unsealed payload from outside becomes in a worker that refuses them: no converter knows this
# encoding, so the SDK drops such a signal (with a warning) and rejects such an update, unapplied.
REFUSED = b"onedoor/unsealed-refused"


# The Temporal UI reads a case's current details through this query: its answer holds the details
# (and the names of the workflow's handlers), built by the workflow from codes and fixed words.
DETAILS = b"temporal.api.sdk.v1.WorkflowMetadata"


def is_plain_text(payload: Payload) -> bool:
    """A bare string (a summary, a timer's name, a code) or the current details: they stay readable in
    the Temporal UI without the codec, so they never carry personal data nor a person's own words (the
    workflows build them from codes and fixed Chinese; people's words travel only inside models, which
    are sealed). tests/test_codec.py checks Temporal's database for a name, an ID number and a phone
    typed into every free-text field of a whole case."""
    if payload.metadata.get("messageType") == DETAILS:
        return True
    return payload.metadata.get("encoding") == b"json/plain" and payload.data[:1] == b'"'


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """Seals with the current key and the case the payload belongs to (the workflow id the SDK gives as
    serialization context) bound in as associated data; opens with any configured key.

    `refuse_unsealed` is the worker's: a payload that reaches a case unsealed (not encrypted, not a
    bare string) was sent straight to Temporal's frontend, around the API and its roles, and is
    refused. Histories recorded before payloads were sealed replay only where it is off (the
    replay tests, and ONEDOOR_CODEC_ACCEPT_UNSEALED for a deployment whose open cases predate it)."""

    def __init__(self, keys: Mapping[str, bytes], current: str, refuse_unsealed: bool = False, case_no: str | None = None):
        if current not in keys:
            raise ValueError(f"payload key {current!r} is not among the configured keys {sorted(keys)}")
        self.keys = keys
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        self.refuse_unsealed = refuse_unsealed
        self.case_no = case_no

    def with_context(self, context: SerializationContext) -> "EncryptionCodec":
        case_no = context.workflow_id if isinstance(context, (WorkflowSerializationContext, ActivitySerializationContext)) else None
        return EncryptionCodec(self.keys, self.current, self.refuse_unsealed, case_no)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        if is_plain_text(payload):
            return payload
        nonce = os.urandom(NONCE_BYTES)
        metadata = {"encoding": ENCODING, "encryption-key-id": self.current.encode()}
        if self.case_no:
            metadata[CASE] = self.case_no.encode()
        sealed = self.ciphers[self.current].encrypt(nonce, payload.SerializeToString(), associated_data(metadata))
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self.refuse_unsealed and not is_plain_text(payload):
                return Payload(metadata={"encoding": REFUSED})
            return payload  # written before encryption was on (old histories replay as they are)
        key_id = payload.metadata["encryption-key-id"].decode()
        if key_id not in self.ciphers:
            raise ValueError(f"payload sealed with key {key_id!r}, which is no longer configured")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        return Payload.FromString(self.ciphers[key_id].decrypt(nonce, sealed, associated_data(payload.metadata)))


def associated_data(metadata: Mapping[str, bytes]) -> bytes:
    """The key id, and the case when one is named: a payload cannot be passed off under another key,
    nor relabelled as another case's. Payloads sealed before cases were bound carry the key id only."""
    key_id = metadata["encryption-key-id"]
    return key_id + b"\x00" + metadata[CASE] if CASE in metadata else key_id


def sealed_for(payload: Payload) -> str | None:
    """The case a sealed payload was bound to (None: sealed before binding, or for no case)."""
    case_no = payload.metadata.get(CASE)
    return case_no.decode() if case_no else None


FIELD_PREFIX = "sealed:"


class FieldSealer:
    """The register's personal fields (parties, addresses, recipients, free text), sealed with the
    payload keys: "sealed:<key id>:<base64 of nonce and AES-256-GCM>". As with payloads, new values
    use the current key and any key still configured opens old ones. What the register searches by
    is kept beside as a keyed digest (HMAC-SHA256 under a key derived from each payload key): equal
    values give equal digests, which is all a stolen register shows of them."""

    def __init__(self, keys: Mapping[str, bytes], current: str):
        if current not in keys:
            raise ValueError(f"payload key {current!r} is not among the configured keys {sorted(keys)}")
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        # A key of its own for digests (HMAC as a KDF), the current one first: searches try each.
        derived = {key_id: hmac.new(key, b"onedoor register digests", hashlib.sha256).digest() for key_id, key in keys.items()}
        self.digest_keys = [derived[current], *(key for key_id, key in derived.items() if key_id != current)]
        self.current = current

    def seal(self, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        # Bound to the key id, and told apart from a payload: neither can be passed off as the other.
        sealed = self.ciphers[self.current].encrypt(nonce, text.encode(), b"field:" + self.current.encode())
        return f"{FIELD_PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, value: str) -> str:
        if not value.startswith(FIELD_PREFIX):
            raise ValueError("a register field is not sealed (run `onedoor migrate`)")
        key_id, _, sealed = value.removeprefix(FIELD_PREFIX).rpartition(":")
        if key_id not in self.ciphers:
            raise ValueError(f"register field sealed with key {key_id!r}, which is no longer configured")
        data = base64.b64decode(sealed)
        return self.ciphers[key_id].decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], b"field:" + key_id.encode()).decode()

    def digest(self, text: str) -> str:
        """The digest a value is written with: under the current key."""
        return hmac.new(self.digest_keys[0], text.encode(), hashlib.sha256).hexdigest()

    def digests(self, text: str) -> list[str]:
        """The digests a value may have been written with, one per configured key: a search finds
        rows written before a rotation while their key is still configured."""
        return [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in self.digest_keys]


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def decode_keys(keys: Mapping[str, str]) -> dict[str, bytes]:
    decoded = {key_id: base64.b64decode(key, validate=True) for key_id, key in keys.items()}
    for key_id, key in decoded.items():
        if len(key) != 32:
            raise ValueError(f"payload key {key_id!r} must be 32 bytes (base64 of an AES-256 key), not {len(key)}")
    return decoded


def ensure_key_file(path: Path) -> None:
    """The embedded stack's keys, made once before its services start so they all share them."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps({"current": "local-1", "keys": {"local-1": new_key()}}, indent=2))


def data_converter(keys: Mapping[str, bytes], current: str, refuse_unsealed: bool = False) -> DataConverter:
    # A failure's message and stack trace go into a payload too, and so are sealed: a unit system's
    # refusal may echo the document it refused, a party's name in it (docs/security.md).
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys, current, refuse_unsealed),
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def configured_keys(settings: Settings) -> tuple[dict[str, bytes], str]:
    """The payload keys by id, and the id of the one that seals: configured, or the key file."""
    if settings.codec_keys:
        keys = {key_id: key.get_secret_value() for key_id, key in settings.codec_keys.items()}
        current = settings.codec_key_id or list(keys)[-1]
    elif settings.codec_key_file.exists():
        stored = json.loads(settings.codec_key_file.read_text())
        keys, current = stored["keys"], settings.codec_key_id or stored["current"]
    else:
        raise SystemExit(f"no payload keys: set ONEDOOR_CODEC_KEYS, or run `onedoor up` once to create {settings.codec_key_file}")
    return decode_keys(keys), current


def field_sealer(settings: Settings) -> FieldSealer:
    """The register's sealer of personal fields: the payload keys, configured or the key file."""
    return FieldSealer(*configured_keys(settings))


def converter_for(settings: Settings, refuse_unsealed: bool = False) -> DataConverter:
    """The data converter of every Temporal client of ours: configured keys, or the key file."""
    return data_converter(*configured_keys(settings), refuse_unsealed=refuse_unsealed)
