"""Times are UTC inside onedoor and Asia/Shanghai at its edges."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as Beijing time, as operators write it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(timezone.utc)


def as_shanghai(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(SHANGHAI)
