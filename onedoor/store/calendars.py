"""The centers' own calendars in the register, and the calendars a case takes with it at intake."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onedoor.domain.calendar import CalendarEntries, CaseCalendars, OfficeHours, Span, compose, missing_year_warning, spans_of, unknown_next_year
from onedoor.domain.timezone import as_shanghai
from onedoor.store.directory import centers_above, jurisdiction_and_below
from onedoor.store.tables import Case, CenterCalendar


def entries(session: Session, scope_code: str) -> CalendarEntries:
    row = session.get(CenterCalendar, scope_code)
    return CalendarEntries.model_validate(row.entries) if row else CalendarEntries()


def save(session: Session, scope_code: str, given: CalendarEntries, by: str, now: datetime) -> None:
    row = session.get(CenterCalendar, scope_code) or CenterCalendar(scope_code=scope_code)
    row.entries, row.updated_at, row.updated_by = given.model_dump(mode="json"), now, by
    session.add(row)


def all_entries(session: Session) -> list[CalendarEntries]:
    return [CalendarEntries.model_validate(row) for row in session.scalars(select(CenterCalendar.entries))]


def calendar_warning(session: Session, today: date) -> str | None:
    """From 1 November, while neither the library nor any scope's entries know next year's holidays:
    what the log at start, /healthz and the weekly report say."""
    year = unknown_next_year(today, all_entries(session))
    return missing_year_warning(year) if year else None


def open_cases_under(session: Session, scope_code: str, hours: OfficeHours) -> dict[str, CaseCalendars]:
    """Every unsettled case in a scope, with the calendars it would take at intake now: what an edit sends them."""
    rows = session.execute(select(Case.case_no, Case.township_code, Case.village_code, Case.received_at)
                           .where(Case.settled_at.is_(None), Case.township_code.in_(jurisdiction_and_below(session, scope_code))))
    return {case_no: case_calendars(session, village or township, hours, as_shanghai(received).date())
            for case_no, township, village, received in rows}


def case_calendars(session: Session, place_code: str, hours: OfficeHours, received: date) -> CaseCalendars:
    """The calendars in force for a case received now at a place: the top of its ladder's, and every
    center's below keeping entries of its own (or under one that does), laid over those above it;
    for the year of receipt and the next (a clock set in December runs into January)."""
    chain = list(reversed(centers_above(session, place_code)))  # the top first
    default_week: dict[int, list[Span]] = {day: spans_of(hours) for day in range(1, 6)}
    first, last = received.year, received.year + 1
    layers = [(center.code, session.get(CenterCalendar, center.code)) for center in chain]

    def over(rows) -> list[CalendarEntries]:
        return [CalendarEntries.model_validate(row.entries) for _, row in rows if row is not None]

    calendars = CaseCalendars(default=compose(first, last, default_week, over(layers[:1])))
    for depth, (code, _) in enumerate(layers[1:], start=2):
        if any(row is not None for _, row in layers[1:depth]):  # it or a center above it below the county keeps entries
            calendars.centers[code] = compose(first, last, default_week, over(layers[:depth]))
    return calendars
