"""The receivers of onedoor's notification port: a webhook (signed notices) and an SMS gateway.
Each counts what it gets by idempotency key, so a test sees a notice sent once."""

import time
from collections.abc import Callable

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from onedoor import signing
from onedoor.domain.documents import NotificationDocument


class Sms(BaseModel):
    phone: str
    text: str
    key: str


class Received(BaseModel):
    key: str
    count: int = Field(0, description="how many times it arrived under this key")
    first_at: float = Field(description="Unix time of its first arrival")
    message: NotificationDocument | Sms


def notification_receivers(secret: str | None) -> tuple[APIRouter, Callable[[], None]]:
    """The routes, and a reset that forgets everything received."""
    router = APIRouter(tags=["notifications 通知"])
    notices: dict[str, Received] = {}
    texts: dict[str, Received] = {}

    def count(book: dict[str, Received], key: str, message: NotificationDocument | Sms) -> Received:
        received = book.setdefault(key, Received(key=key, first_at=time.time(), message=message))
        received.count += 1
        return received

    @router.post("/notifications")
    async def notification(
        request: Request,
        timestamp: str | None = Header(None, alias=signing.TIMESTAMP),
        signature: str | None = Header(None, alias=signing.SIGNATURE),
        idempotency_key: str | None = Header(None, alias=signing.IDEMPOTENCY_KEY),
    ) -> dict:
        body = await request.body()
        try:
            signing.verify(secret, body, timestamp, signature, idempotency_key)
        except signing.BadSignature as bad:
            raise HTTPException(401, str(bad))
        try:
            notice = NotificationDocument.model_validate_json(body)
        except ValidationError as invalid:
            raise HTTPException(422, str(invalid))
        return {"count": count(notices, notice.key, notice).count}

    @router.get("/notifications")
    async def notifications() -> list[Received]:
        return list(notices.values())

    @router.post("/sms")
    async def sms(message: Sms) -> dict:
        return {"count": count(texts, message.key, message).count}

    @router.get("/sms")
    async def sent_texts() -> list[Received]:
        return list(texts.values())

    def reset() -> None:
        notices.clear()
        texts.clear()

    return router, reset
