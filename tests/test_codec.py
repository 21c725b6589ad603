"""Payloads are sealed with AES-GCM before they reach Temporal; keys rotate without losing history."""

import base64

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from codec import EncryptionCodec, decode_keys, new_key
from store import users
from tests.cases import register_case, settle, wage_arrears
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


async def test_summaries_stay_readable_without_the_codec():
    summary = Payload(metadata={"encoding": b"json/plain"}, data='"139001-2026-000001 · 劳动争议纠纷 · 139001101"'.encode())
    assert await EncryptionCodec({"a": OLD}, "a").encode([summary]) == [summary]


async def test_after_a_whole_case_temporal_holds_no_personal_data_in_clear(api, temporal, temporal_db, handle):
    """The party's name, ID number and phone appear nowhere in the server's SQLite file, nor in the
    history fetched without the codec — but the codec endpoint shows them to a supervisor."""
    party = {"name": "欧阳明珠", "role": "applicant", "id_number": "13012319900307442X", "phone": "13912345678", "address": "城关镇幸福路 8 号"}
    form = wage_arrears(parties=[party, {"name": "某建筑公司", "role": "respondent"}])
    case_no = await register_case(api, form)
    await settle(api, case_no)

    secrets = [value.encode() for value in (party["name"], party["id_number"], party["phone"], party["address"])]
    stored = b"".join(path.read_bytes() for path in temporal_db.parent.glob(temporal_db.name + "*"))  # the file and its WAL
    assert b"139001" in stored and case_no.encode() in stored  # the server's data is really in this file
    assert [s for s in secrets if s in stored] == []
    plain = Client(temporal.client.service_client, namespace="default")  # no codec, like the UI without one
    history = await plain.get_workflow_handle(case_no).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert [s for s in secrets if s in raw] == [] and b"binary/encrypted" in raw

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
