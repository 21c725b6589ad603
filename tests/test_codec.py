"""Payloads are sealed with AES-GCM before they reach Temporal; keys rotate without losing history."""

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from sqlalchemy import select
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.converter import WorkflowSerializationContext

from onedoor.codec import EncryptionCodec, decode_keys, new_key, sealed_for
from onedoor.store import users
from onedoor.store.tables import AuditEntry
from tests.cases import current_details, decide, incident, mediate, register_case, typed_everywhere, wage_arrears, wait_for, without_codec
from tests.api.test_intake import again_about
from tests.conftest import CONVERTER

OLD, NEW = base64.b64decode(new_key()), base64.b64decode(new_key())
PARTY = Payload(metadata={"encoding": b"json/plain"}, data='{"name": "王建国", "id_number": "130123198001011234"}'.encode())


async def test_a_sealed_payload_shows_nothing_and_opens_to_the_same_bytes():
    codec = EncryptionCodec({"2026-11": NEW}, "2026-11")
    [sealed] = await codec.encode([PARTY])
    assert sealed.metadata["encoding"] == b"binary/encrypted" and sealed.metadata["encryption-key-id"] == b"2026-11"
    assert "王建国".encode() not in sealed.data and b"130123198001011234" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PARTY]
    assert (await codec.encode([PARTY]))[0].data != sealed.data  # a fresh nonce every time


async def test_after_rotation_new_payloads_use_the_new_key_and_old_ones_still_open():
    before = EncryptionCodec({"2026-05": OLD}, "2026-05")
    [old] = await before.encode([PARTY])
    after = EncryptionCodec({"2026-05": OLD, "2026-11": NEW}, "2026-11")
    [new] = await after.encode([PARTY])
    assert new.metadata["encryption-key-id"] == b"2026-11"
    assert await after.decode([old, new]) == [PARTY, PARTY]
    retired = EncryptionCodec({"2026-11": NEW}, "2026-11")
    with pytest.raises(ValueError, match="2026-05"):
        await retired.decode([old])


async def test_an_altered_payload_or_one_relabelled_to_another_key_is_refused():
    codec = EncryptionCodec({"a": OLD, "b": NEW}, "a")
    [sealed] = await codec.encode([PARTY])
    altered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"b"}, data=sealed.data)
    for bad in (altered, relabelled):
        with pytest.raises(InvalidTag):
            await codec.decode([bad])


async def test_payloads_written_before_encryption_pass_through():
    assert await EncryptionCodec({"a": OLD}, "a").decode([PARTY]) == [PARTY]


def test_keys_must_be_aes_256():
    with pytest.raises(ValueError, match="32 bytes"):
        decode_keys({"short": base64.b64encode(b"0" * 16).decode()})
    with pytest.raises(ValueError, match="not among"):
        EncryptionCodec({"a": OLD}, "b")


async def test_summaries_and_the_current_details_stay_readable_without_the_codec():
    codec = EncryptionCodec({"a": OLD}, "a")
    summary = Payload(metadata={"encoding": b"json/plain"}, data='"139001-2026-000001 · 劳动争议纠纷 · 139001101"'.encode())
    details = CONVERTER.payload_converter.to_payload(WorkflowMetadata(current_details="- **阶段**：已派单待响应"))
    assert await codec.encode([summary, details]) == [summary, details]
    other = CONVERTER.payload_converter.to_payload(Payload(data=b"a protobuf that is not the details"))
    [sealed] = await codec.encode([other])
    assert sealed.metadata["encoding"] == b"binary/encrypted"


async def test_after_a_whole_case_temporal_holds_no_personal_data_in_clear(api, police, temporal, temporal_db, handle):
    """A party's name, ID number and phone — as the party, and typed into every free-text field a case
    carries, across three cases (settled; declined; lifted, handed over, refused and referred) — appear nowhere in the server's SQLite file, nor in the histories fetched without the codec
    (as `temporal workflow show` or the UI without the codec reads them), nor in the current details; but
    the codec endpoint shows them to a supervisor."""
    party = {"name": "欧阳明珠", "role": "applicant", "id_number": "13012319900307442X", "phone": "13912345678", "address": "城关镇幸福路 8 号"}
    began = datetime.now(UTC) - timedelta(seconds=1)
    words = f"{party['name']}（身份证 {party['id_number']}，电话 {party['phone']}）"  # what a person may type anywhere
    form = wage_arrears(parties=[party, {"name": "某建筑公司", "role": "respondent"}], summary=f"{words}被拖欠工资", household_address=f"{words}家")
    case_no = await register_case(api, form)
    apart = await register_case(api, again_about(form, separate_reason=f"另一件事：{words}"))
    lifted = await register_case(api, again_about(form, separate_reason=f"又一件事：{words}"))
    joined = await api.post("/cases", json=again_about(form, summary=f"再次来访：{words}", join_case=case_no))
    assert joined.status_code == 200 and joined.json()["joined"], joined.text
    linked = await police.post("/incidents", json=incident([party], summary=f"警情：{words}"))
    assert linked.status_code == 200 and linked.json()["case_no"] in (case_no, apart, lifted), linked.text
    await typed_everywhere(api, case_no, words)
    await decide(api, apart, "decline", {"operator": words, "reason": f"不予受理：{words}"})
    await wait_for(api, lifted, lambda c: c["stage"] == "dispatched" and c["mediations"])
    await decide(api, lifted, "escalation", {"supervisor": words, "reason": f"提级：{words}"})
    await decide(api, lifted, "handover", {"supervisor": words, "to_level": "township", "reason": f"交办：{words}"})
    await mediate(api, lifted, "refused", reason=f"拒绝调解：{words}")
    await wait_for(api, lifted, lambda c: c["stage"] == "referral")
    await decide(api, lifted, "referral/acceptance", {"body_code": "C-LDZC", "reference": f"仲裁 {party['id_number']} {party['phone']}"})
    await wait_for(api, lifted, lambda c: c["stage"] == "closed")
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    await wait_for(api, apart, lambda c: c["stage"] == "closed")

    secrets = [value.encode() for value in (party["name"], party["id_number"], party["phone"], party["address"])]
    stored = b"".join(path.read_bytes() for path in temporal_db.parent.glob(temporal_db.name + "*"))  # the file and its WAL
    assert b"139001" in stored and case_no.encode() in stored  # the server's data is really in this file
    assert [s for s in secrets if s in stored] == []
    plain = without_codec(temporal.client)
    # The family's file, opened by these cases (the server holds other tests' files too, on queues no worker serves any more).
    households = [w.id async for w in plain.list_workflows(f'WorkflowType="HouseholdWorkflow" AND StartTime >= "{began.isoformat()}"')]
    assert households
    for workflow_id in (case_no, apart, lifted, *households):
        history = await plain.get_workflow_handle(workflow_id).fetch_history()
        raw = b"".join(event.SerializeToString() for event in history.events)
        assert [s for s in secrets if s in raw] == [] and b"binary/encrypted" in raw
        details = await current_details(temporal.client, workflow_id)
        assert details and [s for s in secrets if s in details.encode()] == []

    history = await plain.get_workflow_handle(case_no).fetch_history()
    first_input = MessageToDict(history.events[0].workflow_execution_started_event_attributes.input)
    response = await api.post("/codec/decode", json=first_input, headers={"X-Namespace": "default"})
    assert response.status_code == 200
    decoded = base64.b64decode(response.json()["payloads"][0]["data"]).decode()
    assert party["id_number"] in decoded and party["name"] in decoded


async def test_the_codec_endpoint_opens_a_cases_payloads_for_supervisors_of_its_scope_and_audits_it(api, sessions):
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    sealed = await CONVERTER.payload_codec.with_context(WorkflowSerializationContext(namespace="default", workflow_id=case_no)).encode([PARTY])
    body = {"payloads": [MessageToDict(p) for p in sealed]}
    unbound = {"payloads": [MessageToDict(p) for p in await CONVERTER.payload_codec.encode([PARTY])]}
    people = {"operator": ("operator", "139001101"), "supervisor": ("supervisor", "139001101"), "河东乡": ("supervisor", "139001102")}
    with sessions() as session:
        keys = {name: users.issue_key(session, users.ensure_user(session, f"codec-{name}"[:32], name=name, role=role, jurisdiction_code=place, active=True))
                for name, (role, place) in people.items()}
    async with httpx.AsyncClient(base_url=str(api.base_url)) as anonymous:
        def as_(name: str) -> dict:
            return {"Authorization": f"Bearer {keys[name]}"}

        assert (await anonymous.post("/codec/decode", json=body)).status_code == 401
        assert (await anonymous.post("/codec/decode", json=body, headers=as_("operator"))).status_code == 403
        elsewhere = await anonymous.post("/codec/decode", json=body, headers=as_("河东乡"))
        assert elsewhere.status_code == 403 and "辖区以外" in elsewhere.json()["detail"]
        # A payload sealed before cases were bound names no case: only an admin opens it.
        assert (await anonymous.post("/codec/decode", json=unbound, headers=as_("supervisor"))).status_code == 403
        assert (await api.post("/codec/decode", json=unbound)).json()["payloads"][0] == MessageToDict(PARTY)
        opened = await anonymous.post("/codec/decode", json=body, headers=as_("supervisor"))
        assert opened.status_code == 200 and opened.json()["payloads"][0] == MessageToDict(PARTY)
        assert (await anonymous.post("/codec/encode", json=body, headers=as_("supervisor"))).status_code == 403  # the UI's write forms
        altered = {"payloads": [{**body["payloads"][0], "data": base64.b64encode(b"x" * 40).decode()}]}
        for bad in (altered, {"payloads": [{"metadata": "not a map"}]}):
            refused = await anonymous.post("/codec/decode", json=bad, headers=as_("supervisor"))
            assert refused.status_code == 422 and refused.json()["detail"].startswith("payloads")
    with sessions() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.case_no == case_no, AuditEntry.action == "payloads_decoded")).all()
    assert [(entry.user_id, entry.actor, entry.after) for entry in audited] == [("codec-supervisor", "supervisor", {"payloads": 1})]


async def test_a_payload_is_bound_to_its_case_and_cannot_be_relabelled_as_another():
    codec = EncryptionCodec({"a": OLD}, "a")
    [sealed] = await codec.with_context(WorkflowSerializationContext(namespace="default", workflow_id="139001-2026-000001")).encode([PARTY])
    assert sealed_for(sealed) == "139001-2026-000001"
    assert await codec.decode([sealed]) == [PARTY]
    relabelled = Payload(metadata={**sealed.metadata, "case": b"139001-2026-000002"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec.decode([relabelled])


async def test_a_worker_refuses_unsealed_payloads_but_keeps_bare_strings():
    strict = EncryptionCodec({"a": OLD}, "a", refuse_unsealed=True)
    summary = Payload(metadata={"encoding": b"json/plain"}, data='"已派单"'.encode())
    [refused, kept] = await strict.decode([PARTY, summary])
    assert refused.metadata["encoding"] == b"onedoor/unsealed-refused" and not refused.data and kept == summary


async def test_an_update_sent_around_the_api_without_the_codec_is_rejected_not_applied(api, temporal):
    """Someone who reaches Temporal's frontend but holds no payload key cannot decide for a case."""
    case_no = await register_case(api)
    before = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    plain = Client(temporal.client.service_client, namespace="default")  # no codec: its payloads go unsealed
    session = {"mediator_id": before["mediations"][0]["mediator_id"], "held_on": "2026-11-27", "mode": "desk", "notes": "绕过接口"}
    with pytest.raises(WorkflowUpdateFailedError):
        await plain.get_workflow_handle(case_no).execute_update("record_session", session)
    # A signal is dropped: the case takes the next sealed decision as if it had never come.
    await plain.get_workflow_handle(case_no).signal("supervise", {"supervisor": "冒名督办", "order": "绕过接口的督办"})
    ordered = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": "县综治中心主任", "order": "请今日内联系当事人"})
    assert ordered.status_code == 202, ordered.text
    after = await wait_for(api, case_no, lambda c: c["supervision_orders"])
    assert [order["order"] for order in after["supervision_orders"]] == ["请今日内联系当事人"]
    assert after["mediations"] == before["mediations"] and after["stage"] == before["stage"]
