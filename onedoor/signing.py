"""HMAC-SHA256 signatures on what crosses to and from outside systems (units, police, partners).

The signature covers the timestamp, the idempotency key and the exact body bytes, so none can be
altered; a receiver refuses a timestamp outside the tolerance, and the key (which it remembers)
refuses a replay inside it — a captured message cannot be resent under a new key.
"""

import hashlib
import hmac
import secrets
import time

TIMESTAMP = "X-Onedoor-Timestamp"
SIGNATURE = "X-Onedoor-Signature"
IDEMPOTENCY_KEY = "Idempotency-Key"
SCHEME = "v1"
TOLERANCE = 300  # seconds either way: clocks drift, a replay much later is refused outright


class BadSignature(ValueError):
    """The message is not from who it claims, was altered, or is too old: refuse it."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, key: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{key}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def sign(secret: str, body: bytes, idempotency_key: str, now: float | None = None) -> dict[str, str]:
    """The headers that go with a body: timestamp, signature, idempotency key."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP: timestamp, SIGNATURE: signature(secret, timestamp, idempotency_key, body), IDEMPOTENCY_KEY: idempotency_key}


def verify(secret: str | None, body: bytes, timestamp: str | None, given: str | None, key: str | None, now: float | None = None) -> None:
    """Raise BadSignature unless the body and its key were signed with the secret within the tolerance
    (a receiver without a secret can verify nothing: it refuses)."""
    if not secret:
        raise BadSignature("未配置签名密钥，无法验签 (no signing secret to verify with)")
    if not timestamp or not given or not key:
        raise BadSignature(f"缺少签名 (missing {TIMESTAMP}, {SIGNATURE} or {IDEMPOTENCY_KEY})")
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (ValueError, OverflowError):  # not digits, or more than a float holds
        raise BadSignature(f"{TIMESTAMP} 不是 Unix 秒数 (not a Unix time)") from None
    if age > TOLERANCE:
        raise BadSignature(f"签名已过期 (timestamp {age:.0f} s away, more than {TOLERANCE} s)")
    # Bytes, not str: compare_digest refuses a str with a non-ASCII character (a header may hold any byte).
    if not hmac.compare_digest(signature(secret, timestamp, key, body).encode(), given.encode("utf-8", "surrogateescape")):
        raise BadSignature("签名不符 (signature does not match the body)")
