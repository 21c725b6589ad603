"""The unit's people answering what their system received: through onedoor's API with the unit's
key, or by the unit's system calling onedoor's signed callback. Both carry the same answers."""

import asyncio
from collections.abc import Callable

import httpx
import structlog

from onedoor import signing
from onedoor.domain.documents import DispatchDocument, Document, PartnerNoticeDocument, ReferralDocument, UnitCallback
from onedoor.simulator.script import Script
from onedoor.simulator.units import Delivery, UnitCredentials

log = structlog.get_logger("simulator")
SENDS = 5  # a unit's system tries an answer this often while onedoor answers 5xx or cannot be reached


def answers_to(document: Document, reference: str, script: Script) -> list[tuple[float, UnitCallback]]:
    """(seconds after delivery, answer): what the unit says about each kind of document."""
    case_no = document.case_no
    match document:
        case DispatchDocument():
            return [
                (script.respond_after, UnitCallback(kind="response", case_no=case_no, handler="模拟承办人")),
                (script.feedback_after, UnitCallback(kind="feedback", case_no=case_no, handler="模拟承办人", summary="已按职责处理（模拟）")),
            ]
        case ReferralDocument():
            return [(script.respond_after, UnitCallback(kind="referral_acceptance", case_no=case_no, reference=reference))]
        case PartnerNoticeDocument():
            reply = UnitCallback(kind="partner_reply", case_no=case_no, joint_mediation=True, mediator="协作调解员 孙立平", summary="同意联合调解（模拟）")
            return [(script.respond_after, reply)]
    return []  # police statuses and supervision orders are kept, not answered


def api_request(unit: str, answer: UnitCallback) -> tuple[str, dict]:
    """The same answer as the unit's staff would give it through the API: (path, body)."""
    case = f"/cases/{answer.case_no}"
    match answer.kind:
        case "response":
            return f"{case}/response", {"unit_code": unit, "handler": answer.handler}
        case "feedback":
            return f"{case}/feedback", {"unit_code": unit, "handler": answer.handler, "summary": answer.summary}
        case "referral_acceptance":
            return f"{case}/referral/acceptance", {"body_code": unit, "reference": answer.reference}
        case "partner_reply":
            return f"{case}/partner/reply", {"partner_code": unit, "joint_mediation": answer.joint_mediation, "mediator": answer.mediator, "note": answer.summary}


class Staff:
    """Answers each accepted document as its script says, and notes onedoor's status for each answer."""

    def __init__(self, api: httpx.AsyncClient, credentials: Callable[[str], UnitCredentials | None]):
        self.api = api
        self.credentials = credentials

    async def answer(self, unit: str, delivery: Delivery, script: Script) -> None:
        elapsed = 0.0
        for after, answer in answers_to(delivery.document, delivery.reference, script):
            await asyncio.sleep(max(0.0, after - elapsed))
            elapsed = max(elapsed, after)
            # The answer's own idempotency key: unique to the delivery, the same at every resend.
            key = f"{delivery.idempotency_key}:{answer.kind}"
            delivery.answers[answer.kind] = await self.send(unit, answer, key, script.answer)
            log.info("unit answered", unit=unit, case_no=answer.case_no, kind=answer.kind, status=delivery.answers[answer.kind])

    async def send(self, unit: str, answer: UnitCallback, key: str, way: str) -> int:
        """onedoor's HTTP status for the answer (0: never reached it)."""
        credentials = await asyncio.to_thread(self.credentials, unit) or UnitCredentials(api_key=None, signing_secret=None)
        if way == "callback" and not credentials.signing_secret:
            log.warning("no signing secret: cannot call back", unit=unit)
            return 0
        status = 0
        for attempt in range(SENDS):
            if attempt:
                await asyncio.sleep(0.2 * 2**attempt)
            try:
                response = await (self.call_back(unit, answer, key, credentials.signing_secret) if way == "callback" else self.call_api(unit, answer, key, credentials.api_key))
            except httpx.TransportError:
                continue
            status = response.status_code
            if status < 500:
                break
        return status

    def call_back(self, unit: str, answer: UnitCallback, key: str, secret: str):
        # Signed at every send: the timestamp is fresh, the key stays the same.
        body = answer.model_dump_json(exclude_none=True).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", **signing.sign(secret, body, key)}
        return self.api.post(f"/callbacks/{unit}", content=body, headers=headers)

    def call_api(self, unit: str, answer: UnitCallback, key: str, api_key: str | None):
        path, body = api_request(unit, answer)
        headers = {signing.IDEMPOTENCY_KEY: key} | ({"Authorization": f"Bearer {api_key}"} if api_key else {})
        return self.api.post(path, json=body, headers=headers)
