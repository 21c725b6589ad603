"""Recorded histories replay with the current workflow code: a change that would break running
cases fails here. Record new fixtures with `ONEDOOR_RECORD_HISTORIES=1 pytest tests/`."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.dispute_case import DisputeCaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_cover_every_path_of_the_lifecycle():
    names = {path.stem for path in HISTORIES}
    assert {
        "wage_case_settled", "blue_case_settled_in_village", "township_case_open_after_delivery_retries",
        "unit_never_responds_escalated", "red_case_alert_acknowledged", "ladder_to_arbitration",
        "agreement_confirmed", "reopened_after_visit", "refused_to_litigation", "confirmation_not_applied",
        "regraded_red_moves_up", "declined", "paused_resumed_extended",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_recorded_case_replays_with_current_code(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=[DisputeCaseWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
