"""Working time in China: statutory holidays and 调休 make-up workdays, office hours in Beijing time.

The holiday data comes from `chinese_calendar` (maintained from the State Council's yearly
notices). For a year it does not cover, a day counts as a workday from Monday to Friday, and the
result says so, so the case shows the deadline as approximate instead of being silently wrong.
"""

from datetime import date, datetime, time, timedelta
from typing import ClassVar

import chinese_calendar
from pydantic import BaseModel

from domain.timezone import SHANGHAI, as_utc

MAX_DAYS = 3660  # ten years of calendar: a longer working-time clock is a configuration error


class OfficeHours(BaseModel):
    opens: time = time(8, 30)
    closes: time = time(17, 30)


class CalendarAnswer(BaseModel):
    """An answer from the calendar, and the years it had to answer without knowing their holidays."""

    uncovered_years: list[int] = []  # years whose holidays were not known
    assumed: ClassVar[str] = "按周一至周五计算，未计法定节假日和调休"  # what stood in for them

    @property
    def warning(self) -> str | None:
        if not self.uncovered_years:
            return None
        years = "、".join(str(y) for y in self.uncovered_years)
        return f"节假日数据未覆盖 {years} 年，{self.assumed} (holiday calendar does not cover {years})"


class WorkingDue(CalendarAnswer):
    due: datetime


def is_workday(day: date) -> tuple[bool, bool]:
    """(is it a workday, is that known from the official calendar)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def is_holiday(day: date) -> tuple[bool, bool]:
    """(is it a statutory holiday, is that known): a day off the State Council's notice names, a
    weekend inside the holiday included; an ordinary weekend or a make-up workday is not one."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False, False
    return off and name is not None, True


def office_spans(start: datetime, hours: OfficeHours):
    """Yield (open, close) of each workday's office hours from start's day on, as aware datetimes,
    and the years not covered by the calendar as they are met."""
    day = start.astimezone(SHANGHAI).date()
    for _ in range(MAX_DAYS):
        workday, known = is_workday(day)
        if workday:
            yield (
                datetime.combine(day, hours.opens, tzinfo=SHANGHAI),
                datetime.combine(day, hours.closes, tzinfo=SHANGHAI),
                None if known else day.year,
            )
        day += timedelta(days=1)
    raise ValueError(f"no end within {MAX_DAYS} days of office hours")


def add_working_time(start: datetime, length: timedelta, hours: OfficeHours) -> WorkingDue:
    """The moment `length` of office time after `start` (in UTC)."""
    remaining = length
    uncovered: list[int] = []
    if remaining <= timedelta(0):
        return WorkingDue(due=as_utc(start))
    for opens, closes, unknown_year in office_spans(start, hours):
        begin = max(start, opens)
        if begin >= closes:
            continue
        if unknown_year and unknown_year not in uncovered:
            uncovered.append(unknown_year)
        if remaining <= closes - begin:
            return WorkingDue(due=as_utc(begin + remaining), uncovered_years=uncovered)
        remaining -= closes - begin
    raise AssertionError("office_spans ends by raising")


def working_time_between(start: datetime, end: datetime, hours: OfficeHours) -> timedelta:
    """Office time between two moments (zero if end is not after start)."""
    total = timedelta(0)
    if end <= start:
        return total
    for opens, closes, _ in office_spans(start, hours):
        if opens >= end:
            return total
        overlap = min(closes, end) - max(opens, start)
        total += max(overlap, timedelta(0))
    return total
