"""Who is calling: every route but /healthz, the docs and the citizens' progress lookup (/lookup) needs a bearer key (`Authorization: Bearer
od_…`). A route names the roles it serves; a case is visible only inside the caller's scope, and
outside it answers exactly as a case that does not exist (404), so nothing leaks across townships."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from api.deps import sessions
from api.errors import answers
from onedoor.domain.decisions import SignedIn
from onedoor.domain.labels import Role
from onedoor.store import directory, users
from onedoor.store.tables import Case, CaseClock, CaseEvent, Household
from workflows.household import HOUSEHOLD_PREFIX

bearer = HTTPBearer(auto_error=False, description="API key issued by an admin (`POST /users`); `onedoor up` prints one for the admin")
SESSION_COOKIE = "onedoor_session"  # the Temporal UI's browser session (api/ui.py): a random id, never the API key


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: Role
    jurisdiction_code: str | None
    unit_code: str | None
    mediator_id: str | None

    @property
    def signed_in(self) -> SignedIn:
        """What a decision carries to the case and the audit of who took it."""
        return SignedIn(user_id=self.id, role=self.role, jurisdiction_code=self.jurisdiction_code)


def unauthenticated(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


async def principal_for_key(make_session: sessionmaker[Session], key: str) -> Principal:
    principal = await run_in_threadpool(find_principal, make_session, users.user_for_key, key)
    if principal is None:
        raise unauthenticated("密钥无效或已停用 (unknown or revoked API key)")
    return principal


async def principal_for_session(make_session: sessionmaker[Session], token: str | None) -> Principal | None:
    """The user a Temporal UI browser session belongs to; None when there is none, or it expired or was closed."""
    return await run_in_threadpool(find_principal, make_session, users.user_for_ui_session, token) if token else None


def find_principal(make_session: sessionmaker[Session], lookup, secret: str) -> Principal | None:
    with make_session() as session:
        user = lookup(session, secret)
        return user and Principal(user.id, user.name, Role(user.role), user.jurisdiction_code, user.unit_code, user.mediator_id)


@answers(401)
async def signed_in(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
) -> Principal:
    if credentials is None:
        raise unauthenticated("需要登录：Authorization: Bearer <API key> (authentication required)")
    return await principal_for_key(make_session, credentials.credentials)


def allow(*roles: Role):
    """A dependency: the caller, if their role is one of these (an admin may act in any role)."""

    @answers(403)
    async def check(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
        if principal.role != Role.ADMIN and principal.role not in roles:
            allowed = "、".join(f"{role.label}({role.value})" for role in roles)
            raise HTTPException(403, f"{principal.role.label}无权执行此操作，仅限{allowed} (role {principal.role.value} not allowed)")
        return principal

    return check


def may_see_place(session: Session, principal: Principal, place_code: str) -> bool:
    """An admin sees everywhere; operators and supervisors their jurisdiction and below."""
    return principal.role == Role.ADMIN or (principal.jurisdiction_code is not None and principal.jurisdiction_code in directory.ancestry(session, place_code))


def may_see(session: Session, principal: Principal, case: Case) -> bool:
    """A case is in scope for its jurisdiction's operators and supervisors (and those above), the
    units it was dispatched or referred to (a unit's or a body's clock: response, feedback, referral,
    partner reply), the court its judicial confirmation was applied to, and its mediator. A backstop
    body sees only what was referred to it, not every case of the county."""
    if principal.role in (Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR):
        return may_see_place(session, principal, case.village_code or case.township_code)
    if principal.role == Role.MEDIATOR:
        return case.mediator_id == principal.mediator_id
    return principal.unit_code is not None and session.scalar(
        select(
            exists().where(CaseClock.case_no == case.case_no, CaseClock.unit_code == principal.unit_code)
            | exists().where(CaseEvent.case_no == case.case_no, CaseEvent.kind == "confirmation_applied", CaseEvent.body_code == principal.unit_code)
        )
    )


def may_see_workflow(session: Session, principal: Principal, workflow_id: str) -> bool:
    """A case's workflow, or a household file's, in the caller's scope (the Temporal UI and its codec);
    any other (a weekly report's) is an admin's."""
    if workflow_id.startswith(HOUSEHOLD_PREFIX):
        household = session.get(Household, workflow_id.removeprefix(HOUSEHOLD_PREFIX))
        return household is not None and may_see_place(session, principal, household.village_code or household.township_code)
    case = session.get(Case, workflow_id)
    return principal.role == Role.ADMIN or (case is not None and may_see(session, principal, case))


async def visible_case(case_no: str, principal: Principal, make_session: sessionmaker[Session]) -> None:
    """404 unless the case is in the register and in the caller's scope."""

    def check() -> bool:
        with make_session() as session:
            case = session.get(Case, case_no)
            return case is not None and may_see(session, principal, case)

    if not await run_in_threadpool(check):
        raise HTTPException(404, f"案件 {case_no} 不存在 (no such case)")


def case_reader(*roles: Role):
    """A dependency for /cases/{case_no}/…: the caller, if their role is allowed and the case is theirs to see."""

    @answers(404)
    async def check(case_no: str, request: Request, principal: Annotated[Principal, Depends(allow(*roles))]) -> Principal:
        await visible_case(case_no, principal, request.app.state.sessions)
        return principal

    return check


def effective_scope(session: Session, principal: Principal, requested: str | None, field: str) -> str | None:
    """The jurisdiction a list or report is limited to: the one asked for, when the caller's scope
    covers it (else 404, as if it did not exist); by default the caller's own (an admin's: none)."""
    if principal.role == Role.ADMIN:
        return requested
    if principal.jurisdiction_code is None:
        raise HTTPException(403, f"{principal.role.label}没有辖区，不能查看辖区清单 (no jurisdiction to list)")
    if requested is None:
        return principal.jurisdiction_code
    if principal.jurisdiction_code not in directory.ancestry(session, requested):
        raise HTTPException(404, f"{field}: {requested} 不存在或不在您的辖区内 (unknown, or outside your jurisdiction)")
    return requested
