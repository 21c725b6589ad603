"""What the case workflow keeps besides the case's own state (domain.state.CaseState)."""

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.labels import Backstop, Level


@dataclass
class LevelEnd:
    """What ended the handling at a level."""

    kind: str  # agreement | failed | refused | withdrawn | breach | regraded | lifted | declined | handover
    reason: str
    by: str
    backstop: Backstop | None = None
    to_level: Level | None = None


class CaseBase:
    pass
