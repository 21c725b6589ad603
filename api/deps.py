"""What routes get from the application: the Temporal client, register sessions, settings."""

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from settings import Settings


def temporal(request: Request) -> Client:
    return request.app.state.temporal


def sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def settings(request: Request) -> Settings:
    return request.app.state.settings


def party_marks_key(request: Request) -> bytes:
    """The key of the parties' marks, derived once at start (api.cases.party_mark_key)."""
    return request.app.state.party_marks_key
