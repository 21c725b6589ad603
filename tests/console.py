"""The console over HTTP, as a browser without script talks to it: a client signed in through the
sign-in form, sending its form posts from the API's own origin (the console refuses others). Its fixture
`console` comes through tests/conftest.py."""

import httpx
import pytest

from tests.browser import person


@pytest.fixture
async def console(stack, settings, sessions):
    """console(role, name, **ties): a client signed in as a new user of this role (ties: jurisdiction_code, unit_code, mediator_id)."""
    origin = f"http://127.0.0.1:{settings.api_port}"
    clients = []

    async def signed_in(role: str, name: str, **ties) -> httpx.AsyncClient:
        clients.append(client := httpx.AsyncClient(base_url=origin, timeout=30, headers={"Origin": origin}))
        answer = await client.post("/console/signin", data={"api_key": person(sessions, role, name, **ties), "next": "/console"})
        assert answer.status_code == 303, answer.text
        return client

    yield signed_in
    for client in clients:
        await client.aclose()
