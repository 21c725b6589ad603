"""What the service accepts as a page offset, a date or a time: bounds the domain allows, checked
where input arrives so nothing out of range reaches the register (whose integers overflow at 2^63)
or the conversion to UTC (which overflows at year 1 and 9999) as a server error."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

FIRST_YEAR, LAST_YEAR = 2000, 2100  # no dispute, report or notice falls outside them
MAX_OFFSET = 10_000_000  # many times the cases a county registers in a lifetime


def within_years(value: date) -> date:  # a datetime too: it is a date
    # A datetime's own year, before any conversion: 2000-01-01T00:00+14:00 in UTC is still in range of datetime.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间 (year outside {FIRST_YEAR}–{LAST_YEAR})")
    return value


InYears = AfterValidator(within_years)
Day = Annotated[date, InYears]
Moment = Annotated[datetime, InYears]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
