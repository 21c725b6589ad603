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
