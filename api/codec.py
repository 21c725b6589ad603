"""The codec endpoint the Temporal UI calls to show a case's payloads in clear: the same AES-GCM
codec as the worker's, over Temporal's remote-codec JSON protocol. The UI is served on the API's
origin (api/ui.py), so its calls carry the signed-in supervisor's session cookie; a bearer key works
too. A payload opens only for a reader whose scope covers the case it was sealed for, and each
decode is written to that case's audit trail (who, when)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Cookie, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel, Field
from sqlalchemy import select
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from onedoor import codec
from api.auth import SESSION_COOKIE, Principal, allow, bearer, may_see_workflow, principal_for_key, principal_for_session, unauthenticated
from api.errors import answers
from onedoor.domain.labels import Role
from onedoor.store.tables import AuditEntry, Case


@answers(401, 403, 503)  # 503: the register, read through app.state
async def reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Principal:
    make_session = request.app.state.sessions
    principal = await principal_for_key(make_session, credentials.credentials) if credentials else await principal_for_session(make_session, token)
    if principal is None:
        raise unauthenticated("需要督办人员登录：/ui/signin")
    return await allow(Role.SUPERVISOR)(principal)


async def writer(principal: Annotated[Principal, Depends(reader)]) -> Principal:
    """Encoding is for the UI's signal and update forms: writes through the UI are an admin's alone (api/ui.py)."""
    return await allow(Role.ADMIN)(principal)


router = APIRouter(prefix="/codec", tags=["codec 载荷解密"])


class WirePayloads(BaseModel):
    payloads: list[dict] = Field(description='Temporal payloads as JSON: {"metadata": {name: base64}, "data": base64}')


def payload_codec(request: Request) -> PayloadCodec:
    return request.app.state.temporal.data_converter.payload_codec


def parse(body: WirePayloads) -> list[Payload]:
    try:
        return [ParseDict(payload, Payload()) for payload in body.payloads]
    except ParseError as error:
        raise HTTPException(422, f"payloads: 不是 Temporal 载荷 (not a Temporal payload): {error}")


def wire(payloads: list[Payload]) -> WirePayloads:
    return WirePayloads(payloads=[MessageToDict(payload) for payload in payloads])


def cases_in_scope(make_session, principal: Principal, payloads: list[Payload]) -> dict[str, int]:
    """The cases (and household files) the sealed payloads belong to, with how many each: 403 unless
    the reader may see every one. A payload sealed for no case (before cases were bound) opens for an
    admin only."""
    bound = [codec.sealed_for(payload) for payload in payloads if payload.metadata.get("encoding") == codec.ENCODING]
    with make_session() as session:
        if principal.role != Role.ADMIN and (None in bound or not all(may_see_workflow(session, principal, workflow_id) for workflow_id in set(bound))):
            raise HTTPException(403, "payloads: 载荷属于您辖区以外的案件，不能解密 (a payload of a case outside your scope)")
        cases = set(session.scalars(select(Case.case_no).where(Case.case_no.in_([workflow_id for workflow_id in bound if workflow_id]))))
    return {case_no: bound.count(case_no) for case_no in cases}


def audit_decode(make_session, principal: Principal, opened: dict[str, int]) -> None:
    """Each case's audit trail records who read its payloads in clear, and when (a household file's
    decodes are in the API's log: the audit trail is the cases')."""
    now = datetime.now(UTC)
    with make_session() as session:
        for case_no, count in opened.items():
            session.add(AuditEntry(
                case_no=case_no, key=f"decoded-{uuid.uuid4().hex}", at=now, actor=principal.name, role=principal.role.value, user_id=principal.id,
                user_role=principal.role.value, user_jurisdiction=principal.jurisdiction_code, action="payloads_decoded", before={}, after={"payloads": count},
            ))
        session.commit()


@router.post("/decode", summary="解密载荷 decode payloads for the Temporal UI (in scope, audited)")
async def decode(
    body: WirePayloads, request: Request, principal: Annotated[Principal, Depends(reader)], payload_codec: Annotated[PayloadCodec, Depends(payload_codec)]
) -> WirePayloads:
    payloads = parse(body)
    cases = await run_in_threadpool(cases_in_scope, request.app.state.sessions, principal, payloads)
    try:
        opened = wire(await payload_codec.decode(payloads))
    except (InvalidTag, ValueError, KeyError) as error:
        raise HTTPException(422, f"payloads: 无法解密 (cannot be decrypted: {error or 'wrong key or altered data'})")
    await run_in_threadpool(audit_decode, request.app.state.sessions, principal, cases)
    return opened


@router.post("/encode", summary="加密载荷 encode payloads (the UI's signal and update forms: admins only)")
async def encode(body: WirePayloads, payload_codec: Annotated[PayloadCodec, Depends(payload_codec)], _: Annotated[Principal, Depends(writer)]) -> WirePayloads:
    return wire(await payload_codec.encode(parse(body)))
