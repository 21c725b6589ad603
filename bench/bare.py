"""The bare-Temporal baseline: the same number of activities and one deadline wait, no API, no
register, so each onedoor figure can be read as a ratio that holds on a noisy machine."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import activity, workflow

STAMPS: dict[str, float] = {}  # workflow id → when its "dispatch" activity ran (the bench worker is in-process)


@dataclass
class BareCase:
    activities: int  # before the wait; one more runs after it
    due: datetime  # the deadline, absolute, so a storm can share one second
    answered: bool = False


@activity.defn
async def noop() -> None:
    return None


@activity.defn
async def stamp() -> float:
    now = time.time()
    STAMPS.setdefault(activity.info().workflow_id, now)
    return now


@workflow.defn(sandboxed=False)
class BareCaseWorkflow:
    def __init__(self) -> None:
        self.answered = False

    @workflow.run
    async def run(self, case: BareCase) -> float:
        """Returns when the activity after the wait finished (Unix time)."""
        options = dict(start_to_close_timeout=timedelta(seconds=30))
        await workflow.execute_activity(stamp, **options)
        for _ in range(max(case.activities - 1, 0)):
            await workflow.execute_activity(noop, **options)
        wait = (case.due - workflow.now()).total_seconds()
        if not case.answered and wait > 0:
            try:
                await workflow.wait_condition(lambda: self.answered, timeout=wait)
            except TimeoutError:
                pass
        return await workflow.execute_activity(stamp_after, **options)

    @workflow.signal
    def answer(self) -> None:
        self.answered = True


@activity.defn
async def stamp_after() -> float:
    return time.time()
