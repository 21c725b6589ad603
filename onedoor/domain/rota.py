"""轮驻: a rotating unit sits at the center on its rota's weekdays, in office hours.

A case is dispatched to the unit's system at once, whatever the day (it reads the case at home),
but its response and feedback clocks start when it is next on duty: a unit on duty Monday,
Wednesday and Friday does not breach a 2 h clock over a Sunday. Only the unit's own time moves:
resident (常驻) and stationed (进驻) units have no rota, and their clocks start at dispatch.

A duty day is a day whose ISO weekday is on the rota and that is not a statutory holiday or the
center's closure (the case's calendar, domain/calendar.py: a rota Monday inside the National Day
holiday is off), in that weekday's office hours (a Monday's on a weekday the center is closed). The rota
is by weekday: a Saturday on the rota stands, and a 调休 make-up workday adds no duty day.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import ClassVar

from onedoor.domain.calendar import MAX_DAYS, CalendarAnswer, WorkCalendar
from onedoor.domain.timezone import SHANGHAI, as_utc


class DutyStart(CalendarAnswer):
    at: datetime
    assumed: ClassVar[str] = "按轮驻值班日计算，未计法定节假日"


def duty_start(now: datetime, rota: Collection[int] | None, calendar: WorkCalendar) -> DutyStart:
    """When a unit's clocks start, dispatched at `now`: at once for a unit without a rota or on duty
    now; in the morning before a duty day's office hours, at their opening; else at the opening of
    its next duty day (in UTC)."""
    if not rota:
        return DutyStart(at=now)
    local = now.astimezone(SHANGHAI)
    day, uncovered = local.date(), []
    for _ in range(MAX_DAYS):
        if day.isoweekday() in rota:
            holiday, known = calendar.is_holiday(day)
            if not known and day.year not in uncovered:
                uncovered.append(day.year)
            hours = calendar.week.get(day.isoweekday()) or calendar.workday_hours
            closes = datetime.combine(day, hours[-1].closes, tzinfo=SHANGHAI)
            if not holiday and local < closes:
                return DutyStart(at=as_utc(max(local, datetime.combine(day, hours[0].opens, tzinfo=SHANGHAI))), uncovered_years=uncovered)
        day += timedelta(days=1)
    raise ValueError(f"rota {sorted(rota)} has no duty day within {MAX_DAYS} days")
