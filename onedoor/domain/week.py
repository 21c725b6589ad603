"""Report weeks are Beijing weeks: Monday 00:00 Asia/Shanghai to the next Monday, stored as UTC bounds."""

from datetime import date, datetime, time, timedelta, timezone

from onedoor.domain.timezone import SHANGHAI, as_shanghai

WEEK = timedelta(days=7)


def week_of(moment: datetime) -> date:
    """The Monday (Beijing) of the week the moment falls in."""
    day = as_shanghai(moment).date()
    return day - timedelta(days=day.weekday())


def week_before(moment: datetime) -> date:
    """The last whole week before the moment: what a Monday-morning meeting reviews."""
    return week_of(moment) - WEEK


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """[start, end) of the week in UTC."""
    start = datetime.combine(monday, time(0), SHANGHAI).astimezone(timezone.utc)
    return start, start + WEEK
