"""Which level handles a case, and the escalation ladder."""

import pytest

from onedoor.domain.labels import Category, Level, RiskGrade
from onedoor.domain.routing import DutyEntry, handling_level, level_above, route

CENTERS = {Level.VILLAGE: "v", Level.TOWNSHIP: "t", Level.COUNTY: "c"}


def test_ladder_goes_village_township_county_city_then_stops():
    assert [level_above(level) for level in Level] == [Level.TOWNSHIP, Level.COUNTY, Level.CITY, None]


@pytest.mark.parametrize(
    ("grade", "centers", "expected"),
    [
        (RiskGrade.BLUE, CENTERS, Level.VILLAGE),
        (RiskGrade.BLUE, {Level.TOWNSHIP: "t", Level.COUNTY: "c"}, Level.TOWNSHIP),  # village without a center
        (RiskGrade.YELLOW, CENTERS, Level.TOWNSHIP),
        (RiskGrade.RED, CENTERS, Level.COUNTY),
    ],
)
def test_level_by_grade(grade, centers, expected):
    assert handling_level(grade, centers) == expected


def test_no_center_anywhere_is_an_error_not_a_guess():
    with pytest.raises(LookupError):
        handling_level(RiskGrade.RED, {Level.VILLAGE: "v"})


def test_duty_list_lead_co_units_and_fallback_to_other():
    duties = [
        DutyEntry(jurisdiction_code="t", category=Category.LABOUR, unit_code="labour"),
        DutyEntry(jurisdiction_code="t", category=Category.LABOUR, unit_code="justice", lead=False),
        DutyEntry(jurisdiction_code="t", category=Category.OTHER, unit_code="justice"),
        DutyEntry(jurisdiction_code="c", category=Category.CONSUMER, unit_code="market"),
    ]
    labour = route(duties, Level.TOWNSHIP, "t", Category.LABOUR)
    assert (labour.lead_unit, labour.co_units) == ("labour", ["justice"])
    assert route(duties, Level.TOWNSHIP, "t", Category.CONSUMER).lead_unit == "justice"  # other center's line ignored
    with pytest.raises(LookupError):
        route(duties, Level.COUNTY, "c", Category.LABOUR)
