"""免打扰 (revision 9): in quiet hours a notice to a party waits for their end, unless the case is red."""

import asyncio
from datetime import UTC, datetime, timedelta

from onedoor.domain.policy import NoticePolicy
from onedoor.domain.timezone import as_shanghai
from tests.cases import register_case, wage_arrears, wait_for
from tests.conftest import keep_history


async def party_notices(api, case_no: str) -> list[dict]:
    return (await api.get("/notices", params={"case_no": case_no, "audience": "party"})).json()["rows"]


async def test_quiet_hours_hold_a_partys_notice_but_not_a_red_cases(api, clocks, configure, handle):
    clocks()
    now = as_shanghai(datetime.now(UTC))
    ends = now + timedelta(seconds=10)
    configure(notices=NoticePolicy(quiet_from=(now - timedelta(minutes=1)).time(), quiet_until=ends.time()))
    quiet = await register_case(api)
    red = await register_case(api, wage_arrears(factors={"violence_risk": True, "people_involved": 3}))
    await wait_for(api, quiet, lambda c: c["stage"] == "dispatched")

    assert await wait_for_rows(api, red)  # red: told at once, quiet hours or not
    assert await party_notices(api, quiet) == []  # held
    await asyncio.sleep(max(0.0, (ends - as_shanghai(datetime.now(UTC))).total_seconds()))
    told = await wait_for_rows(api, quiet, {"received", "dispatched"})
    assert {row["kind"] for row in told} >= {"received", "dispatched"}
    assert all(datetime.fromisoformat(row["sent_at"]) >= ends - timedelta(seconds=1) for row in told)
    await keep_history(handle(quiet), "party_notice_held_in_quiet_hours")


async def wait_for_rows(api, case_no: str, kinds: set[str] = frozenset(), timeout: float = 20) -> list[dict]:
    """The party's notices about the case, once there are any (and of every kind asked for)."""
    for _ in range(int(timeout * 4)):
        rows = await party_notices(api, case_no)
        if rows and kinds <= {row["kind"] for row in rows}:
            return rows
        await asyncio.sleep(0.25)
    return []
