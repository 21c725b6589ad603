"""The codec endpoint the Temporal UI calls to show a case's payloads in clear (its "Codec Server"
setting): the same AES-GCM codec as the worker's, over Temporal's remote-codec JSON protocol, for
supervisors only. The UI cannot send our bearer key, so a supervisor signs in once at
/codec/session, which leaves an HttpOnly cookie that only these routes accept."""

from pathlib import Path
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Cookie, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from api.auth import SESSION_COOKIE, Principal, allow, bearer, principal_for_key, unauthenticated
from api.errors import answers
from domain.labels import Role

SESSION_HOURS = 8  # a working day


@answers(401, 403, 503)  # 503: the register, read through app.state
async def supervisor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Principal:
    key = credentials.credentials if credentials else cookie
    if key is None:
        raise unauthenticated("需要督办人员登录：/codec/session (a supervisor must sign in)")
    principal = await principal_for_key(request.app.state.sessions, key)
    return await allow(Role.SUPERVISOR)(principal)


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


@router.post("/decode", summary="解密载荷 decode payloads for the Temporal UI", dependencies=[Depends(supervisor)])
async def decode(body: WirePayloads, codec: Annotated[PayloadCodec, Depends(payload_codec)]) -> WirePayloads:
    try:
        return wire(await codec.decode(parse(body)))
    except (InvalidTag, ValueError, KeyError) as error:
        raise HTTPException(422, f"payloads: 无法解密 (cannot be decrypted: {error or 'wrong key or altered data'})")


@router.post("/encode", summary="加密载荷 encode payloads (the UI's signal and update forms)", dependencies=[Depends(supervisor)])
async def encode(body: WirePayloads, codec: Annotated[PayloadCodec, Depends(payload_codec)]) -> WirePayloads:
    return wire(await codec.encode(parse(body)))


class SignIn(BaseModel):
    api_key: str


@router.get("/session", response_class=HTMLResponse, summary="督办人员登录页 sign-in page for the UI's codec")
async def sign_in_page() -> HTMLResponse:
    return HTMLResponse((Path(__file__).parent / "templates" / "codec_session.html").read_text(encoding="utf-8"))


@router.post("/session", status_code=204, responses=dict.fromkeys((401, 403, 503), {}), summary="督办人员登录 sign in for the UI's codec calls")
async def sign_in(form: SignIn, request: Request, response: Response) -> None:
    await allow(Role.SUPERVISOR)(await principal_for_key(request.app.state.sessions, form.api_key))
    response.set_cookie(SESSION_COOKIE, form.api_key, max_age=SESSION_HOURS * 3600, path="/codec", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
