"""Notifications (通知): the notify activity on a real Temporal worker, telling a real HTTP receiver
(the webhook and the SMS gateway) each notice once per key; and GET /notices within each caller's scope."""

import asyncio
import json
import uuid
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from onedoor import signing
from activities.notifications import NotificationActivities
from api.app import create_app
from onedoor.domain.case import CaseFile, Intake
from onedoor.domain.labels import Audience
from onedoor.domain.messages import Notice
from onedoor.domain.policy import Policy
from onedoor.notifications import NotificationSetupError, build_notifiers
from onedoor.notifications.log import LogNotifier
from onedoor.notifications.sms import SmsNotifier
from onedoor.notifications.webhook import WebhookNotifier
from onedoor.settings import Settings
from onedoor.store import notices, register, users
from onedoor.store import tables
from tests.cases import wage_arrears
from tests.conftest import free_port, serve

SECRET = "notification-test-secret"
PHONE = "13800138000"


@workflow.defn(sandboxed=False)
class NotifyTimes:
    """Asks for the same notice `times` times, as a replayed or repeated workflow step would."""

    @workflow.run
    async def run(self, notice: Notice, times: int) -> None:
        for _ in range(times):
            await workflow.execute_activity(
                "notify", notice, start_to_close_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), backoff_coefficient=1.0, maximum_attempts=5),
            )


class Receiver:
    """A unit's notification endpoint and an SMS gateway: what they accepted, by idempotency key,
    and scripted answers ("slow" or a status) to give each key's first attempts."""

    def __init__(self):
        self.accepted: dict[str, list[dict]] = defaultdict(list)
        self.attempts: dict[str, int] = defaultdict(int)
        self.script: dict[str, list[str | int]] = {}
        self.raw: dict[str, bytes] = {}

    async def answer(self, key: str) -> JSONResponse | None:
        self.attempts[key] += 1
        planned = self.script.get(key)
        if not planned:
            return None
        step = planned.pop(0)
        if step == "slow":
            await asyncio.sleep(1.5)
            return JSONResponse({"detail": "too late"}, 200)
        return JSONResponse({"detail": f"scripted {step}"}, int(step))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/notifications")
        async def notification(request: Request):
            body = await request.body()
            try:
                signing.verify(SECRET, body, request.headers.get(signing.TIMESTAMP), request.headers.get(signing.SIGNATURE), request.headers.get(signing.IDEMPOTENCY_KEY))
            except signing.BadSignature as bad:
                return JSONResponse({"detail": str(bad)}, 401)
            key = request.headers[signing.IDEMPOTENCY_KEY]
            if scripted := await self.answer(key):
                return scripted
            self.raw[key] = body
            self.accepted[key].append({"content_type": request.headers["content-type"], **json.loads(body)})
            return {"ok": True}

        @app.post("/sms")
        async def sms(request: Request):
            key = request.headers[signing.IDEMPOTENCY_KEY]
            if scripted := await self.answer(key):
                return scripted
            self.accepted[key].append(await request.json())
            return {"message_id": f"m-{len(self.accepted)}"}

        return app


@pytest.fixture(scope="module")
async def receiver():
    receiver, port = Receiver(), free_port()
    server, task = await serve(receiver.app(), port)
    receiver.url = f"http://127.0.0.1:{port}"
    yield receiver
    server.should_exit = True
    await task


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=1) as client:
        yield client


@pytest.fixture
def notify(temporal, sessions):
    """Run NotifyTimes on a worker whose notify activity tells these notifiers."""

    async def run(notifiers, notice: Notice, times: int = 1, lookup_url: str | None = None) -> None:
        queue = f"notify-{uuid.uuid4().hex[:8]}"
        async with Worker(temporal.client, task_queue=queue, workflows=[NotifyTimes], workflow_runner=UnsandboxedWorkflowRunner(),
                          activities=NotificationActivities(sessions, notifiers, lookup_url).all()):
            await temporal.client.execute_workflow(NotifyTimes.run, args=[notice, times], id=f"notify-{notice.key}", task_queue=queue)

    return run


def party_notice(**changes) -> Notice:
    fields = dict(key=f"n-{uuid.uuid4().hex[:12]}", case_no="139001-2026-000001", audience=Audience.PARTY, recipient="王建国", phone=PHONE,
                  kind="intake", text="王建国您好，您的纠纷已受理，案件编号 139001-2026-000001，可凭编号查询办理进度。")
    return Notice(**(fields | changes))


def unit_notice(**changes) -> Notice:
    return party_notice(audience=Audience.UNIT, recipient="T101-LDS", phone=None, kind="reminder", text="案件 139001-2026-000001 响应时限将至，请尽快响应。", **changes)


def recorded(sessions, key: str) -> tables.Notice | None:
    with sessions() as session:
        return session.get(tables.Notice, key)


async def test_a_notice_is_sent_once_per_key_even_when_notify_runs_twice(receiver, http, notify, sessions):
    webhook = WebhookNotifier(f"{receiver.url}/notifications", SECRET, http)
    notice = party_notice()
    await notify([LogNotifier(), webhook], notice, times=2)
    await notify([LogNotifier(), webhook], notice)  # a later run asking again: still recorded, not resent
    [sent] = receiver.accepted[notice.key]
    assert receiver.attempts[notice.key] == 1
    assert sent["content_type"] == "application/json; charset=utf-8" and sent["schema_version"] == "onedoor.notification/v1"
    assert (sent["key"], sent["audience"], sent["recipient"], sent["text"]) == (notice.key, "party", "王建国", notice.text)
    assert sent["at"].endswith("+08:00") and PHONE not in json.dumps(sent)  # the receiver is told who and what, not the phone
    assert notice.text.encode("utf-8") in receiver.raw[notice.key]  # UTF-8 as it is, not \u escapes
    row = recorded(sessions, notice.key)
    assert (row.case_no, row.audience, row.recipient, row.kind, row.channels) == (notice.case_no, "party", "王建国", "intake", ["log", "webhook"])


async def test_a_5xx_or_a_timeout_is_retried_under_the_same_key(receiver, http, notify, sessions):
    webhook = WebhookNotifier(f"{receiver.url}/notifications", SECRET, http)
    notice = unit_notice()
    receiver.script[notice.key] = [503, "slow", 429]
    await notify([webhook], notice)
    assert receiver.attempts[notice.key] == 4 and len(receiver.accepted[notice.key]) == 1
    assert recorded(sessions, notice.key).channels == ["webhook"]


async def test_a_4xx_is_not_retried_and_nothing_is_recorded(receiver, http, notify, sessions):
    webhook = WebhookNotifier(f"{receiver.url}/notifications", SECRET, http)
    notice = unit_notice()
    receiver.script[notice.key] = [400]
    with pytest.raises(WorkflowFailureError) as failed:
        await notify([webhook], notice)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.non_retryable and cause.type == "NotificationRejected" and "400" in cause.message
    assert receiver.attempts[notice.key] == 1 and not receiver.accepted[notice.key]
    assert recorded(sessions, notice.key) is None


async def test_a_bad_secret_is_refused_by_the_receiver(receiver, http, notify):
    notice = unit_notice()
    with pytest.raises(WorkflowFailureError) as failed:
        await notify([WebhookNotifier(f"{receiver.url}/notifications", "not-the-secret", http)], notice)
    assert "401" in failed.value.cause.cause.message and not receiver.accepted[notice.key]


async def test_the_log_is_the_default_channel_and_never_carries_the_phone_the_name_or_the_words(notify, http, sessions):
    notifiers = build_notifiers(Settings(), http)
    assert [n.name for n in notifiers] == ["log"]
    notice = party_notice()
    with structlog.testing.capture_logs() as lines:
        await notify(notifiers, notice)
    [line] = [line for line in lines if line["event"] == "notice" and line["key"] == notice.key]  # other tests' cases notify meanwhile
    assert (line["audience"], line["recipient"], line["kind"], line["case_no"], line["characters"]) == ("party", "王**", "intake", notice.case_no, len(notice.text))
    assert "text" not in line  # the words are the register's (GET /notices), sealed: they may hold what someone typed
    assert PHONE not in json.dumps(lines, ensure_ascii=False)
    assert recorded(sessions, notice.key).channels == ["log"]


async def test_sms_goes_only_to_notices_with_a_phone(receiver, http, notify, sessions):
    notifiers = build_notifiers(Settings(notify_channels="log,sms", sms_url=f"{receiver.url}/sms"), http)
    party, unit = party_notice(), unit_notice()
    receiver.script[party.key] = [502]
    await notify(notifiers, party, times=2)
    await notify(notifiers, unit)
    assert receiver.accepted[party.key] == [{"phone": PHONE, "text": party.text, "key": party.key}]
    assert receiver.attempts[party.key] == 2 and unit.key not in receiver.attempts
    assert recorded(sessions, party.key).channels == ["log", "sms"] and recorded(sessions, unit.key).channels == ["log"]


async def test_the_registration_sms_names_the_lookup_page_when_the_public_address_is_set(receiver, http, notify, sessions):
    notifiers = build_notifiers(Settings(notify_channels="sms", sms_url=f"{receiver.url}/sms"), http)
    lookup_url = Settings(public_url="https://tiaojie.example.gov.cn/").lookup_url
    registered, reminded = party_notice(kind="received"), party_notice(kind="closed")
    for notice in (registered, reminded):
        await notify(notifiers, notice, lookup_url=lookup_url)
    told = registered.text + "查询网址：https://tiaojie.example.gov.cn/lookup（输入案件编号和手机号后四位）"
    assert [sent["text"] for sent in receiver.accepted[registered.key]] == [told] and recorded(sessions, registered.key).text == told
    assert [sent["text"] for sent in receiver.accepted[reminded.key]] == [reminded.text]  # only the registration's promise names it


class RecordingProvider:
    sent: list[tuple[str, str, str]] = []

    def __init__(self, settings: Settings):
        self.sender = settings.sms_url  # a provider reads its own settings (here: which account)

    async def send_sms(self, phone: str, text: str, key: str) -> str:
        self.sent.append((phone, text, key))
        return f"{self.sender}-{len(self.sent)}"


def recording_provider(settings: Settings, http: httpx.AsyncClient) -> RecordingProvider:
    return RecordingProvider(settings)


async def test_a_real_sms_provider_plugs_in_by_module_and_factory(http, notify, sessions):
    settings = Settings(notify_channels=["sms"], sms_provider="tests.notifications.test_notifications:recording_provider", sms_url="account-1")
    [sms] = build_notifiers(settings, http)
    assert isinstance(sms, SmsNotifier) and isinstance(sms.provider, RecordingProvider)
    notice = party_notice()
    await notify([sms], notice, times=2)
    assert [sent for sent in RecordingProvider.sent if sent[2] == notice.key] == [(PHONE, notice.text, notice.key)]


def test_a_channel_without_its_configuration_is_refused_at_startup():
    with pytest.raises(ValidationError, match="notify_channels"):
        Settings(notify_channels="log,fax")
    with pytest.raises(NotificationSetupError, match="ONEDOOR_NOTIFICATION_WEBHOOK_URL"):
        build_notifiers(Settings(notify_channels="webhook", notification_webhook_url="http://x"), None)
    with pytest.raises(NotificationSetupError, match="ONEDOOR_SMS_URL"):
        build_notifiers(Settings(notify_channels="sms"), None)
    with pytest.raises(NotificationSetupError, match="ONEDOOR_SMS_PROVIDER"):
        build_notifiers(Settings(notify_channels="sms", sms_provider="tests.no_such_module:factory"), None)
    with pytest.raises(ValidationError, match="sms_provider"):
        Settings(notify_channels="sms", sms_provider="not a path")


# --- GET /notices: each caller sees what concerns them ---------------------------------------

@asynccontextmanager
async def api_as(settings, keys: dict[str, str]):
    port = free_port()
    server, task = await serve(create_app(settings.model_copy(update={"api_port": port})), port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield lambda who, **params: client.get("/notices", params=params, headers={"Authorization": f"Bearer {keys[who]}"})
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="module")
def sent(sessions, keys):
    """A case in 城关镇 and one in 河东乡, notices about them and to centers, all of one kind of this run; keys to read them."""
    kind = f"scope-{uuid.uuid4().hex[:8]}"
    serial = uuid.uuid4().int % 90000 + 910000
    here, there = f"139001-2026-{serial}", f"139001-2026-{serial + 1}"
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    letters = {
        "A": Notice(key=f"{kind}-A", case_no=here, audience=Audience.UNIT, recipient="T101-LDS", kind=kind, text="请响应"),
        "B": Notice(key=f"{kind}-B", case_no=here, audience=Audience.PARTY, recipient="王建国", phone=PHONE, kind=kind, text="已受理"),
        "C": Notice(key=f"{kind}-C", case_no=there, audience=Audience.UNIT, recipient="T102-SFS", kind=kind, text="请响应"),
        "D": Notice(key=f"{kind}-D", audience=Audience.OPERATOR, recipient="139001102", kind=kind, text="单位系统不可用，已转收件箱"),
        "E": Notice(key=f"{kind}-E", audience=Audience.OPERATOR, recipient="139001", kind=kind, text="县级通知"),
    }
    people = {
        "operator of 城关镇": dict(role="operator", jurisdiction_code="139001101"),
        "operator of 河东乡": dict(role="operator", jurisdiction_code="139001102"),
        "county supervisor": dict(role="supervisor", jurisdiction_code="139001"),
        "unit": dict(role="unit", unit_code="T101-LDS"),
        "mediator": dict(role="mediator", mediator_id="M-S-1"),
    }
    with sessions() as session:
        for case_no, township in ((here, "139001101"), (there, "139001102")):
            form = wage_arrears(place={"township_code": township})
            form.pop("client_request_id")
            register.record_intake(session, CaseFile(case_no=case_no, intake=Intake.model_validate(form), received_at=start, policy=Policy()))
        for n, notice in enumerate(letters.values()):
            notices.record(session, notice, ["log"], start + timedelta(seconds=n))
        readers = {"admin": keys["admin"]}
        for n, (name, fields) in enumerate(people.items()):
            fields = {"jurisdiction_code": None, "unit_code": None, "mediator_id": None, **fields}
            readers[name] = users.issue_key(session, users.ensure_user(session, f"notices-{n}", name=name, active=True, **fields))
    return kind, here, start, readers


async def test_each_caller_lists_the_notices_in_their_scope(settings, sent):
    kind, here, start, readers = sent
    expected = {"admin": "EDCBA", "county supervisor": "EDCBA", "operator of 城关镇": "BA", "operator of 河东乡": "DC", "unit": "A"}
    async with api_as(settings, readers) as get:
        for who, letters in expected.items():
            listed = (await get(who, kind=kind)).json()
            assert "".join(row["key"][-1] for row in listed["rows"]) == letters and listed["total"] == len(letters), who
        assert (await get("mediator", kind=kind)).status_code == 403
        # Someone else's case is as if it had no notices.
        assert (await get("operator of 河东乡", kind=kind, case_no=here)).json()["total"] == 0


async def test_notices_filter_and_page_in_beijing_time(settings, sent):
    kind, here, start, readers = sent
    async with api_as(settings, readers) as get:
        [party] = (await get("admin", kind=kind, audience="party")).json()["rows"]
        assert (party["case_no"], party["recipient"], party["channels"]) == (here, "王建国", ["log"])
        assert datetime.fromisoformat(party["sent_at"]) == start + timedelta(seconds=1) and party["sent_at"].endswith("+08:00")
        assert "phone" not in party
        assert [r["key"][-1] for r in (await get("admin", kind=kind, case_no=here)).json()["rows"]] == ["B", "A"]
        assert [r["key"][-1] for r in (await get("admin", kind=kind, recipient="139001102")).json()["rows"]] == ["D"]
        beijing = (start + timedelta(seconds=3)).astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)
        assert [r["key"][-1] for r in (await get("admin", kind=kind, since=beijing.isoformat())).json()["rows"]] == ["E", "D"]  # naive: Beijing time
        page = (await get("admin", kind=kind, limit=2, offset=2)).json()
        assert (page["total"], [r["key"][-1] for r in page["rows"]]) == (5, ["C", "B"])
        for bad in ({"since": "yesterday"}, {"audience": "everyone"}, {"limit": 0}, {"since": "0001-01-01T00:00:00"}):
            refused = await get("admin", **bad)
            assert refused.status_code == 422 and next(iter(bad)) in refused.json()["detail"], refused.text
