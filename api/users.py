"""Users and their API keys (admin only). A key is returned once, when issued; only its hash is kept."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import allow
from api.deps import sessions
from api.views import Problem
from onedoor.domain.case import Code, Name, Strict
from onedoor.domain.labels import Role
from onedoor.store import users
from onedoor.store.tables import Jurisdiction, Mediator, Unit, User

router = APIRouter(prefix="/users", tags=["users 用户"], dependencies=[Depends(allow(Role.ADMIN))])
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]

# What each role must be tied to: its scope, its unit or its mediator record.
TIES = {Role.OPERATOR: "jurisdiction_code", Role.SUPERVISOR: "jurisdiction_code", Role.UNIT: "unit_code", Role.MEDIATOR: "mediator_id"}


class UserForm(Strict):
    name: Name
    role: Role
    jurisdiction_code: Code | None = None
    unit_code: Code | None = None
    mediator_id: Code | None = None

    @model_validator(mode="after")
    def tied(self):
        field = TIES.get(self.role)
        if field and getattr(self, field) is None:
            raise ValueError(f"{field}: {self.role.label}({self.role.value}) 必须填写 (required for this role)")
        return self


class UserView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    role: Role
    jurisdiction_code: str | None
    unit_code: str | None
    mediator_id: str | None
    active: bool


class IssuedKey(BaseModel):
    user: UserView
    api_key: str


def keep_an_admin(session: Session, user_id: str) -> None:
    """Someone must be able to manage users: the last active admin is neither revoked nor demoted
    (an admin revoking itself, or a fuzzing run, once locked everyone out)."""
    if users.is_last_active_admin(session, user_id):
        raise HTTPException(409, f"{user_id}: 这是唯一在用的管理员，须至少保留一名 (the last active admin cannot be revoked or demoted)")


def check_ties(session: Session, form: UserForm) -> None:
    for field, table in (("jurisdiction_code", Jurisdiction), ("unit_code", Unit), ("mediator_id", Mediator)):
        code = getattr(form, field)
        if code is not None and session.get(table, code) is None:
            raise HTTPException(422, f"{field}: {code} 不在目录中 (not in the directory)")


@router.get("", response_model=list[UserView], summary="用户列表 users")
async def list_users(make_session: Sessions) -> list[User]:
    def read():
        with make_session() as session:
            return list(session.scalars(select(User).order_by(User.id)))

    return await run_in_threadpool(read)


@router.put("/{user_id}", response_model=IssuedKey, responses={409: {"model": Problem, "description": "demoting the last active admin"}}, summary="创建或修改用户并签发密钥 create or change a user, issue a new key")
async def put_user(user_id: Code, form: UserForm, make_session: Sessions) -> IssuedKey:
    def write() -> IssuedKey:
        with make_session() as session:
            return save_user(session, user_id, form)

    return await run_in_threadpool(write)


def save_user(session: Session, user_id: str, form: UserForm) -> IssuedKey:
    """The user created or changed, with a new key (the old one stops working): the route's and the console's one way."""
    check_ties(session, form)
    if form.role != Role.ADMIN:
        keep_an_admin(session, user_id)
    user = users.ensure_user(session, user_id, active=True, **form.model_dump())
    key = users.issue_key(session, user)
    return IssuedKey(user=UserView.model_validate(user), api_key=key)


@router.delete("/{user_id}", status_code=204, responses={404: {"description": "no such user"}, 409: {"model": Problem, "description": "the last active admin"}}, summary="停用用户 revoke a user's key")
async def revoke_user(user_id: Code, make_session: Sessions) -> None:
    def write() -> None:
        with make_session() as session:
            revoke(session, user_id)

    await run_in_threadpool(write)


def revoke(session: Session, user_id: str) -> None:
    """The user's key stops working and the user is inactive (never the last active admin)."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"用户 {user_id} 不存在 (no such user)")
    keep_an_admin(session, user_id)
    user.active, user.key_hash = False, None
    session.commit()
