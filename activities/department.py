"""The department gateway: deliver a document to a unit's own system (signed webhook) or to its inbox.

Every unit in the directory, the police platform, the courts and bodies and the partner center
included, is reached the same way: the unit's channel decides how, its signing secret signs.
"""

import asyncio
from datetime import datetime, timezone

import httpx
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from onedoor import signing
from onedoor.domain.labels import Channel
from onedoor.domain.messages import DispatchOrder, DispatchReceipt
from onedoor.store import register
from onedoor.store.tables import Unit

# A unit's 4xx means the document is wrong for it: retrying would send the same thing again.
RETRYABLE_CLIENT_ERRORS = {408, 429}
# Shorter than the workflow's start_to_close per attempt (15 s): a hung endpoint gives the worker
# slot back as a timeout, which Temporal's retry policy then retries.
ATTEMPT_TIMEOUT = httpx.Timeout(10.0)


class DepartmentGateway:
    def __init__(self, sessions: sessionmaker[Session], http: httpx.AsyncClient):
        self.sessions = sessions
        self.http = http

    def unit(self, unit_code: str) -> Unit:
        with self.sessions() as session:
            unit = session.get(Unit, unit_code)
        if unit is None:
            raise ApplicationError(f"目录中没有单位 {unit_code} (unknown unit)", type="UnknownUnit", non_retryable=True)
        return unit

    @activity.defn
    async def dispatch_to_unit(self, order: DispatchOrder) -> DispatchReceipt:
        document = order.document
        unit = await asyncio.to_thread(self.unit, order.recipient)
        if unit.channel == Channel.INBOX or not unit.endpoint_url:
            # No system of its own: its staff see the case in their worklist and answer through the API.
            await asyncio.to_thread(self.record_delivery, document.case_no, order.idempotency_key, f"已推送至 {unit.code} 收件箱")
            return DispatchReceipt(unit_code=unit.code, status_code=0, channel=Channel.INBOX)
        if not unit.signing_secret:
            # Never send unsigned: the unit could not tell our document from a forged one.
            raise ApplicationError(
                f"单位 {unit.code} 未配置签名密钥，不能投递 (no signing secret for unit {unit.code}: refusing to send unsigned)",
                type="NoSigningSecret",
                non_retryable=True,
            )
        body = document.model_dump_json().encode()
        # Signed at each attempt: a retry after a long outage carries a fresh timestamp.
        headers = {"Content-Type": "application/json; charset=utf-8", **signing.sign(unit.signing_secret, body, order.idempotency_key)}
        try:
            response = await self.http.post(unit.endpoint_url, content=body, headers=headers, timeout=ATTEMPT_TIMEOUT)
        except httpx.TransportError as error:  # timeouts, refused or dropped connections: the system is down, retry
            raise ApplicationError(f"单位 {unit.code} 系统无法连接 (unit system unreachable: {type(error).__name__})", type="UnitUnreachable") from error
        if not response.is_success:
            raise unit_failure(unit.code, response)
        reference = unit_reference(response)
        activity.logger.info("document delivered", extra={"case_no": document.case_no, "unit": unit.code, "schema": document.schema_version})
        # The delivery goes into the case's timeline here, keyed by its idempotency key: a retry writes once.
        note = f"{unit.code} 系统已接收（回执 {reference or response.status_code}）"
        await asyncio.to_thread(self.record_delivery, document.case_no, order.idempotency_key, note)
        return DispatchReceipt(unit_code=unit.code, status_code=response.status_code, unit_reference=reference)

    def record_delivery(self, case_no: str, idempotency_key: str, note: str) -> None:
        with self.sessions() as session:
            register.record_event(session, case_no, f"delivered-{idempotency_key.split(':', 1)[1]}"[:64], "delivered", datetime.now(timezone.utc), note)


def unit_failure(unit_code: str, response: httpx.Response) -> ApplicationError:
    """5xx, 408 and 429 are the unit's system struggling: retried. Any other answer is a refusal
    of this document, which the operator must see: retrying would only send it again."""
    status, answer = response.status_code, response.text[:300]
    if status >= 500 or status in RETRYABLE_CLIENT_ERRORS:
        return ApplicationError(f"单位 {unit_code} 系统暂时不可用 (unit system answered {status}): {answer}", type="UnitUnavailable")
    return ApplicationError(f"单位 {unit_code} 系统拒收 (unit system rejected the document, HTTP {status}): {answer}", type="UnitRejected", non_retryable=True)


def unit_reference(response: httpx.Response) -> str | None:
    """The unit's own file number, when its answer carries one; an answer without it is still a receipt."""
    try:
        answer = response.json()
    except ValueError:
        return None
    reference = answer.get("reference") if isinstance(answer, dict) else None
    return str(reference)[:64] if reference is not None else None
