"""Payloads are sealed with AES-GCM before they reach Temporal; keys rotate without losing history."""

import base64

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import WorkflowMetadata

from codec import EncryptionCodec, decode_keys, new_key
from store import users
from tests.cases import current_details, decide, incident, mediate, register_case, typed_everywhere, wage_arrears, wait_for, without_codec
from tests.test_intake import again_about
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
    households = [w.id async for w in plain.list_workflows('WorkflowType="HouseholdWorkflow"')]  # the family's file among them
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


async def test_the_codec_endpoint_opens_payloads_for_supervisors_of_the_ui_origin_only(api, settings, sessions):
    sealed = await CONVERTER.payload_codec.encode([PARTY])
    body = {"payloads": [MessageToDict(p) for p in sealed]}
    with sessions() as session:
        operator = users.ensure_user(session, "codec-operator", name="受理员", role="operator", jurisdiction_code="139001101", active=True)
        operator_key = users.issue_key(session, operator)
    async with httpx.AsyncClient(base_url=str(api.base_url)) as anonymous:
        assert (await anonymous.post("/codec/decode", json=body)).status_code == 401
        refused = await anonymous.post("/codec/decode", json=body, headers={"Authorization": f"Bearer {operator_key}"})
        assert refused.status_code == 403
        # The UI cannot send our key: a supervisor signs in once and the cookie does it.
        assert (await anonymous.post("/codec/session", json={"api_key": operator_key})).status_code == 403
        admin_key = api.headers["Authorization"].removeprefix("Bearer ")
        assert (await anonymous.post("/codec/session", json={"api_key": admin_key})).status_code == 204
        opened = await anonymous.post("/codec/decode", json=body)
        assert opened.status_code == 200 and opened.json()["payloads"][0] == MessageToDict(PARTY)
        altered = {"payloads": [{**body["payloads"][0], "data": base64.b64encode(b"x" * 40).decode()}]}
        for bad in (altered, {"payloads": [{"metadata": "not a map"}]}):
            refused = await anonymous.post("/codec/decode", json=bad)
            assert refused.status_code == 422 and refused.json()["detail"].startswith("payloads")

        ui = settings.temporal_ui_origin
        preflight = {"Origin": ui, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}
        allowed = await anonymous.options("/codec/decode", headers=preflight)
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ui
        assert allowed.headers["access-control-allow-credentials"] == "true"
        elsewhere = await anonymous.options("/codec/decode", headers={**preflight, "Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in elsewhere.headers
