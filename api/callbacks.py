"""A unit's own system answers a case through our signed webhook: `POST /callbacks/{unit_code}`.

No bearer key: the unit's system signs the body with the secret it shares with us (signing.py).
The answer lands as the same workflow update as the API's route for it, with the same refusals;
each callback's Idempotency-Key is kept, so a replayed callback is refused, and each signature is
spent on first sight, so a refused callback's bytes replayed later do not land either.
"""

from collections.abc import Callable
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from onedoor import signing
from api.auth import Principal, visible_case
from api.cases import REFUSED, ask, case_handle
from api.deps import sessions, temporal
from api.views import Problem, in_beijing_time
from onedoor.domain.decisions import PartnerReply, ReferralAnswer, UnitFeedback, UnitResponse
from onedoor.domain.documents import UnitCallback
from onedoor.domain.labels import Role
from onedoor.domain.state import CaseState
from onedoor.store import callbacks
from onedoor.store.tables import Unit
from workflows.dispute_case import DisputeCaseWorkflow

router = APIRouter(prefix="/callbacks", tags=["callbacks 单位回调"])
log = structlog.get_logger("api")

W = DisputeCaseWorkflow
# Each kind of callback: the fields it needs, the update it lands as, and that update's input,
# always in the name of the unit in the path.
LANDS_AS: dict[str, tuple[tuple[str, ...], object, Callable[[str, UnitCallback], BaseModel]]] = {
    "response": (("handler",), W.respond, lambda unit, c: UnitResponse(unit_code=unit, handler=c.handler, note=c.summary)),
    "feedback": (("handler", "summary"), W.give_feedback, lambda unit, c: UnitFeedback(unit_code=unit, handler=c.handler, summary=c.summary)),
    "referral_acceptance": (("reference",), W.answer_referral, lambda unit, c: ReferralAnswer(body_code=unit, reference=c.reference)),
    "partner_reply": (
        ("joint_mediation", "summary"),
        W.partner_reply,
        lambda unit, c: PartnerReply(partner_code=unit, joint_mediation=c.joint_mediation, mediator=c.mediator, note=c.summary),
    ),
}
SIGNED = {
    **REFUSED,
    401: {"model": Problem, "description": "signature, timestamp or Idempotency-Key missing, the signature not matching them and the body, or the timestamp too old"},
    404: {"model": Problem, "description": "no such unit, or no such case"},
    409: {"model": Problem, "description": "a callback with this Idempotency-Key was received before, its signature was used before, or the case is not at this stage"},
}
BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": UnitCallback.model_json_schema()}}}}


def signing_secret(make_session: sessionmaker[Session], unit_code: str) -> str | None:
    with make_session() as session:
        unit = session.get(Unit, unit_code)
        if unit is None:
            raise HTTPException(404, f"单位 {unit_code} 不存在 (no such unit)")
        return unit.signing_secret


@router.post("/{unit_code}", response_model=CaseState, responses=SIGNED, openapi_extra=BODY,
             summary="单位系统回调（签名）a unit's system answers a case: response, feedback, referral acceptance, partner reply")
async def unit_callback(
    unit_code: str,
    request: Request,
    client: Annotated[Client, Depends(temporal)],
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
    timestamp: Annotated[str | None, Header(alias=signing.TIMESTAMP, description="Unix seconds, signed with the body")] = None,
    signature: Annotated[str | None, Header(alias=signing.SIGNATURE, description="v1=HMAC-SHA256(secret, timestamp.key.body), hex")] = None,
    # Signed with the body: without it nothing can be verified, so its absence is a 401 like a missing signature's.
    idempotency_key: Annotated[str | None, Header(alias=signing.IDEMPOTENCY_KEY, max_length=128, description="the callback's own key, signed with the body: sent twice, refused")] = None,
) -> CaseState:
    body = await request.body()
    secret = await run_in_threadpool(signing_secret, make_session, unit_code)
    try:
        signing.verify(secret, body, timestamp, signature, idempotency_key)
    except signing.BadSignature as bad:
        log.warning("callback refused", unit=unit_code, reason=str(bad))
        raise HTTPException(401, str(bad))
    # Spent on first sight, whatever the answer below: a refused callback's bytes, replayed once the
    # case has moved on, must not land. A corrected or retried callback is signed afresh.
    if not await run_in_threadpool(spend, make_session, unit_code, signature):
        raise HTTPException(409, f"重复回调：签名已使用过，更正或重发须重新签名 (replayed callback: this {signing.SIGNATURE} was already used; sign a corrected or retried callback afresh)")
    # Only a verified body is parsed: nothing an outsider sends gets further than the signature.
    try:
        callback = UnitCallback.model_validate_json(body)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors())
    required, update, decision_for = LANDS_AS[callback.kind]
    for field in required:
        if getattr(callback, field) is None:
            raise HTTPException(422, f"{field}: {callback.kind} 回调须填写此项 (required for a {callback.kind} callback)")
    try:
        decision = decision_for(unit_code, callback)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors())
    handle = case_handle(callback.case_no, client)
    # The unit's system sees the cases its staff would see through the API, no others.
    await visible_case(callback.case_no, unit_system(unit_code), make_session)

    if not await run_in_threadpool(claim, make_session, unit_code, idempotency_key, callback.case_no):
        raise HTTPException(409, f"重复回调 (replayed callback: {signing.IDEMPOTENCY_KEY} {idempotency_key} was received before)")
    try:
        state = await ask(handle, handle.execute_update(update, decision))
    except Exception:
        # Refused (or Temporal unavailable): nothing landed, so the key is free for a corrected callback.
        await run_in_threadpool(release, make_session, unit_code, idempotency_key)
        raise
    log.info("callback landed", unit=unit_code, kind=callback.kind, key=idempotency_key)
    return in_beijing_time(state)


def unit_system(unit_code: str) -> Principal:
    """The unit's system as the API knows it (its `sys-<unit>` account), for the same case scope."""
    return Principal(id=f"sys-{unit_code}", name=f"{unit_code} 系统", role=Role.UNIT, jurisdiction_code=None, unit_code=unit_code, mediator_id=None)


def claim(make_session: sessionmaker[Session], unit_code: str, key: str, case_no: str) -> bool:
    with make_session() as session:
        return callbacks.claim(session, unit_code, key, case_no)


def spend(make_session: sessionmaker[Session], unit_code: str, signature: str) -> bool:
    with make_session() as session:
        return callbacks.spend(session, unit_code, signature)


def release(make_session: sessionmaker[Session], unit_code: str, key: str) -> None:
    with make_session() as session:
        callbacks.release(session, unit_code, key)
