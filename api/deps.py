"""What routes get from the application: the Temporal client, register sessions, settings."""

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import answers
from onedoor.settings import Settings


@answers(503)
def temporal(request: Request) -> Client:
    """The Temporal client, while Temporal answers (api.health.TemporalWatch): else 503 at once."""
    if not request.app.state.temporal_watch.up:
        raise HTTPException(503, "服务暂时不可用，请稍后重试 (temporal unavailable)", headers={"Retry-After": "1"})
    return request.app.state.temporal


@answers(503)  # the register unavailable (api.app's handler)
def sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def settings(request: Request) -> Settings:
    return request.app.state.settings


def party_marks_key(request: Request) -> bytes:
    """The key of the parties' marks, derived once at start (api.cases.party_mark_key)."""
    return request.app.state.party_marks_key
