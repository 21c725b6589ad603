"""Recorded histories replay with the current workflow code: a change that would break running
cases fails here. Record new fixtures with `ONEDOOR_RECORD_HISTORIES=1 pytest tests/`."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from onedoor.domain.revisions import Revision
from tests.conftest import CONVERTER
from workflows.dispute_case import DisputeCaseWorkflow
from workflows.household import HouseholdWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").rglob("*.json"))  # cases, and household files under household/


def test_histories_cover_every_path_of_the_lifecycle():
    names = {path.stem for path in HISTORIES}
    assert {
        "wage_case_settled", "blue_case_settled_in_village", "township_case_open_after_delivery_retries",
        "unit_never_responds_escalated", "red_case_alert_acknowledged", "ladder_to_arbitration",
        "agreement_confirmed", "reopened_after_visit", "refused_to_litigation", "confirmation_not_applied",
        "regraded_red_moves_up", "declined", "paused_resumed_extended", "family_case_linked_to_household",
        "family_red_visited_calmed_closed", "visit_then_continued_as_new", "deadline_armed_in_two_steps",
        "red_alert_window_in_two_steps", "breach_recorded_before_escalation", "regraded_red_requeued",
        "breach_task_writes_the_register_only", "visit_reminders_told_then_closed", "repeat_visits_joined", "rotating_unit_clocks_wait_for_duty_day",
        # revision 7: lateness supervised, answers after their effect, alerts where the case goes, every incident told
        "top_of_the_ladder_supervised", "breach_supervised_in_place", "breach_ordered_to_the_units_system", "regraded_red_alerts_where_it_goes",
        "declined_answered_closed", "refused_answered_on_referral", "reopened_visits_answered_after", "police_incidents_each_hear_the_case",
        # revision 8: each clock point and alert window armed with one timer after a named hand-off
        "deadline_armed_after_a_handoff", "breach_recorded_alone_after_handoffs", "paused_resumed_extended_rearmed_after_handoffs",
        "red_alert_window_after_a_handoff", "wage_case_settled_read_in_chinese",
        # revision 9: clocks on the calendar the case carries from intake, unchanged by a later edit
        "recorded_before_a_calendar_edit", "paused_until_resumed_by_itself", "party_notice_held_in_quiet_hours",
        # revision 10: the case's revision published as a search attribute
        "revision_search_attribute",
    } <= names


async def test_every_revision_replays_from_a_recorded_history():
    """Each revision in domain/revisions.py has a case recorded at it, and no case is recorded at one it no longer
    lists: a revision's code is deleted with its fixtures (the rule is in that module's docstring)."""
    recorded = set()
    for path in HISTORIES:
        if path.parent.name == "histories":  # cases; household files number their own revisions
            history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
            [started] = await CONVERTER.payload_codec.decode(history.events[0].workflow_execution_started_event_attributes.input.payloads)
            recorded.add(json.loads(started.data).get("revision", 1))
    assert recorded == set(Revision)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_recorded_case_replays_with_current_code(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[DisputeCaseWorkflow, HouseholdWorkflow], data_converter=CONVERTER)  # old fixtures are in clear: they pass through
    await replayer.replay_workflow(history)
