"""免打扰: when a notice to a person sent at a given moment may go."""

from datetime import datetime, time

import pytest

from onedoor.domain.policy import NoticePolicy
from onedoor.domain.timezone import SHANGHAI


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "held"),
    [
        (bj(2026, 12, 7, 23, 10), bj(2026, 12, 8, 8, 0)),   # late evening: next morning
        (bj(2026, 12, 8, 2, 0), bj(2026, 12, 8, 8, 0)),     # after midnight: this morning
        (bj(2026, 12, 8, 8, 0), None),                      # at 08:00: at once
        (bj(2026, 12, 8, 21, 59), None),
        (bj(2026, 12, 8, 22, 0), bj(2026, 12, 9, 8, 0)),
    ],
)
def test_quiet_hours_overnight(now, held):
    answer = NoticePolicy().held_until(now)
    assert (answer.astimezone(SHANGHAI) if answer else None) == held


def test_quiet_hours_within_a_day():
    quiet = NoticePolicy(quiet_from=time(12, 0), quiet_until=time(14, 30))  # a lunchtime rest
    assert quiet.held_until(bj(2026, 12, 8, 13, 0)).astimezone(SHANGHAI) == bj(2026, 12, 8, 14, 30)
    assert quiet.held_until(bj(2026, 12, 8, 15, 0)) is None
