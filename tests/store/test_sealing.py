"""Personal data at rest: the register keeps the parties, addresses, recipients and free text sealed
with the payload keys (a stolen database shows none of it), the API still shows them to staff and
still finds them, keys rotate without losing old rows, and the register's files are the owner's only."""

import asyncio
import base64
import json
import os
import random
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from onedoor import codec
from onedoor.cli import app as cli_app
from onedoor.domain.household import address_key
from onedoor.domain.labels import Audience
from onedoor.domain.messages import Notice
from onedoor.domain.week import week_of
from onedoor.settings import Settings
from onedoor.store import households, notices, register
from onedoor.store.db import alembic_config, make_engine, make_sessions, migrate, owner_only, sqlite_file, throwaway_register
from onedoor.store.reseal import reseal
from onedoor.store.sealed import seal_with
from onedoor.store.tables import Case, Household, HouseholdVisit, SupervisionOrder, WeeklyReport
from tests.cases import household_of, register_case, settle, typed_everywhere, wage_arrears, wait_for
from tests.conftest import CODEC_KEYS, SUITE_SEALER

OLD = codec.decode_keys(CODEC_KEYS)
NEW = {"test-2": base64.b64decode(codec.new_key())}


def person(name: str) -> dict:
    """A citizen with everything the register must not show: an 18-digit ID number, a phone, an address."""
    return {"name": name, "role": "applicant", "id_number": f"{random.randrange(10**17):017d}X", "phone": f"139{random.randrange(10**8):08d}",
            "address": f"城关镇幸福路 {random.randrange(10**6)} 号"}


def a_home() -> str:
    return f"城关镇东关社区 {random.randrange(10**6)} 号楼 2 单元 301"


def found(secrets: list[str], stored: bytes) -> list[str]:
    return [secret for secret in secrets if secret.encode() in stored]


def raw_register(database_url: str) -> bytes:
    """What someone holding the register's storage but not the keys reads: the SQLite file and its
    WAL byte for byte; on PostgreSQL every row of every table, as text."""
    if database := sqlite_file(database_url):
        return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    engine = create_engine(database_url)
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        rows = [row[0] for table in tables for row in connection.execute(text(f'SELECT t::text FROM "{table}" t'))]
    engine.dispose()
    return "\n".join(rows).encode()


def raw_column(database_url: str, query: str, **params) -> str:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        value = connection.execute(text(query), params).scalar_one()
    engine.dispose()
    return value


async def notices_to(api, name: str) -> list[dict]:
    """GET /notices?recipient=: the notices to this person, once the case has sent one."""
    for _ in range(200):
        rows = (await api.get("/notices", params={"recipient": name, "limit": 200})).json()["rows"]
        if rows:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"no notice to {name}")


async def test_a_whole_case_leaves_no_personal_data_in_the_register_yet_staff_see_and_find_it(api, database_url):
    party, home = person("欧阳晓燕"), a_home()
    summary = f"{party['name']}（身份证 {party['id_number']}，电话 {party['phone']}）被拖欠工资"
    case_no = await register_case(api, wage_arrears(summary=summary, household_address=home, parties=[party, {"name": "某建筑公司", "role": "respondent"}]))
    household_id = await household_of(api, case_no)
    await settle(api, case_no)
    notes = f"走访{party['name']}家，电话 {party['phone']}，情绪稳定"
    assert (await api.post(f"/households/{household_id}/visits", json={"visitor": "网格员 赵敏", "notes": notes})).status_code == 201
    spouse = person("欧阳晓燕之夫")  # a second dispute at home: the week's report lists the family's file and address
    assert await household_of(api, await register_case(api, wage_arrears(household_address=home, parties=[spouse]))) == household_id
    report = await api.post(f"/reports/139001101/{week_of(datetime.now(UTC))}")
    assert home in [h["address"] for h in report.json()["figures"]["repeat_households"]], report.text

    # Staff see it all in clear, and find the person's notices by name.
    archive = (await api.get(f"/cases/{case_no}/archive")).json()
    assert archive["parties"][0] == party | {"province_code": None} and archive["summary"] == summary
    file = (await api.get(f"/households/{household_id}")).json()
    assert file["address"] == home and file["visits"][-1]["notes"] == notes
    sent = await notices_to(api, party["name"])
    assert {row["case_no"] for row in sent} == {case_no} and {row["recipient"] for row in sent} == {party["name"]}

    stored = raw_register(database_url)
    assert case_no.encode() in stored and household_id.encode() in stored  # the register's data is really here
    assert found([party["name"], party["id_number"], party["phone"], party["address"], home, summary, notes, spouse["name"], spouse["id_number"]], stored) == []


async def test_words_typed_into_every_free_text_field_and_name_are_sealed_in_the_register_yet_staff_read_them(api, database_url):
    """A name, an 18-digit ID number and a phone typed into every free-text field and name of a whole
    case (its steps' notes, their audit's names, its household's visit) are nowhere in the register's
    storage; the case, its archive with the timeline and the audit, and the household's file show them."""
    party = person("上官秀梅")
    words = f"{party['name']}（身份证 {party['id_number']}，电话 {party['phone']}）"
    case_no = await register_case(api, wage_arrears(parties=[party, {"name": "某建筑公司", "role": "respondent"}], household_address=a_home()))
    household_id = await household_of(api, case_no)
    await typed_everywhere(api, case_no, words, court="C-FY")
    assert (await api.post(f"/households/{household_id}/visits", json={"visitor": words, "notes": f"走访：{words}"})).status_code == 201
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")

    case = (await api.get(f"/cases/{case_no}")).json()
    mediation = case["mediations"][-1]
    assert (mediation["terms"], mediation["sessions"][-1]["notes"], case["confirmation"]["applicant"]) == (f"七日内付清：{words}", f"调解：{words}", words)
    archive = (await api.get(f"/cases/{case_no}/archive")).json()  # the register's record: every step's words, every name
    assert {e["kind"] for e in archive["timeline"] if words in e["note"]} == {
        "graded", "paused", "resumed", "extended", "supervised", "handling", "responded", "fed_back", "session", "mediation", "confirmation_applied", "visit", "settled"}
    assert {a["action"] for a in archive["audit"] if words in a["actor"]} == {
        "graded", "paused", "resumed", "extended", "supervised", "handling", "responded", "fed_back", "confirmation_applied", "visit"}
    assert (await api.get(f"/households/{household_id}")).json()["visits"][-1]["visitor"] == words

    stored = raw_register(database_url)
    assert case_no.encode() in stored and household_id.encode() in stored
    assert found([party["name"], party["id_number"], party["phone"]], stored) == []


@pytest.fixture
def rotation(sessions, worker_sessions, stack):
    """Changes the register's keys as a restart with new settings would: those of the API's, the
    worker's and the tests' engines. Afterwards the register is sealed back under the suite's key:
    later tests (and apps they start with the suite's settings) read every row."""
    engines = [made().get_bind() for made in (stack.state.sessions, worker_sessions, sessions)]

    def rotate(keys: dict[str, bytes], current: str) -> None:
        for engine in engines:
            seal_with(engine, codec.FieldSealer(keys, current))

    yield rotate
    rotate(OLD | NEW, "test-1")  # the new key still opens a late write of this test's cases
    with sessions() as session:
        reseal(session)


async def notices_to_both(api, name: str, cases: set[str]) -> None:
    for _ in range(200):
        if {row["case_no"] for row in await notices_to(api, name)} == cases:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"GET /notices?recipient= did not find the notices of {cases}")


async def test_after_a_rotation_new_rows_use_the_new_key_old_ones_are_read_and_found_and_reseal_retires_the_old_key(
        api, database_url, sessions, rotation):
    party, home = person("司马卫东"), a_home()
    before = await register_case(api, wage_arrears(parties=[party], household_address=home))
    household_id = await household_of(api, before)
    await notices_to(api, party["name"])

    rotation(OLD | NEW, "test-2")
    other = {**person("司马卫东"), "role": "respondent"}  # the same name, another person
    after = await register_case(api, wage_arrears(parties=[other], household_address=f" {home.replace(' ', '')} "))
    assert await household_of(api, after) == household_id  # the family's file, found by its digest under the old key

    def sealed_with() -> dict[str, str]:
        return {case_no: raw_column(database_url, "SELECT parties FROM cases WHERE case_no = :case_no", case_no=case_no).split(":")[1] for case_no in (before, after)}

    assert sealed_with() == {before: "test-1", after: "test-2"}
    assert (await api.get(f"/cases/{before}/archive")).json()["parties"][0]["id_number"] == party["id_number"]
    assert (await api.get(f"/households/{household_id}")).json()["address"] == home
    await notices_to_both(api, party["name"], {before, after})  # one digest under each key

    rotation(NEW, "test-2")  # the old key retired too early: its rows no longer open, and say why
    with sessions() as session, pytest.raises(ValueError, match="test-1"):
        session.get(Case, before, populate_existing=True)

    rotation(OLD | NEW, "test-2")
    keys = {key_id: base64.b64encode(key).decode() for key_id, key in (OLD | NEW).items()}
    resealed = CliRunner().invoke(cli_app, ["reseal"], env={"DATABASE_URL": database_url, "ONEDOOR_CODEC_KEYS": json.dumps(keys), "ONEDOOR_CODEC_KEY_ID": "test-2"})
    assert resealed.exit_code == 0 and "sealed under key test-2" in resealed.output, resealed.output
    assert sealed_with() == {before: "test-2", after: "test-2"}
    with sessions() as session, pytest.raises(DBAPIError, match="append-only"):  # resealing its names left the audit log append-only
        session.execute(text("UPDATE audit_log SET role = 'x' WHERE case_no = :case_no"), {"case_no": before})
    rotation(NEW, "test-2")  # now the old key can go
    assert (await api.get(f"/cases/{before}/archive")).json()["parties"][0]["id_number"] == party["id_number"]
    await notices_to_both(api, party["name"], {before, after})
    with sessions() as session:
        assert households.household_for(session, "139001101", None, home, datetime.now(UTC)).id == household_id


def test_two_registers_with_keys_of_their_own_work_side_by_side_in_one_process(tmp_path):
    """The keys go with an engine, not with the process (a fault stack's API runs beside the suite's
    worker): two registers written and read in turn, each through its engine with its keys, seal under
    their own key and find their household and notices by their own digests; the same register through
    an engine with the other keys cannot open its rows, and says which key they need."""
    given = os.environ.get("DATABASE_URL")
    server = given and Settings(database_url=given).register_url
    keys = {"ours": codec.FieldSealer(OLD, "test-1"), "theirs": codec.FieldSealer(NEW, "test-2")}
    home, now = a_home(), datetime.now(UTC)
    with throwaway_register(server, tmp_path, "ours") as ours, throwaway_register(server, tmp_path, "theirs") as theirs:
        urls = {"ours": ours, "theirs": theirs}
        engines = {name: make_engine(url, keys[name]) for name, url in urls.items()}
        opened = {}
        for name, engine in engines.items():
            with make_sessions(engine)() as session:
                opened[name] = households.household_for(session, "139001101", None, home, now).id
                notices.record(session, Notice(key=f"{name}:1", audience=Audience.PARTY, recipient="欧阳晓燕", kind="received", text=f"{name}：已受理"), ["log"], now)
        for name, engine in engines.items():
            with make_sessions(engine)() as session:
                assert households.household_for(session, "139001101", None, home, now).id == opened[name]  # found, not opened again
                assert session.get(Household, opened[name]).address == home
                assert [n.text for n in notices.listed(session, notices.Filters(recipient="欧阳晓燕")).rows] == [f"{name}：已受理"]
            assert raw_column(urls[name], "SELECT address FROM households").split(":")[1] == keys[name].current

        stranger = make_engine(ours, keys["theirs"])
        with make_sessions(stranger)() as session, pytest.raises(ValueError, match="test-1"):
            session.get(Household, opened["ours"])
        for engine in (*engines.values(), stranger):
            engine.dispose()


def clear_rows(connection) -> None:
    """A register as 0008 left it, all in clear: a case with its steps (one applying to the court
    C-FY) and their audit entries and a supervision order, a household with a visit, a notice, a weekly report."""
    connection.execute(text("INSERT INTO jurisdictions (code, name, level, has_center) VALUES ('139001101', '城关镇', 'township', true)"))
    connection.execute(text(
        "INSERT INTO cases (case_no, source, category, township_code, summary, parties, stage, received_at, overdue, escalation_count, last_step) "
        "VALUES ('139001-2026-000001', 'window', '劳动争议', '139001101', '王建国被拖欠工资', :parties, 'received', '2026-11-02 08:00:00+00', false, 0, 0)"
    ), {"parties": '[{"name": "王建国", "role": "applicant", "id_number": "13012319800101123X", "phone": "13912345678"}]'})
    connection.execute(text(
        "INSERT INTO households (id, address_key, township_code, address, status, case_count, opened_at) "
        "VALUES ('HH-139001101-000001', :key, '139001101', '东关社区3号楼301', 'open', 1, '2026-11-02 08:00:00+00')"
    ), {"key": address_key("139001101", None, "东关社区3号楼301")})
    connection.execute(text("INSERT INTO household_visits (household_id, seq, at, visitor, notes) VALUES ('HH-139001101-000001', 1, '2026-11-03 08:00:00+00', '赵敏', '王建国情绪稳定')"))
    connection.execute(text(
        "INSERT INTO notices (key, case_no, audience, recipient, kind, text, channels, sent_at) "
        "VALUES ('139001-2026-000001:notice:1', '139001-2026-000001', 'party', '王建国', 'received', '您的纠纷已受理', '[\"log\"]', '2026-11-02 08:00:00+00')"
    ))
    connection.execute(text(
        "INSERT INTO weekly_reports (scope_code, week_start, generated_at, figures, charts) VALUES ('139001101', '2026-11-02', '2026-11-09 01:00:00+00', :figures, '{}')"
    ), {"figures": '{"repeat_households": [{"household_id": "HH-139001101-000001", "address": "东关社区3号楼301"}]}'})
    for seq, kind, note, actor in ((1, "mediation", "调解员 孙丽：达成协议。王建国（电话 13912345678）七日内收款", "孙丽"),
                                   (2, "confirmation_applied", "王建国 已向 C-FY 申请司法确认", "王建国")):
        values = {"key": f"{seq:04d}-{kind}", "kind": kind, "note": note, "actor": actor}
        connection.execute(text("INSERT INTO case_events (case_no, key, kind, at, note, recorded_at) "
                                "VALUES ('139001-2026-000001', :key, :kind, '2026-11-04 08:00:00+00', :note, '2026-11-04 08:00:00+00')"), values)
        connection.execute(text("INSERT INTO audit_log (case_no, key, at, actor, role, action, before, after) "
                                "VALUES ('139001-2026-000001', :key, '2026-11-04 08:00:00+00', :actor, 'party', :kind, '{}', '{}')"), values)
    connection.execute(text(
        "INSERT INTO supervision_orders (case_no, clock_id, clock, from_level, due_at, issued_at, text) "
        "VALUES ('139001-2026-000001', 1, 'response', 'township', '2026-11-03 08:00:00+00', '2026-11-03 08:00:00+00', '督办：王建国一案逾期')"))


def test_the_migration_seals_the_rows_written_before_and_opens_them_again_on_downgrade(tmp_path):
    """0009 and 0013 on a register with clear rows (SQLite, or PostgreSQL with DATABASE_URL), with the keys setup passes it."""
    given = os.environ.get("DATABASE_URL")
    sealer, asked = codec.FieldSealer(OLD, "test-1"), []

    def keys() -> codec.FieldSealer:
        asked.append(True)
        return sealer

    with throwaway_register(given and Settings(database_url=given).register_url, tmp_path, "sealing", migrated=False) as url:
        command.upgrade(alembic_config(url), "0008")
        engine = make_engine(url, sealer)
        with engine.begin() as connection:
            clear_rows(connection)
        migrate(url, keys)
        assert asked  # the keys were asked for: there were rows to seal
        secrets = ["王建国", "13012319800101123X", "13912345678", "东关社区3号楼301", "您的纠纷已受理", "孙丽", "赵敏"]
        engine.dispose()  # no connection of ours holds the old pages
        assert found(secrets, raw_register(url)) == []

        with make_sessions(engine)() as session:
            case = session.get(Case, "139001-2026-000001")
            assert case.parties[0]["id_number"] == "13012319800101123X" and case.summary == "王建国被拖欠工资"
            assert session.get(HouseholdVisit, 1).notes == "王建国情绪稳定"
            assert session.scalar(select(WeeklyReport.figures))["repeat_households"][0]["address"] == "东关社区3号楼301"
            assert households.household_for(session, "139001101", None, "东关社区 3号楼301", case.received_at).id == "HH-139001101-000001"
            assert [n.text for n in notices.listed(session, notices.Filters(recipient="王建国")).rows] == ["您的纠纷已受理"]
            steps = register.timeline(session, case.case_no)
            assert [(e.note, e.body_code) for e in steps] == [("调解员 孙丽：达成协议。王建国（电话 13912345678）七日内收款", None), ("王建国 已向 C-FY 申请司法确认", "C-FY")]
            assert [a.actor for a in register.audit_trail(session, case.case_no)] == ["孙丽", "王建国"]
            assert session.scalar(select(SupervisionOrder.text)) == "督办：王建国一案逾期"
            assert session.get(HouseholdVisit, 1).visitor == "赵敏"

        command.downgrade(alembic_config(url, keys), "0008")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT address FROM households")).scalar_one() == "东关社区3号楼301"
            assert connection.execute(text("SELECT recipient FROM notices")).scalar_one() == "王建国"
            assert connection.execute(text("SELECT note FROM case_events WHERE kind = 'confirmation_applied'")).scalar_one() == "王建国 已向 C-FY 申请司法确认"
            assert connection.execute(text("SELECT visitor FROM household_visits")).scalar_one() == "赵敏"
        engine.dispose()


def test_the_sqlite_register_and_its_wal_are_the_owners_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'register.db'}"
    migrate(url)
    engine = make_engine(url, SUITE_SEALER)
    with make_sessions(engine)() as session, session.begin():
        session.add(Household(id="HH-1", address_key="k", township_code="139001101", address="东关社区", status="open", case_count=0,
                              opened_at=datetime.now(UTC)))
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in tmp_path.iterdir()}  # the connection still open: its WAL is there
    assert modes == {"register.db": "0o600", "register.db-wal": "0o600", "register.db-shm": "0o600"}
    engine.dispose()

    older = tmp_path / "older.db"  # left world-readable by an older version: narrowed at the next start
    older.touch(mode=0o644)
    owner_only(older)
    assert oct(older.stat().st_mode & 0o777) == "0o600"
