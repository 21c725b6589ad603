"""What a weekly report says, as a versioned document: stored in the register and served as JSON.

Figures about the week count what happened in it; figures about what stands (open red cases,
overdue units, repeat households) are taken at the report's cut-off, the week's end (or the
moment of a run inside the week), so re-running a past week gives the same numbers.
No party's name is in a report: households are shown by their file number and address.
"""

from datetime import date, datetime
from typing import Final, Literal

from pydantic import BaseModel, Field

SCHEMA: Final = "onedoor.weekly-report/v1"


class WeeklyReportRequest(BaseModel):
    """The workflow's input: a scope, and the week (its Monday) or none for the week that just ended."""

    scope_code: str
    week_start: date | None = None


class WeeklyReportSummary(BaseModel):
    """The workflow's result: enough to find and read the report."""

    scope_code: str
    week_start: date
    new_cases: int
    open_red_cases: int
    url: str


class CategoryRow(BaseModel):
    """New cases of one category, by grade (红黄蓝; ungraded: not triaged yet)."""

    category: str
    red: int = 0
    yellow: int = 0
    blue: int = 0
    ungraded: int = 0
    total: int = 0


class WeekCount(BaseModel):
    week_start: date
    new_cases: int


class HotSpot(BaseModel):
    """A place (village, or the township itself when no village was given) and a category."""

    place_code: str
    place_name: str
    category: str
    new_cases: int


class RepeatHousehold(BaseModel):
    """A household file (家庭和谐服务档案) with two or more cases up to the cut-off."""

    household_id: str
    township_code: str | None
    village_code: str | None
    address: str | None
    risk: str | None
    cases: int
    cases_this_week: int
    last_case_at: datetime


class OverdueUnit(BaseModel):
    unit_code: str
    unit_name: str
    supervision_orders: int = Field(description="督办 issued to it during the week")
    overdue_open_cases: int = Field(description="open cases where its clock had run out, at the cut-off")


class OpenRedCase(BaseModel):
    case_no: str
    category: str
    township_code: str
    township_name: str
    stage: str = Field(description="the case's stage now")
    received_at: datetime
    days_open: int = Field(description="whole days from intake to the cut-off")


class WeeklyFigures(BaseModel):
    schema_version: Literal["onedoor.weekly-report/v1"] = SCHEMA
    scope_code: str
    scope_name: str
    scope_level: str
    week_start: date
    week_end: date = Field(description="the week's Sunday")
    cut_off: datetime = Field(description="standing figures are taken at this moment")
    new_cases: int
    grades: CategoryRow = Field(description="this week's new cases by grade, all categories")
    by_category: list[CategoryRow]
    trend: list[WeekCount] = Field(description="new cases in the four weeks before and this one, oldest first")
    previous_average: float = Field(description="mean of the four weeks before")
    hot_spots: list[HotSpot]
    repeat_households: list[RepeatHousehold]
    overdue_units: list[OverdueUnit]
    open_red_cases: list[OpenRedCase]
    calendar_warning: str | None = Field(None, description="from 1 November while next year's holidays are unknown: enter the State Council's notice")
