"""Working time in China: statutory holidays and 调休 make-up workdays, office hours in Beijing time.

A case counts working time on a `WorkCalendar`: its handling center's office hours by weekday
(several spans a day, a lunch break between them), and the days that break the week's pattern
(statutory holidays, local closures, make-up workdays) for the years they are known. From revision
9 the calendar travels with the case, built at intake from the register (the center's and the
county's own entries, a State Council notice an admin imported) over `chinese_calendar`
(store/calendars.py): the arithmetic below reads only the calendar it is given, so neither a later
edit nor a library upgrade changes a recorded case. Earlier cases carry only office hours and ask
the library (`WorkCalendar.legacy`), as they did when they were recorded.

For a year whose holidays are unknown a day counts as a workday by its weekday's hours, and the
result says so, so the case shows the deadline as approximate instead of being silently wrong.
"""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import ClassVar

import chinese_calendar
from pydantic import BaseModel, Field, model_validator

from onedoor.domain.timezone import SHANGHAI, as_utc

MAX_DAYS = 3660  # ten years of calendar: a longer working-time clock is a configuration error


class OfficeHours(BaseModel):
    opens: time = Field(time(8, 30), description="上班时间：office hours open (Beijing time), Monday–Friday, where the register keeps no calendar (`/calendars/{code}`: hours per weekday, lunch break)")
    closes: time = Field(time(17, 30), description="下班时间：office hours close (Beijing time), Monday–Friday, where the register keeps no calendar")


class Span(BaseModel):
    """One stretch of office time in a day, e.g. 08:30–12:00 (the lunch break lies between spans)."""

    opens: time
    closes: time

    @model_validator(mode="after")
    def ordered(self):
        if self.opens >= self.closes:
            raise ValueError("上班时间须早于下班时间 (opens must be before closes)")
        return self


def spans_of(hours: OfficeHours) -> list[Span]:
    return [Span(opens=hours.opens, closes=hours.closes)]


class WorkCalendar(BaseModel):
    """A center's working calendar as a case carries it (all local dates and times in Beijing time)."""

    week: dict[int, list[Span]] = Field(description="ISO weekday (1 = Monday) → its office hours; a weekday absent is closed")
    holidays: dict[date, str] = Field({}, description="法定节假日 and local closures by name: closed whatever the weekday")
    workdays: dict[date, str] = Field({}, description="调休 make-up workdays and extra workdays by name: open with a Monday's hours")
    years: list[int] = Field([], description="years whose holidays and make-up workdays are known")
    library: bool = Field(False, description="cases before revision 9: the days come from chinese_calendar at run time")

    @classmethod
    def legacy(cls, hours: OfficeHours) -> "WorkCalendar":
        """Before revision 9: the policy's one span of office hours on each of the library's workdays."""
        return cls(week={day: spans_of(hours) for day in range(1, 8)}, library=True)

    @model_validator(mode="after")
    def sorted_spans(self):
        for day, spans in self.week.items():
            if not 1 <= day <= 7:
                raise ValueError(f"week: {day} 不是 ISO 星期 (1–7)")
            spans.sort(key=lambda s: s.opens)
            if any(a.closes > b.opens for a, b in zip(spans, spans[1:])):
                raise ValueError(f"week.{day}: 时段重叠 (spans overlap)")
        return self

    @property
    def workday_hours(self) -> list[Span]:
        """A make-up workday's hours, and a rota's on a weekday the center is closed: a Monday's."""
        return self.week.get(1) or next((spans for spans in self.week.values() if spans), [])

    def office(self, day: date) -> tuple[list[Span], bool]:
        """(the day's office hours, whether the day is known from a holiday calendar)."""
        if self.library:
            workday, known = library_workday(day)
            return (self.week.get(day.isoweekday(), []) if workday else []), known
        if day in self.holidays:
            return [], True
        if day in self.workdays:
            return self.workday_hours, True
        return self.week.get(day.isoweekday(), []), day.year in self.years

    def is_holiday(self, day: date) -> tuple[bool, bool]:
        """(is it a holiday or a closure, is that known): a day off the notice names, a weekend inside
        the holiday included; an ordinary weekend or a make-up workday is not one."""
        if self.library:
            return library_holiday(day)
        return day in self.holidays, day in self.holidays or day in self.workdays or day.year in self.years


def library_workday(day: date) -> tuple[bool, bool]:
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def library_holiday(day: date) -> tuple[bool, bool]:
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False, False
    return off and name is not None, True


CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


def library_year(year: int) -> tuple[dict[date, str], dict[date, str]] | None:
    """The library's holidays and make-up workdays of a year, or None for a year it does not know."""
    holidays, workdays = {}, {}
    day = date(year, 1, 1)
    try:
        while day.year == year:
            off, name = chinese_calendar.get_holiday_detail(day)
            if off and name is not None:
                holidays[day] = CHINESE_NAMES.get(name, name)
            elif not off and day.weekday() >= 5:
                workdays[day] = "调休上班"
            day += timedelta(days=1)
    except NotImplementedError:
        return None
    return holidays, workdays


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


def office_spans(start: datetime, calendar: WorkCalendar) -> Iterator[tuple[datetime, datetime, int | None]]:
    """Yield (open, close, the year if not covered) of each span of office time from start's day on,
    as aware datetimes."""
    day = start.astimezone(SHANGHAI).date()
    for _ in range(MAX_DAYS):
        spans, known = calendar.office(day)
        for span in spans:
            yield (
                datetime.combine(day, span.opens, tzinfo=SHANGHAI),
                datetime.combine(day, span.closes, tzinfo=SHANGHAI),
                None if known else day.year,
            )
        day += timedelta(days=1)
    raise ValueError(f"no end within {MAX_DAYS} days of office hours")


def add_working_time(start: datetime, length: timedelta, calendar: WorkCalendar) -> WorkingDue:
    """The moment `length` of office time after `start` (in UTC)."""
    remaining = length
    uncovered: list[int] = []
    if remaining <= timedelta(0):
        return WorkingDue(due=as_utc(start))
    for opens, closes, unknown_year in office_spans(start, calendar):
        begin = max(start, opens)
        if begin >= closes:
            continue
        if unknown_year and unknown_year not in uncovered:
            uncovered.append(unknown_year)
        if remaining <= closes - begin:
            return WorkingDue(due=as_utc(begin + remaining), uncovered_years=uncovered)
        remaining -= closes - begin
    raise AssertionError("office_spans ends by raising")


def add_working_days(start: datetime, days: int, calendar: WorkCalendar) -> WorkingDue:
    """个工作日: the close of office hours on the `days`-th working day after start's own day.

    The day a period starts is not counted and a period runs to the end of its last day, as the
    law counts periods (民事诉讼法 §85; 民法典 §201): "within 3 working days" of a Friday
    afternoon is the close of the third working day after it, whatever the hour on Friday."""
    uncovered: list[int] = []
    day = start.astimezone(SHANGHAI).date()
    if days <= 0:
        return WorkingDue(due=as_utc(start))
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        spans, known = calendar.office(day)
        if not spans:
            continue
        if not known and day.year not in uncovered:
            uncovered.append(day.year)
        days -= 1
        if days == 0:
            return WorkingDue(due=as_utc(datetime.combine(day, spans[-1].closes, tzinfo=SHANGHAI)), uncovered_years=uncovered)
    raise ValueError(f"no end within {MAX_DAYS} days of office hours")


def working_time_between(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """Office time between two moments (zero if end is not after start)."""
    total = timedelta(0)
    if end <= start:
        return total
    for opens, closes, _ in office_spans(start, calendar):
        if opens >= end:
            return total
        overlap = min(closes, end) - max(opens, start)
        total += max(overlap, timedelta(0))
    return total


class CalendarEntries(BaseModel):
    """What the register keeps for one scope, the county or one center: its office hours if it set
    them, and the days it declares, over the library's (a center's over the county's)."""

    week: dict[int, list[Span]] | None = Field(None, description="ISO weekday (1 = Monday) → office hours; unset: the scope above's")
    holidays: dict[date, str] = Field({}, description="days closed: a year's State Council holidays, a local closure")
    workdays: dict[date, str] = Field({}, description="days open: 调休 make-up workdays, an extra workday")
    years: list[int] = Field([], description="years whose State Council notice these entries hold in full")


def compose(first_year: int, last_year: int, week: dict[int, list[Span]], layers: list[CalendarEntries]) -> WorkCalendar:
    """A case's calendar for the years it may run in: the library's days, then each scope's entries
    in order (the county's, then the center's), a later entry replacing an earlier one for its day."""
    calendar = WorkCalendar(week=week)
    for year in range(first_year, last_year + 1):
        known = library_year(year)
        if known:
            calendar.holidays |= known[0]
            calendar.workdays |= known[1]
            calendar.years.append(year)
    for layer in layers:
        calendar.week = layer.week or calendar.week
        for day, name in layer.holidays.items():
            calendar.workdays.pop(day, None)
            calendar.holidays[day] = name
        for day, name in layer.workdays.items():
            calendar.holidays.pop(day, None)
            calendar.workdays[day] = name
        calendar.years = sorted(set(calendar.years) | {y for y in layer.years if first_year <= y <= last_year})
    calendar.holidays = {d: n for d, n in sorted(calendar.holidays.items()) if first_year <= d.year <= last_year}
    calendar.workdays = {d: n for d, n in sorted(calendar.workdays.items()) if first_year <= d.year <= last_year}
    return calendar


class CaseCalendars(BaseModel):
    """The calendars a case carries from intake (revision 9): the one of the top of its ladder (the
    county's entries), and that of each center on the ladder with entries of its own or inherited
    below the top; a clock counts on its handling center's."""

    default: WorkCalendar
    centers: dict[str, WorkCalendar] = {}

    def of(self, center: str | None) -> WorkCalendar:
        return self.centers.get(center or "", self.default)


def missing_year_warning(year: int) -> str:
    return (f"{year} 年节假日数据缺失：请管理员录入国务院 {year} 年节假日安排（POST /calendars/{{辖区代码}}/notices/{year}），"
            f"否则工作时间时限按周一至周五计算 (no holiday data for {year}: enter the State Council's notice)")


def unknown_next_year(today: date, entries: list[CalendarEntries]) -> int | None:
    """From 1 November, next year when neither the library nor an admin's entries know its holidays."""
    year = today.year + 1
    if today.month < 11 or library_year(year) is not None or any(year in layer.years for layer in entries):
        return None
    return year
